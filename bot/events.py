"""The platform-neutral event model: the only shape the engine ever sees.

Adapters translate platform traffic into :class:`Event` and :class:`Reply` back, so
nothing behind an adapter imports platform code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class EventKind(StrEnum):
    MESSAGE = "message"
    JOIN = "join"
    LEAVE = "leave"
    TOPIC = "topic"
    TICK = "tick"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a group.

    ``member`` is who the event is about: the speaker of a message, the member who
    joined or left, who renamed the group (``topic``, with the new name in ``group_name``).
    A ``tick`` carries the timer ``job`` that is due and no member. ``content`` says what a
    message holds besides text ("image", "voice", …): such messages are recorded, and no
    rule reads them. ``at`` is always timezone-aware.
    """

    kind: EventKind
    group: str
    at: datetime
    member: str = ""
    name: str = ""
    text: str = ""
    mentions: tuple[str, ...] = ()
    inviter: str | None = None
    group_name: str | None = None
    job: str | None = None
    content: str = "text"

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Event.at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot says in a group; ``rule`` names the rule that decided it, for logs.

    ``key`` makes the decision idempotent (a briefing per group and day); ``priority``
    orders the outbox: replies to members (0) go before broadcasts.
    """

    group: str
    text: str
    at: datetime
    mentions: tuple[str, ...] = ()
    rule: str | None = field(default=None, compare=False)
    key: str | None = None
    priority: int = 0
