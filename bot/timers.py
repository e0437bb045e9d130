"""One-shot wake-ups the dispatcher owes (a welcome batch closing, later: scheduled jobs).

Event time drives them: before handling an event at time T, everything due by T fires
first, in order, so a transcript and a live run see the same sequence.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from itertools import count

from core.jobs import Tick


class Timers:
    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Tick]] = []  # the counter keeps ties in order
        self._due: dict[Tick, datetime] = {}
        self._order = count()
        # The heap's head is a live request. A request only ever pushes an earlier time than
        # the one it replaces, so only a pop can bring a stale entry to the head.
        self._clean = True

    def wake(self, at: datetime, job: Tick) -> None:
        """Ask for ``job`` at ``at``; an earlier request for the same job wins."""
        current = self._due.get(job)
        if current is not None and current <= at:
            return
        self._due[job] = at
        heapq.heappush(self._heap, (at, next(self._order), job))

    def next_due(self) -> datetime | None:
        self._discard_stale()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: datetime) -> tuple[datetime, Tick] | None:
        """The earliest job due by ``now``, removed; None when nothing is due."""
        self._discard_stale()
        if not self._heap or self._heap[0][0] > now:
            return None
        at, _, job = heapq.heappop(self._heap)
        del self._due[job]
        self._clean = False
        return at, job

    def _discard_stale(self) -> None:
        if self._clean:
            return
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        self._clean = True
