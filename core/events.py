"""The platform-neutral event model: the only shape the engine ever sees.

Adapters translate platform traffic into :class:`Event` (and perform
:class:`core.effects.Effect` back), so nothing behind an adapter imports platform code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.jobs import Tick

NAME_MAX = 256
"""The longest display name kept (the store's name columns): longer ones are cut."""

# C0 control characters but tab, newline and carriage return: invisible in a chat, and
# PostgreSQL refuses NUL in text, which would lose the whole event there and not on SQLite.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def clean_text(text: str) -> str:
    """Platform text as every part of the bot may keep it: without control characters."""
    return _CONTROL.sub("", text)


def clean_name(name: str) -> str:
    """A display name without control characters, cut to :data:`NAME_MAX`."""
    return clean_text(name)[:NAME_MAX]


class EventKind(StrEnum):
    MESSAGE = "message"
    JOIN = "join"
    LEAVE = "leave"
    TOPIC = "topic"
    TICK = "tick"


class ContentKind(StrEnum):
    """What a message holds besides text (``Event.content``), as the puppet service names it."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    EMOTICON = "emoticon"
    URL = "url"  # a shared link card
    MINI_PROGRAM = "mini_program"
    ATTACHMENT = "attachment"  # a file
    CONTACT = "contact"  # a shared contact card
    RED_ENVELOPE = "red_envelope"
    TRANSFER = "transfer"
    LOCATION = "location"
    CHAT_HISTORY = "chat_history"
    POST = "post"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in a group.

    ``member`` is who the event is about: the speaker of a message, the member who
    joined or left, who renamed the group (``topic``, with the new name in ``group_name``).
    A ``tick`` carries the timer job that is due (``tick``) and no member. ``content`` says what a
    message holds besides text ("image", "voice", …): such messages are recorded, and no
    rule reads them. ``at`` is always timezone-aware. Texts and names are cleaned here, the
    one edge every adapter passes (see :func:`clean_text`), so both store backends and the
    replies keep the same data.
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
    tick: Tick | None = None
    content: str = "text"
    # What QR codes in a picture say (``content`` "image"), when the adapter could read them.
    codes: tuple[str, ...] = ()
    # The platform's id of the message, when it has one: a redelivery is handled once.
    source_id: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("Event.at must be timezone-aware")
        object.__setattr__(self, "text", clean_text(self.text))
        object.__setattr__(self, "name", clean_name(self.name))
        if self.group_name is not None:
            object.__setattr__(self, "group_name", clean_name(self.group_name))
