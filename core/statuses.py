"""The states stored rows move through, named once (the database keeps their text)."""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BroadcastStatus(StrEnum):
    UNCONFIRMED = "unconfirmed"  # to every group: waits for /confirm
    SCHEDULED = "scheduled"
    DONE = "done"
    FAILED = "failed"  # a one-off none of whose groups could be rendered
    CANCELLED = "cancelled"


class Outcome(StrEnum):
    """How an audited operation ended."""

    OK = "ok"
    ERROR = "error"
    REFUSED = "refused"
