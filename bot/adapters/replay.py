"""The replay adapter: a JSONL transcript in, what the bot says out, one JSON object a line.

The format is fixed (README, "Replay format") so tests, demos and benchmarks can rely
on it. A bad line is reported on stderr with its number and skipped; the run goes on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, TextIO

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot.adapters.base import AlwaysOnline
from bot.clock import FakeClock, supported
from core.effects import Effect, EffectKind
from core.events import ContentKind, Event, EventKind


class _Line(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    at: AwareDatetime
    group: str = Field(min_length=1)
    group_name: str | None = None
    name: str = ""

    def to_event(self) -> Event:
        return Event(
            kind=EventKind(self.kind),
            group=self.group,
            at=self.at,
            name=self.name,
            group_name=self.group_name,
            **self._own_fields(),
        )

    def _own_fields(self) -> dict[str, Any]:
        """The Event fields this kind of line carries besides the common ones."""
        raise NotImplementedError


class MessageLine(_Line):
    kind: Literal["message"]
    sender: str = Field(min_length=1)
    text: str
    mentions: list[str] = Field(default_factory=list)
    id: str | None = Field(default=None, min_length=1, max_length=128)
    content: Literal["text"] | ContentKind = "text"  # a picture, a mini-program card …
    codes: list[str] = Field(default_factory=list)  # what QR codes in a picture say

    def _own_fields(self) -> dict[str, Any]:
        return {
            "member": self.sender,
            "text": self.text if self.content == "text" else "",
            "content": str(self.content),
            "codes": tuple(self.codes),
            "mentions": tuple(self.mentions),
            "source_id": self.id,
        }


class JoinLine(_Line):
    kind: Literal["join"]
    member: str = Field(min_length=1)
    inviter: str | None = None

    def _own_fields(self) -> dict[str, Any]:
        return {"member": self.member, "inviter": self.inviter}


class LeaveLine(_Line):
    kind: Literal["leave"]
    member: str = Field(min_length=1)

    def _own_fields(self) -> dict[str, Any]:
        return {"member": self.member}


_LINE = TypeAdapter[MessageLine | JoinLine | LeaveLine](
    Annotated[MessageLine | JoinLine | LeaveLine, Field(discriminator="kind")]
)


class ReplayLineError(ValueError):
    pass


def parse_line(text: str) -> Event:
    """One transcript line to an Event, or a ReplayLineError that says what is wrong."""
    try:
        return _LINE.validate_json(text).to_event()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReplayLineError(f"{where}: {first['msg']}" if where else first["msg"]) from None


def _decoded(raw: str | bytes) -> str:
    """A line read as bytes, decoded on its own: one bad byte costs that line, not the run."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReplayLineError(
            f"not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1})"
        ) from None


_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps makes one per call


def effect_to_json(effect: Effect) -> str:
    """A message as ``{at, group, text, mentions}``; a removal as ``{at, group, remove}``."""
    line: dict[str, Any] = {"at": effect.at.isoformat(), "group": effect.group}
    if effect.kind is EffectKind.REMOVE_MEMBER:
        line["remove"] = effect.member
    else:
        line |= {"text": effect.text, "mentions": list(effect.mentions)}
    return _ENCODE(line)


class ReplayAdapter(AlwaysOnline):
    """Reads a transcript; the fake clock follows each line's ``at``."""

    def __init__(
        self, lines: Iterable[str | bytes], out: TextIO, err: TextIO, clock: FakeClock
    ) -> None:
        self._lines = lines
        self._out = out
        self._err = err
        self._clock = clock
        self.bad_lines = 0

    async def events(self) -> AsyncIterator[Event]:
        last: datetime | None = None
        for number, raw in enumerate(self._lines, start=1):
            if not raw.strip():
                continue
            try:
                event = parse_line(_decoded(raw))
                supported(event.at)
                if last is not None and event.at < last:
                    raise ReplayLineError(
                        f"time goes backwards ({event.at.isoformat()} after {last.isoformat()})"
                    )
            except ValueError as error:  # ReplayLineError, or a time past the supported range
                self.bad_lines += 1
                print(f"line {number}: {error}; skipped", file=self._err)
                continue
            last = event.at
            self._clock.set(event.at)
            self.on_event(event)
            yield event

    def on_event(self, event: Event) -> None:
        """Hook for adapters that show the transcript as it plays (the demo)."""

    async def perform(self, effect: Effect) -> None:
        print(effect_to_json(effect), file=self._out, flush=True)
