"""A sending worker to kill: ``python burst_child.py DB_URL OUT N`` drains N messages.

Each performed message's text is appended to OUT with one unbuffered write, as a platform
would show it, so the parent can kill the process at any point of the burst and count.
Enqueueing is idempotent (keyed), so a restart runs the same command.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from loguru import logger

from bot.adapters.base import AlwaysOnline
from bot.clock import SystemClock
from bot.outbox import Outbox, Pacing
from core.effects import Effect
from core.events import Event
from storage.store import Store


class AppendingAdapter(AlwaysOnline):
    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    async def events(self) -> AsyncIterator[Event]:  # pragma: no cover - never read
        return
        yield

    async def perform(self, effect: Effect) -> None:
        os.write(self._fd, f"{effect.text}\n".encode())


def main(url: str, out: str, count: int) -> None:
    logger.remove()
    store = Store(url)
    at = datetime(2026, 11, 24, tzinfo=UTC)
    with store.transaction() as tx:
        tx.enqueue([Effect("g1", f"m{n}", at, key=f"burst:{n}") for n in range(count)])
    outbox = Outbox(store, AppendingAdapter(out), SystemClock(), Pacing.immediate(), _utc)
    asyncio.run(outbox.send_due())
    store.close()


def _utc(group: str) -> ZoneInfo:
    return ZoneInfo("UTC")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
