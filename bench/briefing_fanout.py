"""[briefing_fanout] The 08:00 briefing for many groups: decide it fast, send it slowly.

Part 1 drives the real path: ``Dispatcher.restore`` at 07:59 (one scheduled job per
group), a first tick at 07:59:30 (the catch-up look: nothing due), then the timed tick at
08:00:05 that runs every group's briefing job, renders it from the store (yesterday's
numbers, early check-ins, the leaderboard) and enqueues it in the outbox, plus the job
store bookkeeping ``process`` does after the commit. Baseline: plain sqlite3 inserting the
same number of outbox-sized rows in one transaction (WAL, synchronous=FULL, same disk).

Part 2 drains the outbox with the real ``Outbox`` worker under the configured ``Pacing`` on
a ``FakeClock`` (sleeps jump the clock) and checks the account's sends: the smallest gap
between two sends against ``sending.min_gap``, and the most sends in any minute against
``sending.per_minute``.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.core import BenchContext, Result, Target, raw_sqlite, sqlite_url
from bench.generate import ConfigSpec, group_ids, make_config, person_name
from bot.adapters.base import AlwaysOnline
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from core.effects import Effect
from core.events import Event, EventKind
from storage.store import Store
from storage.tables import CHECKINS, GROUPS, INTERACTIONS, MEMBERS, MEMBERSHIPS
from triggers.engine import Engine
from triggers.loader import compile_text

NAME = "briefing_fanout"
ZONE = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 11, 24, 8, 0, tzinfo=ZONE)


@dataclass(frozen=True, slots=True)
class Params:
    groups: int
    members: int = 20  # per group, seeded into the store
    messages: int = 12  # per group, yesterday
    checkins: int = 6  # per group, yesterday

    @classmethod
    def full(cls) -> Params:
        return cls(groups=1_000)

    @classmethod
    def quick(cls) -> Params:
        return cls(groups=50)


class RecordingAdapter(AlwaysOnline):
    """Sends nothing; notes when each message would have gone out, on the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, Effect]] = []

    async def events(self) -> AsyncIterator[Event]:
        return
        yield  # pragma: no cover

    async def perform(self, effect: Effect) -> None:
        self.sent.append((self.clock.now(), effect))


def seed(store: Store, p: Params, seed_value: int) -> None:
    """Yesterday in every group: members with points, messages, a join and check-ins."""
    rng = random.Random(f"briefing:{seed_value}")
    yesterday = MORNING - timedelta(days=1)
    groups, members, memberships, interactions, checkins = [], [], [], [], []
    for gi, group in enumerate(group_ids(p.groups)):
        groups.append({"id": group, "name": f"社群{group[1:]}群", "first_seen_at": yesterday})
        ids = [f"b{gi:04d}_{i:03d}" for i in range(p.members)]
        for member in ids:
            members.append({"id": member, "name": person_name(rng), "first_seen_at": yesterday})
            memberships.append(
                {
                    "group_id": group,
                    "member_id": member,
                    "first_seen_at": yesterday,
                    "points": rng.randrange(0, 500),
                }
            )
        for i in range(p.messages):
            at = yesterday + timedelta(hours=1 + i, minutes=rng.randrange(60))
            interactions.append(
                {
                    "group_id": group,
                    "member_id": rng.choice(ids),
                    "kind": "message",
                    "text": "早",
                    "at": at,
                }
            )
        interactions.append(
            {"group_id": group, "member_id": ids[-1], "kind": "join", "text": None, "at": yesterday}
        )
        for rank, member in enumerate(rng.sample(ids, min(p.checkins, len(ids))), start=1):
            at = yesterday + timedelta(minutes=rank)
            checkins.append(
                {
                    "group_id": group,
                    "member_id": member,
                    "day": yesterday.date(),
                    "streak": 1,
                    "rank": rank,
                    "points": 10,
                    "at": at,
                }
            )
    with store.engine.begin() as connection:
        for table, rows in (
            (GROUPS, groups),
            (MEMBERS, members),
            (MEMBERSHIPS, memberships),
            (INTERACTIONS, interactions),
            (CHECKINS, checkins),
        ):
            connection.execute(insert(table), rows)


def raw_enqueue(ctx: BenchContext, texts: list[str]) -> float:
    """Seconds for plain sqlite3 to durably insert one outbox-sized row per message."""
    connection = raw_sqlite(ctx.dir(NAME) / "raw.db")
    connection.execute(
        "CREATE TABLE outbox (id INTEGER PRIMARY KEY, key VARCHAR(256) UNIQUE,"
        " group_id VARCHAR(128), text VARCHAR, status VARCHAR(16), not_before DATETIME)"
    )
    rows = [
        (f"k{i}", f"g{i}", text, "pending", "2026-11-24 00:00:00.000000")
        for i, text in enumerate(texts)
    ]
    start = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO outbox (key, group_id, text, status, not_before) VALUES (?, ?, ?, ?, ?)", rows
    )
    connection.execute("COMMIT")
    took = time.perf_counter() - start
    connection.close()
    return took


def max_per_minute(times: list[datetime]) -> int:
    window: deque[datetime] = deque()
    most = 0
    for at in times:
        window.append(at)
        while at - window[0] >= timedelta(minutes=1):
            window.popleft()
        most = max(most, len(window))
    return most


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    ctx.reporter.stage(f"seeding {p.groups:,} groups")
    ruleset = compile_text(
        make_config(ConfigSpec(groups=p.groups, briefing=True)), "config.yaml", None
    )
    store = Store(sqlite_url(ctx.dir(NAME) / "qunbot.db"))
    try:
        seed(store, p, ctx.seed)
        dispatcher = Dispatcher(store, Engine(ruleset))
        ctx.reporter.stage(f"restore: scheduling {p.groups:,} briefing jobs")
        start = time.perf_counter()
        dispatcher.restore(MORNING - timedelta(minutes=1))
        restore_s = time.perf_counter() - start
        dispatcher.process([Event(EventKind.TICK, "", MORNING - timedelta(seconds=30))])

        persist = dispatcher.jobs.persist
        persisted: list[float] = []

        def timed_persist() -> None:
            began = time.perf_counter()
            persist()
            persisted.append(time.perf_counter() - began)

        dispatcher.jobs.persist = timed_persist  # type: ignore[method-assign]
        ctx.reporter.stage(f"08:00 tick: {p.groups:,} briefings rendered and enqueued")
        start = time.perf_counter()
        replies = dispatcher.process([Event(EventKind.TICK, "", MORNING + timedelta(seconds=5))])
        fanout_s = time.perf_counter() - start
        dispatcher.close()
        if len(replies) != p.groups:
            raise RuntimeError(f"expected {p.groups} briefings, the tick decided {len(replies)}")

        ctx.reporter.stage("baseline: raw sqlite3 enqueue")
        raw_s = raw_enqueue(ctx, [r.text for r in replies])

        ctx.reporter.stage(
            f"draining {p.groups:,} messages under pacing (fake clock)", total=p.groups
        )
        pacing = Pacing.from_config(ruleset.config.sending)
        clock = FakeClock(MORNING + timedelta(seconds=5))
        adapter = RecordingAdapter(clock)
        outbox = Outbox(store, adapter, clock, pacing, ruleset.zone_of, random.Random(ctx.seed))
        start = time.perf_counter()
        sent = asyncio.run(outbox.send_due())
        drain_s = time.perf_counter() - start
        ctx.reporter.advance(sent)
    finally:
        store.close()

    times = [at for at, _ in adapter.sent]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    groups_sent = [reply.group for _, reply in adapter.sent]
    min_gap = min(gaps, default=float("nan"))
    configured_gap = pacing.min_gap.total_seconds()
    busiest = max_per_minute(times)
    drain_notes = {
        "sent": sent,
        "groups_sent_twice": len(groups_sent) - len(set(groups_sent)),
        "groups_missed": p.groups - len(set(groups_sent)),
        "drain_simulated_min": round((times[-1] - times[0]).total_seconds() / 60, 1)
        if times
        else None,
        "drain_wall_s": round(drain_s, 3),
        "jitter_s": pacing.jitter.total_seconds(),
    }
    if drain_notes["groups_sent_twice"] or drain_notes["groups_missed"]:
        raise RuntimeError(f"the outbox did not send every briefing exactly once: {drain_notes}")
    return [
        Result(
            NAME,
            f"render+enqueue {p.groups:,} briefings",
            fanout_s,
            "s",
            raw_s,
            "raw sqlite3 enqueue",
            (Target("<=", 1.0),),
            {
                "job_store_persist_s": round(sum(persisted), 3),
                "restore_s": round(restore_s, 3),
                "per_group_ms": round(fanout_s / p.groups * 1000, 3),
            },
        ),
        Result(
            NAME,
            "min gap between sends",
            min_gap,
            "s",
            configured_gap,
            "sending.min_gap",
            (Target(">=", 1.0, on="ratio"),),
            drain_notes,
        ),
        Result(
            NAME,
            "most sends in any minute",
            busiest,
            "msgs",
            pacing.per_minute,
            "sending.per_minute",
            (Target("<=", 1.0, on="ratio"),),
        ),
    ]
