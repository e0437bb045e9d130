"""Injectable time, so tests and transcripts can run a week of mornings in milliseconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol

# The latest time a clock may show: a year short of datetime.max, so that any window, grace
# or retry added to "now" stays in the calendar instead of raising OverflowError.
LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def supported(when: datetime) -> datetime:
    """``when`` if a clock may show it; else a ValueError saying why (a user's typo, often)."""
    if when.tzinfo is None:
        raise ValueError("the clock needs a timezone-aware time")
    # Any offset is within a day: only the last two years need the (slower) aware compare.
    if when.year >= LATEST.year - 1 and when >= LATEST:
        raise ValueError(f"{when.isoformat()} is past the last supported time ({LATEST.date()})")
    return when


def moved(when: datetime, delta: timedelta) -> datetime:
    """``when`` moved by ``delta``, within the supported range (ValueError otherwise)."""
    try:
        return supported(when + delta)
    except OverflowError:
        raise ValueError(f"{when.isoformat()} moved by {delta} is past the calendar") from None


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
        self._now = supported(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = supported(when)

    def advance(self, delta: timedelta) -> None:
        self._now = moved(self._now, delta)

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
        self._offset = supported(when) - datetime.now(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset = moved(self.now(), delta) - super().now()
