"""The console adapter: an admin plays members of a simulated group to try the rules.

``alice: 签到`` speaks as alice; slash commands join, leave, move the clock and switch
groups. Moving the clock lets the admin skip a burst window or jump to tomorrow.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, time, timedelta
from typing import Protocol, TextIO
from zoneinfo import ZoneInfo

from bot.adapters.base import AlwaysOnline
from bot.clock import moved, supported
from core.effects import Effect
from core.events import Event, EventKind
from triggers.schema_types import parse_duration

HELP = """\
  alice: 签到                 speak as member "alice"
  /join bob [by alice]        bob joins (invited by alice)
  /leave bob                  bob leaves
  /clock 2026-11-24 08:00     set the clock (the group's local time; never backwards)
  /clock 09:00                the next 09:00 (today's, else tomorrow's)
  /clock +30s | +10m | +1d    move the clock forward (over a week: as if the bot was down)
  /group g2                   switch to group g2 (one the config lists)
  /help                       this help
  /quit                       leave (Ctrl-D works too)"""

_CLOCK_USAGE = (
    "/clock takes a local date and time (2026-11-24 08:00), a time of day (09:00: the next "
    "one) or a step forward (+30s, +10m, +1d)"
)
_TIME_OF_DAY = re.compile(r"^(\d{1,2}):(\d{2})$")
_SPEAK = re.compile(r"^\s*([^:：\s][^:：]*?)\s*[:：]\s*(.+)$")


class SettableClock(Protocol):
    def now(self) -> datetime: ...

    def set(self, when: datetime) -> None: ...

    def advance(self, delta: timedelta) -> None: ...


class ConsoleAdapter(AlwaysOnline):
    def __init__(
        self,
        stdin: TextIO,
        stdout: TextIO,
        clock: SettableClock,
        zone_of: Callable[[str], ZoneInfo],
        group: str,
        groups: Sequence[str] = (),
    ) -> None:
        """``groups``: the groups the config lists (empty: it serves any group)."""
        self._in = stdin
        self._out = stdout
        self._clock = clock
        self._zone_of = zone_of
        self.group = group
        self._groups = tuple(groups)

    def _say(self, text: str) -> None:
        print(text, file=self._out, flush=True)

    async def events(self) -> AsyncIterator[Event]:
        self._say(f"qunbot chat · group {self.group} · {self._local_now():%Y-%m-%d %H:%M} · /help")
        while True:
            line = await asyncio.to_thread(self._in.readline)
            if not line:
                return
            line = line.strip()
            if line in ("/quit", "/exit"):
                return
            if not line:
                continue
            event = self.parse(line)
            if event is not None:
                yield event

    def parse(self, line: str) -> Event | None:
        """One line of input to an Event; commands that only change the console return None."""
        if line.startswith("/"):
            return self._command(line)
        spoken = _SPEAK.match(line)
        if spoken is None:
            self._say("  ? type `name: message` to speak as a member, /help for commands")
            return None
        member, text = spoken.group(1), spoken.group(2)
        return Event(
            kind=EventKind.MESSAGE,
            group=self.group,
            group_name=self.group,
            at=self._clock.now(),
            member=member,
            name=member,
            text=text,
        )

    def _command(self, line: str) -> Event | None:
        try:
            words = shlex.split(line)
        except ValueError as error:
            self._say(f"  ? {error}")
            return None
        name, args = words[0].lower(), words[1:]
        if name == "/help":
            self._say(HELP)
        elif name == "/join" and len(args) in (1, 3) and (len(args) == 1 or args[1] == "by"):
            inviter = args[2] if len(args) == 3 else None
            self._say(
                "  (joins share one welcome when the burst window closes; /clock +1m skips ahead)"
            )
            return Event(
                kind=EventKind.JOIN,
                group=self.group,
                group_name=self.group,
                at=self._clock.now(),
                member=args[0],
                name=args[0],
                inviter=inviter,
            )
        elif name == "/leave" and len(args) == 1:
            return Event(
                kind=EventKind.LEAVE,
                group=self.group,
                group_name=self.group,
                at=self._clock.now(),
                member=args[0],
            )
        elif name == "/group" and len(args) == 1:
            self._switch_group(args[0])
        elif name == "/clock" and args:
            return self._move_clock(" ".join(args))
        else:
            self._say(f"  ? unknown or incomplete command {line!r}; /help lists them")
        return None

    def _switch_group(self, group: str) -> None:
        """Only to a group the bot serves: in any other, nothing would ever answer."""
        if self._groups and group not in self._groups:
            listed = ", ".join(self._groups)
            self._say(
                f"  ? group {group!r} is not in the config, so the bot ignores it; try: {listed}"
            )
            return
        self.group = group
        self._say(f"  now in group {self.group}")

    def _move_clock(self, spec: str) -> Event | None:
        """Forward only: going back would let a member check in twice for one day."""
        now = self._clock.now()
        try:
            when = self._clock_target(spec, now)
        except ValueError as error:
            self._say(f"  ? {error}")
            return None
        if when < now:
            self._say(f"  ? the clock only moves forward; it is {self._local_now():%Y-%m-%d %H:%M}")
            return None
        self._clock.set(when)
        self._say(f"  clock: {self._local_now():%Y-%m-%d %H:%M:%S} ({self._zone_of(self.group)})")
        return Event(
            kind=EventKind.TICK, group=self.group, group_name=self.group, at=self._clock.now()
        )

    def _clock_target(self, spec: str, now: datetime) -> datetime:
        """The time ``/clock spec`` asks for; a ValueError with the usage when it is not one."""
        zone = self._zone_of(self.group)
        if spec.startswith("+"):
            try:
                step = parse_duration(spec[1:])
            except ValueError:
                raise ValueError(_CLOCK_USAGE) from None
            return moved(now, step)
        if hour_minute := _TIME_OF_DAY.match(spec):
            wanted = time(int(hour_minute[1]), int(hour_minute[2]))
            local = datetime.combine(now.astimezone(zone).date(), wanted, tzinfo=zone)
            return supported(local if local >= now else local + timedelta(days=1))
        try:
            local = datetime.fromisoformat(spec)
        except ValueError:
            raise ValueError(_CLOCK_USAGE) from None
        return supported(local if local.tzinfo else local.replace(tzinfo=zone))

    def _local_now(self) -> datetime:
        return self._clock.now().astimezone(self._zone_of(self.group))

    async def perform(self, effect: Effect) -> None:
        local = effect.at.astimezone(self._zone_of(effect.group))
        body = effect.describe().replace("\n", "\n      ")
        self._say(f"  🤖 [{effect.group} {local:%H:%M}] {body}")
