"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

# An event's time is written by several statements (the interaction, the check-in, the
# ledger, the outbox), each flushed for the whole batch in turn: its text is made once per
# object, for every column of every statement. Bounded: a batch's worth and more.
_TEXTS: dict[int, tuple[datetime, str]] = {}
_TEXTS_KEPT = 4096


class UtcDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC and gives them back aware.

    SQLite has no time zones, so one convention for both backends keeps day boundaries
    (computed in each group's own zone) from drifting between databases.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to the store; pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, the conversion and SQLAlchemy's text format in one step.

        A message writes several timestamps; chaining this type's conversion with the
        dialect's formatter cost about a tenth of a check-in. The text is the same
        (``YYYY-MM-DD HH:MM:SS.ffffff``, what SQLite's DATETIME reads back).
        """
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_text(value: datetime | None) -> str | None:
            if value is None:
                return None
            known = _TEXTS.get(id(value))
            if known is not None:  # the entry keeps its object alive: the id is still its
                return known[1]
            if value.tzinfo is None:
                raise ValueError("naive datetime passed to the store; pass an aware one")
            utc = value if value.tzinfo is UTC else value.astimezone(UTC)
            # "+00:00" cut off the end: a fifth cheaper than making it naive first.
            text = utc.isoformat(" ", "microseconds")[:-6]
            if len(_TEXTS) >= _TEXTS_KEPT:
                _TEXTS.clear()
            _TEXTS[id(value)] = (value, text)
            return text

        return to_text

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, the text read straight into an aware datetime (C's ISO parser), not
        through SQLAlchemy's pattern match and then this type's conversion."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def to_datetime(value: str | None) -> datetime | None:
            return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)

        return to_datetime

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def utc_field(*, nullable: bool = False, index: bool = False) -> object:
    """A SQLModel field stored as :class:`UtcDateTime`."""
    return Field(sa_column=Column(UtcDateTime(), nullable=nullable, index=index))
