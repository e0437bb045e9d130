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
sqlite3's trace callback on every connection the store opens, and times qunbot's writes
alone: the same rows written by plain sqlite3 into the store's own schema, batched as the
store batches them, with none of qunbot's logic. That figure bounds what any amount of
trimming the Python side can reach: it is the share of the floor's time the data model spends
before a rule is matched or a reply rendered.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, timedelta

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


# qunbot's writes for one check-in, as the store runs them (bench/README: "writes alone").
_FIRST_SEEN = (
    "INSERT INTO members (id, name, first_seen_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
    "INSERT INTO memberships (group_id, member_id, first_seen_at, points) "
    "VALUES ('g1', ?, ?, 0) ON CONFLICT (group_id, member_id) DO NOTHING",
)
_PER_CHECKIN = (
    "INSERT INTO checkins (group_id, member_id, day, streak, rank, points, at) "
    "VALUES ('g1', ?, '2026-11-23', 1, ?, 10, ?)",
    "UPDATE memberships SET points = points + 10 WHERE group_id = 'g1' AND member_id = ?",
    "INSERT INTO points_ledger (group_id, member_id, delta, reason, at) "
    "VALUES ('g1', ?, 10, 'checkin', ?)",
    'INSERT INTO outbox ("key", account, kind, group_id, text, requester, mentions, priority, '
    "rule, status, attempts, decided_at, not_before) VALUES (NULL, 'default', 'send_text', "
    "'g1', ?, ?, ?, 0, '签到', 'pending', 0, ?, ?)",
)
_INTERACTION = (
    "INSERT INTO interactions (group_id, member_id, kind, text, rule, at) "
    "VALUES ('g1', ?, 'message', '签到', '签到', ?)"
)
_SENT = "UPDATE outbox SET status = 'sent', sent_at = ? WHERE id = ?"


def writes_alone(ctx: BenchContext, members: int, batch_size: int) -> float:
    """Check-ins per second of qunbot's own rows, written without qunbot: its schema and
    settings (a store migrates the file first), one transaction per batch for the state and
    one for the sent marks, as the bot commits them."""
    url = fresh_database(ctx, "writes.db")
    Store(url).close()
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute(
        "INSERT INTO groups (id, name, first_seen_at) VALUES ('g1', 'g1', '2026-11-22 23:00:00')"
    )
    first_utc = START.astimezone(UTC).replace(tzinfo=None)  # the store's text for times
    ctx.reporter.stage("qunbot's writes alone, plain sqlite3", total=members)
    start = time.perf_counter()
    for first in range(0, members, batch_size):
        batch = range(first, min(members, first + batch_size))
        ids = [f"wxid_{n:05d}" for n in batch]
        at = [(first_utc + timedelta(seconds=n)).isoformat(" ", "microseconds") for n in batch]
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            _FIRST_SEEN[0], [(m, f"成员{n}", a) for m, n, a in zip(ids, batch, at, strict=True)]
        )
        connection.executemany(_FIRST_SEEN[1], list(zip(ids, at, strict=True)))
        checkin, balance, ledger, outbox = _PER_CHECKIN
        for m, n, a in zip(ids, batch, at, strict=True):
            connection.execute(checkin, (m, n + 1, a))
            connection.execute(balance, (m,))
            connection.execute(ledger, (m, a))
            text = f"@成员{n} 签到成功 ✅ 今天第 {n + 1} 位，连续签到 1 天。"
            connection.execute(outbox, (text, m, f'["{m}"]', a, a))
        connection.executemany(_INTERACTION, list(zip(ids, at, strict=True)))
        connection.execute("COMMIT")
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(_SENT, [(a, n + 1) for n, a in zip(batch, at, strict=True)])
        connection.execute("COMMIT")
        ctx.reporter.advance(len(batch))
    wall = time.perf_counter() - start
    written = connection.execute(
        "SELECT (SELECT count(*) FROM checkins), "
        "(SELECT count(*) FROM outbox WHERE status = 'sent')"
    ).fetchone()
    connection.close()
    if written != (members, members):
        raise RuntimeError(f"writes alone: {members} check-ins, but (rows, sent) = {written}")
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
    alone = writes_alone(ctx, p.members, p.batch_size)
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
            "qunbot's writes alone (no logic)",
            alone,
            "msg/s",
            floor,
            "raw sqlite3 insert+commit per message",
            notes={
                "us_per_checkin": round(1e6 / alone, 1),
                "us_left_for_logic_at_0.30": round(1e6 / (0.30 * floor) - 1e6 / alone, 1),
                "us_logic_now": round(wall / p.members * 1e6 - 1e6 / alone, 1),
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
