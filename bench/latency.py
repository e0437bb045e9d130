"""[latency] An offered load of 1,000 events/s: how long from arrival to reply-ready.

The simulation: events get Poisson arrival times (1,000/s on average) on a simulated clock
whose time is *real processing time plus skipped idle time*. The bot runs as ``qunbot run``
does (``runtime.run`` with live timers and the paced outbox in the background) on an
adapter that hands over each event once its arrival time has come. Whenever the dispatcher
has caught up with everything that arrived, the clock jumps to the next arrival instead of
waiting, so 30 s of traffic takes only as long as its processing; while the dispatcher is
busy, events keep arriving in (real) time and wait in the queue. The dispatcher takes what
has arrived as its next batch (at most ``batch_size``). An event is reply-ready when its
batch has committed (its replies are outbox rows from then on): latency is the simulated
time from its arrival to the return of ``Dispatcher.process`` for its batch. The first
``warmup`` seconds are not counted (first-use compilation, empty caches). The harness
keeps no per-event objects while the bot runs (arrivals are plain tuples, latencies are
tallied as batches commit), so the garbage collector sees the bot's heap, not ours.

Baseline: the same simulation with plain sqlite3 inserting one row per event, one
transaction per batch (WAL, synchronous=FULL, same disk).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.core import (
    RAW_INSERT,
    RAW_INTERACTIONS_DDL,
    BenchContext,
    Result,
    Target,
    percentile,
    raw_sqlite,
    sqlite_url,
)
from bench.generate import START, ConfigSpec, make_config
from bench.transcripts import TranscriptSpec, events
from bot import heap
from bot.adapters.base import AlwaysOnline
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from bot.runtime import RunOptions
from bot.runtime import run as run_bot
from core.effects import Effect
from core.events import Event, EventKind
from storage.store import Store
from triggers.engine import Engine
from triggers.loader import compile_text

NAME = "latency"

# An arrival: seconds after the start, kind, group, member, name, text, inviter. Tuples of
# strings and numbers, which the garbage collector stops tracking.
Arrival = tuple[float, str, str, str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class Params:
    rate: float
    seconds: float
    warmup: float
    groups: int = 100
    members: int = 500
    batch_size: int = RunOptions().batch_size

    @classmethod
    def full(cls) -> Params:
        return cls(rate=1_000, seconds=30, warmup=2)

    @classmethod
    def quick(cls) -> Params:
        return cls(rate=1_000, seconds=3, warmup=0.5, groups=20, members=100)


class SimClock:
    """Simulated time: real elapsed time plus the idle gaps that were skipped."""

    def __init__(self, start: datetime) -> None:
        self._start = start
        self._origin = time.perf_counter()
        self._skipped = 0.0

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.perf_counter() - self._origin + self._skipped)

    def skip_to(self, when: datetime) -> None:
        gap = (when - self.now()).total_seconds()
        if gap > 0:
            self._skipped += gap

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


class GcTimer:
    """Times the garbage collector's pauses while in the ``with`` block."""

    def __init__(self) -> None:
        self.all: list[float] = []
        self.full: list[float] = []
        self._began = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
            return
        pause = time.perf_counter() - self._began
        self.all.append(pause)
        if info.get("generation") == 2:
            self.full.append(pause)

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


@dataclass
class Tally:
    """Latencies of the counted events as their batches commit; batch sizes; the end."""

    counted_from: datetime
    latencies: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    last_commit: datetime | None = None

    def committed(self, done: datetime, ats: Sequence[datetime]) -> None:
        self.sizes.append(len(ats))
        self.last_commit = done
        self.latencies += [(done - at).total_seconds() for at in ats if at >= self.counted_from]


def to_event(arrival: Arrival, start: datetime) -> Event:
    offset, kind, group, member, name, text, inviter = arrival
    at = start + timedelta(seconds=offset)
    if kind == "message":
        return Event(EventKind.MESSAGE, group, at, member, name, text)
    return Event(EventKind(kind), group, at, member, name, inviter=inviter)


class ArrivalAdapter(AlwaysOnline):
    """Hands each event to the runtime once the simulated clock reaches its arrival."""

    def __init__(self, arrivals: list[Arrival], start: datetime, clock: SimClock) -> None:
        self._arrivals = arrivals
        self._start = start
        self._clock = clock
        self.sent = 0

    async def events(self) -> AsyncIterator[Event]:
        for arrival in self._arrivals:
            event = to_event(arrival, self._start)
            if self._clock.now() < event.at:
                # Let the dispatcher take and handle everything queued so far; the queue
                # only empties when it has, and then the bot idles until this arrival.
                await asyncio.sleep(0)
                self._clock.skip_to(event.at)
            yield event

    async def perform(self, effect: Effect) -> None:
        self.sent += 1


def simulate_qunbot(
    ctx: BenchContext,
    arrivals: list[Arrival],
    start: datetime,
    config: str,
    batch_size: int,
    tally: Tally,
) -> tuple[float, dict[str, float]]:
    """Run the bot on the arrivals, tallying each batch as it commits; the wall time, and
    how often a single ``process`` call or the garbage collector stalled."""
    ruleset = compile_text(config, "config.yaml", None)
    store = Store(sqlite_url(ctx.dir(NAME) / "qunbot.db"))
    clock = SimClock(start)
    adapter = ArrivalAdapter(arrivals, start, clock)
    dispatcher = Dispatcher(store, Engine(ruleset))
    pacing = Pacing.from_config(ruleset.config.sending)
    outbox = Outbox(store, adapter, clock, pacing, ruleset.zone_of)
    process = dispatcher.process
    took: list[float] = []

    def timed_process(batch: list[Event]) -> list[Effect]:
        began = time.perf_counter()
        replies = process(batch)
        took.append(time.perf_counter() - began)
        tally.committed(clock.now(), [e.at for e in batch if e.kind is not EventKind.TICK])
        ctx.reporter.advance(len(batch))
        return replies

    dispatcher.process = timed_process  # type: ignore[method-assign,assignment]
    options = RunOptions(
        batch_size=batch_size, live_timers=True, background_outbox=True, drain_at_end=False
    )
    try:
        heap.settle()  # as Bot.run does, last before the loop starts
        with GcTimer() as gc_pauses:
            began = time.perf_counter()
            asyncio.run(run_bot(adapter, dispatcher, outbox, clock, options))
            wall = time.perf_counter() - began
    finally:
        dispatcher.close()
        store.close()
    diagnostics = {
        "slowest_process_ms": round(max(took, default=0.0) * 1000, 2),
        "process_calls_over_20ms": sum(t > 0.02 for t in took),
        "gc_full_collections": len(gc_pauses.full),
        "gc_longest_pause_ms": round(max(gc_pauses.all, default=0.0) * 1000, 2),
    }
    return wall, diagnostics


def simulate_raw(
    ctx: BenchContext, arrivals: list[Arrival], start: datetime, batch_size: int, tally: Tally
) -> None:
    """The same arrivals, each batch one sqlite3 transaction of one row per event."""
    connection = raw_sqlite(ctx.dir(NAME) / "raw.db")
    for statement in RAW_INTERACTIONS_DDL:
        connection.execute(statement)
    clock = SimClock(start)
    ats = [start + timedelta(seconds=a[0]) for a in arrivals]
    first = 0
    while first < len(arrivals):
        clock.skip_to(ats[first])
        now = clock.now()
        last = first
        while last < len(arrivals) and last - first < batch_size and ats[last] <= now:
            last += 1
        connection.execute("BEGIN IMMEDIATE")
        for i in range(first, last):
            _, kind, group, member, _, text, _ = arrivals[i]
            stamp = ats[i].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            connection.execute(RAW_INSERT, (group, member, kind, text or None, None, stamp))
        connection.execute("COMMIT")
        tally.committed(clock.now(), ats[first:last])
        ctx.reporter.advance(last - first)
        first = last
    connection.close()


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    total = int(p.rate * p.seconds)
    ctx.reporter.stage(f"generating {total:,} arrivals")
    spec = TranscriptSpec(groups=p.groups, members=p.members, events=total, days=p.seconds / 86_400)
    start = START + timedelta(hours=3)
    arrivals: list[Arrival] = [
        (
            e.offset,
            e.fields["kind"],
            e.fields["group"],
            e.fields.get("sender") or e.fields["member"],
            e.fields.get("name", ""),
            e.fields.get("text", ""),
            e.fields.get("inviter"),
        )
        for e in events(spec, ctx.seed)
    ]
    config = make_config(ConfigSpec(groups=p.groups))
    counted_from = start + timedelta(seconds=p.warmup)
    # Arrivals start a millisecond after the clock, so the first one waits for nothing.
    clock_start = start - timedelta(milliseconds=1)

    ctx.reporter.stage(f"qunbot: {p.rate:,.0f} events/s offered for {p.seconds:g} s", total=total)
    bot = Tally(counted_from)
    wall, diagnostics = simulate_qunbot(ctx, arrivals, clock_start, config, p.batch_size, bot)
    ctx.reporter.stage("baseline: raw sqlite3 under the same arrivals", total=total)
    raw = Tally(counted_from)
    simulate_raw(ctx, arrivals, clock_start, p.batch_size, raw)

    bot_lat, raw_lat = bot.latencies, raw.latencies
    end = bot.last_commit
    span = (end - start).total_seconds() if end is not None else float("nan")
    notes = {
        "offered_events_per_s": p.rate,
        "offered_seconds": p.seconds,
        "events": total,
        "counted_events": len(bot_lat),
        "warmup_s": p.warmup,
        "batches": len(bot.sizes),
        "mean_batch": round(sum(bot.sizes) / max(len(bot.sizes), 1), 2),
        "max_batch": max(bot.sizes, default=0),
        "simulated_span_s": round(span, 3),
        "handled_per_simulated_s": round(sum(bot.sizes) / span, 1) if span else None,
        "wall_s": round(wall, 3),
        "max_ms": round(max(bot_lat, default=float("nan")) * 1000, 2),
        "raw_max_ms": round(max(raw_lat, default=float("nan")) * 1000, 2),
        **diagnostics,
    }
    return [
        Result(
            NAME,
            "p99 arrival→reply-ready",
            percentile(bot_lat, 99) * 1000,
            "ms",
            percentile(raw_lat, 99) * 1000,
            "raw sqlite3 p99",
            (Target("<=", 20),),
            notes,
        ),
        Result(
            NAME,
            "p50 arrival→reply-ready",
            percentile(bot_lat, 50) * 1000,
            "ms",
            percentile(raw_lat, 50) * 1000,
            "raw sqlite3 p50",
        ),
    ]
