"""Injectable time, so tests and transcripts can run a week of mornings in milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (replay transcripts, tests)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock.set needs a timezone-aware time")
        self._now = when

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """Real time shifted by an offset: the console's clock, which keeps ticking after ``/clock``."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        self._offset = when - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta
