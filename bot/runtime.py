"""The event loop: adapters feed one queue, one dispatcher drains it in batches.

Batching is group commit: everything queued while the previous batch was being handled
goes into the next batch's single transaction, together with its outgoing messages; the
outbox sends them only after that commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from loguru import logger

from bot.adapters.base import Adapter
from bot.clock import Clock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox
from core.events import Event, EventKind

_END = None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """``live_timers``: wake on the clock while no event comes (console, WeChat);
    ``background_outbox``: a paced worker sends, so slow sends never hold up dispatch;
    ``drain_at_end``: when the events end, fire the timers still owed (transcripts)."""

    batch_size: int = 256
    live_timers: bool = False
    background_outbox: bool = False
    drain_at_end: bool = True
    poll_seconds: float = 0.5
    job_store_every: int = 10


def _in_time_order(batch: list[Event], dispatcher: Dispatcher) -> Iterator[list[Event]]:
    """A transcript's batch cut where timer work falls due, that work first on its own.

    The outbox sends a batch's answers before its scheduled posts (lower priority), so a
    batch spanning 08:00 would print the 08:00 briefing after the 08:01 answers. Here the
    work due before an event is decided and delivered first, by a tick at the event's time
    (the live clock's path), so output follows the time the bot says it.
    """
    rest = batch
    while rest:
        due = dispatcher.next_due()
        if due is not None and due <= rest[0].at:
            yield [Event(kind=EventKind.TICK, group="", at=rest[0].at)]
            due = dispatcher.next_due()
        # At least one event each round: the loop ends even if the timers did not move.
        cut = 1 + next(
            (i for i, e in enumerate(rest[1:]) if due is not None and e.at >= due), len(rest) - 1
        )
        yield rest[:cut]
        rest = rest[cut:]


async def run(
    adapter: Adapter, dispatcher: Dispatcher, outbox: Outbox, clock: Clock, options: RunOptions
) -> None:
    """Run until the adapter's event stream ends."""
    # Bounded: a transcript is read as fast as it is handled, not parsed whole up front.
    queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=options.batch_size * 4)
    poke = asyncio.Event()
    # A live clock is "now" from the start; a transcript's clock starts at its first line.
    restored = options.live_timers
    if restored:
        dispatcher.restore(clock.now())

    async def produce() -> None:
        try:
            async for event in adapter.events():
                await queue.put(event)
        finally:
            await queue.put(_END)

    async def tick() -> None:
        rounds = 0
        while True:
            await asyncio.sleep(options.poll_seconds)
            rounds += 1
            dispatcher.reload_if_changed(clock.now())
            if rounds % options.job_store_every == 0:
                dispatcher.jobs.reload()  # broadcasts the CLI added or cancelled meanwhile
                dispatcher.reload_grants()  # and roles it granted or revoked
            due = dispatcher.next_due()
            if due is not None and due <= clock.now():
                await queue.put(Event(kind=EventKind.TICK, group="", at=clock.now()))

    async def deliver_forever() -> None:
        while True:
            poke.clear()
            await outbox.send_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(poke.wait(), options.poll_seconds)

    async def settled() -> None:
        if dispatcher.jobs.unsaved:  # rare: most batches change no schedule
            await asyncio.to_thread(dispatcher.settle)

    async def delivered() -> None:
        if options.background_outbox:
            poke.set()
        else:
            await outbox.send_due()

    tasks = [asyncio.create_task(produce(), name="adapter-events")]
    if options.live_timers:
        tasks.append(asyncio.create_task(tick(), name="timers"))
    if options.background_outbox:
        tasks.append(asyncio.create_task(deliver_forever(), name="outbox"))
    try:
        await delivered()  # what a previous run decided but did not send
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
                if not restored:
                    dispatcher.restore(batch[0].at)
                    restored = True
                for part in [batch] if options.live_timers else _in_time_order(batch, dispatcher):
                    dispatcher.process(part)
                    await delivered()
                await settled()
        if options.drain_at_end:
            fired = dispatcher.drain()
            if fired:
                # The transcript is over but its clock runs on to the last timer it owes.
                await clock.sleep((max(r.at for r in fired) - clock.now()).total_seconds())
            await delivered()
            await settled()
        await tasks[0]
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        logger.debug("runtime stopped")
