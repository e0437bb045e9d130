"""[checkin] The peer benchmark's check-in workload, through qunbot's replay path.

``../shared/peer-bench`` feeds python-telegram-bot, aiogram and NoneBot2 the same work:
N distinct members each send 签到 once; each handler inserts a check-in row (UNIQUE per
member and day) and commits, then replies. Here the same N messages go through
ReplayAdapter → runtime → Dispatcher → Store → Outbox with a config holding only a check-in
rule; qunbot also records the interaction, the membership, the ledger and the outbox row,
group-commits with synchronous=FULL, and confirms each sent message.

Baseline (the peers' "floor", measured in the same run): plain sqlite3, WAL with
synchronous=NORMAL, one INSERT into a check-in table with UNIQUE(member, day) and one COMMIT
per message. Compare ratios with the peer bench run on the same machine right before.

It also counts the SQL statements qunbot runs per check-in (BEGIN/COMMIT included), by
sqlite3's trace callback on every connection the store opens.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine as SqlEngine

from bench.core import BenchContext, Result, Target, sqlite_url
from bench.generate import START
from bench.message_path import replay_instrumented
from bot.runtime import RunOptions
from storage.models import CheckIn
from storage.store import Store

NAME = "checkin"
CONFIG = "rules:\n  - {name: 签到, when: {command: [签到]}, do: {action: checkin}}\n"


@dataclass(frozen=True, slots=True)
class Params:
    members: int
    batch_size: int = RunOptions().batch_size

    @classmethod
    def full(cls) -> Params:
        return cls(members=5_000)

    @classmethod
    def quick(cls) -> Params:
        return cls(members=500)


def transcript(members: int) -> list[str]:
    """Each member says 签到 once, a second apart, in one group."""
    return [
        json.dumps(
            {
                "at": (START + timedelta(seconds=n)).isoformat(),
                "group": "g1",
                "kind": "message",
                "sender": f"wxid_{n:05d}",
                "name": f"成员{n}",
                "text": "签到",
            },
            ensure_ascii=False,
        )
        for n in range(members)
    ]


@contextmanager
def counting_statements() -> Iterator[list[int]]:
    """Count every statement SQLite runs on connections opened inside the block."""
    count = [0]

    def trace(_: str) -> None:
        count[0] += 1

    def on_connect(connection: sqlite3.Connection, _: object) -> None:
        connection.set_trace_callback(trace)

    event.listen(SqlEngine, "connect", on_connect)
    try:
        yield count
    finally:
        event.remove(SqlEngine, "connect", on_connect)


def raw_floor(ctx: BenchContext, members: int) -> float:
    """Check-ins per second of plain sqlite3 as the peers commit: one commit per message."""
    path = ctx.dir(NAME) / "raw.db"
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(
        "CREATE TABLE checkins (id INTEGER PRIMARY KEY, member TEXT NOT NULL, "
        "day TEXT NOT NULL, at TEXT NOT NULL, UNIQUE (member, day))"
    )
    ctx.reporter.stage("baseline: raw sqlite3, insert + commit per check-in", total=members)
    start = time.perf_counter()
    for n in range(members):
        connection.execute("BEGIN")
        connection.execute(
            "INSERT INTO checkins (member, day, at) VALUES (?, ?, ?)",
            (f"wxid_{n:05d}", "2026-11-24", "2026-11-24 08:00:00"),
        )
        connection.execute("COMMIT")
        ctx.reporter.advance(1)
    wall = time.perf_counter() - start
    connection.close()
    return members / wall


def fresh_database(ctx: BenchContext, name: str) -> str:
    path = ctx.dir(NAME) / name
    for suffix in ("", "-wal", "-shm", "-sent"):
        path.with_name(name + suffix).unlink(missing_ok=True)
    return sqlite_url(path)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    lines = transcript(p.members)
    floor_before = raw_floor(ctx, p.members)
    ctx.reporter.stage("qunbot: 签到 through the replay path", total=p.members)
    url = fresh_database(ctx, "qunbot.db")
    wall, timings, _ = replay_instrumented(ctx, lines, CONFIG, url, p.batch_size)
    floor_after = raw_floor(ctx, p.members)
    # Counted in a run of its own: a trace callback on every statement slows the timed one.
    ctx.reporter.stage("qunbot: the same, counting SQL statements", total=p.members)
    with counting_statements() as statements:
        replay_instrumented(ctx, lines, CONFIG, fresh_database(ctx, "counted.db"), p.batch_size)
    store = Store(url)
    try:
        with store.engine.connect() as connection:
            rows = connection.execute(select(func.count()).select_from(CheckIn)).scalar_one()
    finally:
        store.close()
    if timings.replies != p.members or rows != p.members:
        raise RuntimeError(
            f"{p.members} check-ins sent, but {timings.replies} replies and {rows} rows"
        )
    floor = (floor_before + floor_after) / 2
    return [
        Result(
            NAME,
            "check-ins per second",
            p.members / wall,
            "msg/s",
            floor,
            "raw sqlite3 insert+commit per message",
            (Target(">=", 0.30, on="ratio"),),
            {
                "members": p.members,
                "replies": timings.replies,
                "checkin_rows": rows,
                "floor_before_after": [round(floor_before, 1), round(floor_after, 1)],
                "wall_s": round(wall, 3),
            },
        ),
        Result(
            NAME,
            "SQL statements per check-in",
            statements[0] / p.members,
            "statements",
            notes={"statements": statements[0], "note": "BEGIN/COMMIT and confirmations included"},
        ),
    ]
