"""Injectable time, so tests and transcripts can run a week of mornings in milliseconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass on this clock."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


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

    async def sleep(self, seconds: float) -> None:
        """Time jumps instead of passing: a week of paced sends takes no real time."""
        self._now += timedelta(seconds=max(seconds, 0.0))
        await asyncio.sleep(0)


class OffsetClock(SystemClock):
    """Real time shifted by an offset: the console's clock, which keeps ticking after ``/clock``."""

    def __init__(self) -> None:
        self._offset = timedelta()

    def now(self) -> datetime:
        return super().now() + self._offset

    def set(self, when: datetime) -> None:
        self._offset = when - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta
