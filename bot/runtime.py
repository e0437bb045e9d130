"""The event loop: adapters feed one queue, one dispatcher drains it in batches.

Batching is group commit: everything queued while the previous batch was being handled
goes into the next batch's single transaction, and replies leave only after it commits.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from loguru import logger

from bot.adapters.base import Adapter
from bot.clock import Clock
from bot.dispatcher import Dispatcher
from bot.events import Event, EventKind

_END = None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """``live_timers``: wake on the wall clock (console, WeChat); transcripts drain instead."""

    batch_size: int = 256
    live_timers: bool = False
    drain_at_end: bool = True
    timer_poll_seconds: float = 0.5


async def run(adapter: Adapter, dispatcher: Dispatcher, clock: Clock, options: RunOptions) -> None:
    """Run until the adapter's event stream ends."""
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    dispatcher.restore()

    async def produce() -> None:
        try:
            async for event in adapter.events():
                await queue.put(event)
        finally:
            await queue.put(_END)

    async def tick() -> None:
        while True:
            await asyncio.sleep(options.timer_poll_seconds)
            due = dispatcher.timers.next_due()
            if due is not None and due <= clock.now():
                await queue.put(Event(kind=EventKind.TICK, group="", at=clock.now()))

    producer = asyncio.create_task(produce(), name="adapter-events")
    ticker = asyncio.create_task(tick(), name="timers") if options.live_timers else None
    try:
        ended = False
        while not ended:
            batch: list[Event] = []
            item = await queue.get()
            while True:
                if item is _END:
                    ended = True
                    break
                batch.append(item)
                if len(batch) >= options.batch_size or queue.empty():
                    break
                item = queue.get_nowait()
            if batch:
                for reply in dispatcher.process(batch):
                    await adapter.send(reply)
        if options.drain_at_end:
            for reply in dispatcher.drain():
                await adapter.send(reply)
        await producer
    finally:
        for task in (producer, ticker):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        logger.debug("runtime stopped")
