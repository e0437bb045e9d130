"""[message_path] A generated community transcript through the real replay path.

ReplayAdapter → runtime.run → Dispatcher → Store/Outbox, exactly as ``qunbot replay`` runs
it (group commit in batches of ``RunOptions.batch_size``, immediate sending after each
commit). Per-event latency here is *batch latency*: the time from the start of
``Dispatcher.process(batch)`` to its return (the batch is committed then), attributed to
every event of the batch — the wait in the queue before the batch is not included (the
replay adapter hands over the whole transcript at once; see the latency workload for
queueing under an offered load).

Baseline: plain ``sqlite3`` inserting one interaction row per event (same columns and
indexes as the store's table, one ``execute`` per row), one transaction per batch of the
same size, in a WAL database with synchronous=FULL on the same disk; run once before and
once after the bot, and pooled, so that load drifting on a shared machine hits both sides.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bench.core import (
    RAW_INSERT,
    RAW_INTERACTIONS_DDL,
    BenchContext,
    NullText,
    Result,
    Target,
    percentile,
    raw_sqlite,
    sqlite_url,
)
from bench.generate import START, ConfigSpec, make_config
from bench.transcripts import TranscriptSpec, transcript
from bot import heap
from bot.adapters.replay import ReplayAdapter
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from bot.runtime import RunOptions
from bot.runtime import run as run_bot
from core.effects import Effect
from core.events import Event
from storage.encryption import DataKeys
from storage.store import Store
from triggers.engine import Engine
from triggers.loader import compile_text

NAME = "message_path"


@dataclass(frozen=True, slots=True)
class Params:
    groups: int
    members: int
    events: int
    faq_entries: int = 50
    keyword_rules: int = 5
    batch_size: int = RunOptions().batch_size

    @classmethod
    def full(cls) -> Params:
        return cls(groups=100, members=500, events=200_000)

    @classmethod
    def quick(cls) -> Params:
        return cls(groups=20, members=100, events=3_000)


@dataclass
class Timings:
    batches: list[tuple[float, int]]  # (seconds in Dispatcher.process, events in the batch)
    process: float = 0.0
    outbox: float = 0.0
    replies: int = 0


def replay_instrumented(
    ctx: BenchContext,
    lines: list[str],
    config: str,
    url: str,
    batch_size: int,
    keys: DataKeys | None = None,
) -> tuple[float, Timings, ReplayAdapter]:
    """Play ``lines`` through the replay path; wall time and where it went."""
    ruleset = compile_text(config, "config.yaml", None)
    store = Store(url, keys)
    clock = FakeClock(datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
    adapter = ReplayAdapter(lines, NullText(), io.StringIO(), clock)
    dispatcher = Dispatcher(store, Engine(ruleset))
    outbox = Outbox(store, adapter, clock, Pacing.immediate(), ruleset.zone_of)
    timings = Timings(batches=[])
    process, send_due = dispatcher.process, outbox.send_due

    def timed_process(batch: list[Event]) -> list[Effect]:
        start = time.perf_counter()
        replies = process(batch)
        took = time.perf_counter() - start
        timings.batches.append((took, len(batch)))
        timings.process += took
        timings.replies += len(replies)
        ctx.reporter.advance(len(batch))
        return replies

    async def timed_send_due() -> int:
        start = time.perf_counter()
        sent = await send_due()
        timings.outbox += time.perf_counter() - start
        return sent

    dispatcher.process = timed_process  # type: ignore[method-assign,assignment]
    outbox.send_due = timed_send_due  # type: ignore[method-assign]
    try:
        heap.settle()  # as Bot.run does, last before the loop starts
        start = time.perf_counter()
        asyncio.run(run_bot(adapter, dispatcher, outbox, clock, RunOptions(batch_size=batch_size)))
        wall = time.perf_counter() - start
    finally:
        dispatcher.close()
        store.close()
    return wall, timings, adapter


def raw_baseline(
    ctx: BenchContext, lines: list[str], batch_size: int, name: str
) -> tuple[float, list[tuple[float, int]]]:
    """Rows/s of plain sqlite3 and each batch's insert+commit time with its size."""
    rows = []
    for raw in lines:
        line = json.loads(raw)
        at = datetime.fromisoformat(line["at"]).strftime("%Y-%m-%d %H:%M:%S.%f")
        member = line.get("sender") or line["member"]
        rows.append((line["group"], member, line["kind"], line.get("text"), None, at))
    path = ctx.dir(NAME) / f"raw-{name}.db"
    connection = raw_sqlite(path)
    for statement in RAW_INTERACTIONS_DDL:
        connection.execute(statement)
    ctx.reporter.stage(f"baseline ({name}): raw sqlite3 inserts", total=len(rows))
    batches: list[tuple[float, int]] = []
    start = time.perf_counter()
    for first in range(0, len(rows), batch_size):
        chunk = rows[first : first + batch_size]
        began = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for row in chunk:
            connection.execute(RAW_INSERT, row)
        connection.execute("COMMIT")
        batches.append((time.perf_counter() - began, len(chunk)))
        ctx.reporter.advance(len(chunk))
    wall = time.perf_counter() - start
    connection.close()
    return len(rows) / wall, batches


def weighted(batches: list[tuple[float, int]]) -> list[float]:
    """Each batch's time once per event in it: per-event latency under group commit."""
    return [took for took, size in batches for _ in range(size)]


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    ctx.reporter.stage(f"generating {p.events:,} events")
    config = make_config(
        ConfigSpec(groups=p.groups, faq_entries=p.faq_entries, keyword_rules=p.keyword_rules)
    )
    lines = transcript(
        TranscriptSpec(
            groups=p.groups, members=p.members, events=p.events, faq_entries=p.faq_entries
        ),
        ctx.seed,
        START,
    )
    kinds = Counter(json.loads(line)["kind"] for line in lines)

    # The baseline runs before and after the bot, so drifting machine load hits both alike.
    rate_before, raw_before = raw_baseline(ctx, lines, p.batch_size, "before")
    ctx.reporter.stage("qunbot: replay → runtime → dispatcher → store/outbox", total=len(lines))
    url = sqlite_url(ctx.dir(NAME) / "qunbot.db")
    wall, timings, adapter = replay_instrumented(ctx, lines, config, url, p.batch_size)
    if adapter.bad_lines:
        raise RuntimeError(
            f"{adapter.bad_lines} generated line(s) were rejected by the replay adapter"
        )
    rate = len(lines) / wall
    per_event = weighted(timings.batches)
    rate_after, raw_after = raw_baseline(ctx, lines, p.batch_size, "after")
    raw_batches = raw_before + raw_after
    raw_rate = 2 * len(lines) / sum(took for took, _ in raw_batches)
    raw_per_event = weighted(raw_batches)

    notes = {
        "events": len(lines),
        "kinds": dict(kinds),
        "groups": p.groups,
        "members_per_group": p.members,
        "batch_size": p.batch_size,
        "batches": len(timings.batches),
        "replies": timings.replies,
        "wall_s": round(wall, 3),
        "dispatcher_process_s": round(timings.process, 3),
        "outbox_send_s": round(timings.outbox, 3),
        "raw_rows_per_s_before_after": [round(rate_before, 1), round(rate_after, 1)],
        "latency": "batch latency: start of Dispatcher.process(batch) to its return "
        "(committed), attributed to each event of the batch",
    }
    return [
        Result(
            NAME,
            "throughput",
            rate,
            "events/s",
            raw_rate,
            "raw sqlite3 rows/s",
            (Target(">=", 10_000), Target(">=", 0.35, on="ratio")),
            notes,
        ),
        Result(
            NAME,
            "latency p50 (batch)",
            percentile(per_event, 50) * 1000,
            "ms",
            percentile(raw_per_event, 50) * 1000,
            "raw batch commit p50",
        ),
        Result(
            NAME,
            "latency p99 (batch)",
            percentile(per_event, 99) * 1000,
            "ms",
            percentile(raw_per_event, 99) * 1000,
            "raw batch commit p99",
        ),
        Result(
            NAME,
            "process time per event",
            timings.process / len(lines) * 1e6,
            "µs",
            sum(took for took, _ in raw_batches) / (2 * len(lines)) * 1e6,
            "raw insert per row",
            notes={"outbox_per_reply_us": round(timings.outbox / max(timings.replies, 1) * 1e6, 1)},
        ),
    ]
