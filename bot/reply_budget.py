"""How much one member can make the bot say: a budget of replies per window, and no repeats.

A member who floods (签到 two hundred times, one question over and over) must not spend the
account's sending budget nor push other members' answers back. Within ``sending.member_window``
each member gets at most ``sending.member_budget`` replies, and a reply word for word the same
as one they already got in the window is not sent again (a second "already checked in").
What the rules decided still happens (the state is recorded); only the reply is held back.
Operators and admins are not counted. The counts live in memory: a restart forgives.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from loguru import logger

from core.effects import Effect, EffectKind

_MEMBERS_KEPT = 10_000  # members tracked before the quiet ones are forgotten


class ReplyBudget:
    def __init__(self, limits: Callable[[], tuple[int, timedelta]]) -> None:
        """``limits`` gives (budget, window) now: a config reload applies at once."""
        self._limits = limits
        self._sent: dict[tuple[str, str], deque[tuple[datetime, str]]] = {}
        self._warned: dict[tuple[str, str], datetime] = {}
        self._cap = _MEMBERS_KEPT

    def admit(self, effects: Sequence[Effect], exempt: Callable[[str, str], bool]) -> list[Effect]:
        """The effects that may go out; ``exempt(group, member)`` spares staff."""
        budget, window = self._limits()
        admitted = []
        for effect in effects:
            member = effect.requester
            if member is None or effect.kind is not EffectKind.SEND_TEXT or effect.priority:
                admitted.append(effect)
                continue
            if len(self._sent) > self._cap:
                self._forget(effect.at, window)
            key = (effect.group, member)
            recent = self._sent.setdefault(key, deque())
            while recent and effect.at - recent[0][0] >= window:
                recent.popleft()
            if exempt(effect.group, member):
                admitted.append(effect)
            elif any(text == effect.text for _, text in recent):
                logger.bind(group=effect.group, member=member, rule=effect.rule).debug(
                    "the same reply again within {}: not sent", window
                )
            elif len(recent) >= budget:
                self._warn(key, effect, budget, window)
            else:
                recent.append((effect.at, effect.text))
                admitted.append(effect)
        return admitted

    def _warn(self, key: tuple[str, str], effect: Effect, budget: int, window: timedelta) -> None:
        """One log line per member and window, not one per held-back reply."""
        last = self._warned.get(key)
        if last is None or effect.at - last >= window:
            self._warned[key] = effect.at
            logger.bind(group=effect.group, member=key[1], rule=effect.rule).warning(
                "{} replies within {} reached: further replies to this member are held back",
                budget,
                window,
            )

    def _forget(self, now: datetime, window: timedelta) -> None:
        """Members quiet for a whole window: their entries go, so memory stays bounded."""
        quiet = [
            k for k, recent in self._sent.items() if not recent or now - recent[-1][0] >= window
        ]
        for key in quiet:
            del self._sent[key]
            self._warned.pop(key, None)
        self._cap = max(_MEMBERS_KEPT, 2 * len(self._sent))
