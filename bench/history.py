"""[history] Queries over a long history: leaderboards, "my points", member activity.

The database is created by the real ``Store`` (Alembic migrations), then filled in bulk
with plain sqlite3: recursive-CTE ``INSERT … SELECT`` with journaling off and the secondary
indexes of the two big tables dropped during the load and re-created afterwards with
their original definitions (then the file goes back to WAL). Rows are spread evenly over
the groups and the period, in time order, as the bot appends them; every "random" choice
is a hash of the row number and the seed. ``ANALYZE`` is not run: the product does not.

Timed, each the median of repeated warm runs: ``StoreTx.leaderboard`` for today, this week
and all time, ``StoreTx.standing`` ("my points"), and a member-activity report written here
in SQLAlchemy Core (interactions per member in one group over 30 days). Baseline: a
primary-key lookup of one interaction on the same database and connection type.

Timed once each, as operators meet them: the layer recomputation of every group, first the
one that builds the activity facts and stores a layer for every membership (the most it ever
reads and writes, once per group), then the next day's, after a day of new interactions
(what the daily job costs from then on: the target); and the 30-day operators' report of
every group (``bot.report``'s tables, as ``qunbot report``).
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select

from bench.core import BenchContext, Result, Target, median, sqlite_url
from bot.report.tables import group_report
from storage.encryption import DataKeys, new_key, parse_key
from storage.store import Store
from storage.tables import INTERACTIONS
from triggers.actions.leaderboard import Period, period_start
from triggers.loader import compile_text

NAME = "history"
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 24, 21, 0, tzinfo=ZONE)


@dataclass(frozen=True, slots=True)
class Params:
    ledger: int
    interactions: int
    groups: int = 100
    members: int = 500  # per group
    days: int = 180
    repeats: int = 15
    lookups: int = 200

    @classmethod
    def full(cls) -> Params:
        return cls(ledger=1_000_000, interactions=10_000_000)

    @classmethod
    def quick(cls) -> Params:
        return cls(ledger=20_000, interactions=200_000, groups=20, members=100, repeats=5)


def _stamp(expression: str) -> str:
    """SQL for the store's datetime text (naive UTC, microseconds) of a unix time."""
    return f"strftime('%Y-%m-%d %H:%M:%S', {expression}, 'unixepoch') || '.000000'"


def _hashed(count: int, seed: int) -> str:
    """Row numbers 0..count-1 with a deterministic 32-bit hash of each (and the seed)."""
    return (
        f"WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < {count}),"
        f" h(n, h) AS (SELECT n, ((n + {seed % 1_000_003}) * 2654435761) % 4294967296 FROM c)"
    )


def generate(path: Path, p: Params, seed: int, reporter: Any) -> dict[str, float]:
    """Fill a migrated store database; seconds per step."""
    took: dict[str, float] = {}
    start_unix = int((NOW - timedelta(days=p.days)).timestamp())
    span = int(timedelta(days=p.days).total_seconds())
    first_seen = _stamp(str(start_unix))
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    connection.execute("PRAGMA temp_store=MEMORY")
    indexes = [
        sql
        for (sql,) in connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            " AND tbl_name IN ('interactions', 'points_ledger')"
        )
    ]
    member = "printf('m%04d_%03d', g, m)"
    split = f"(h % {p.groups}) AS g, ((h / {p.groups}) % {p.members}) AS m"

    def step(name: str, *statements: str) -> None:
        reporter.stage(f"generating history: {name}")
        began = time.perf_counter()
        connection.execute("BEGIN")
        for statement in statements:
            connection.execute(statement)
        connection.execute("COMMIT")
        took[name] = round(time.perf_counter() - began, 2)

    everyone = p.groups * p.members
    step(
        "groups and members",
        f"WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < {p.groups})"
        f" INSERT INTO groups (id, name, first_seen_at)"
        f" SELECT printf('g%04d', n), printf('社群%04d群', n), {first_seen} FROM c",
        f"WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < {everyone})"
        f" INSERT INTO members (id, name, first_seen_at)"
        f" SELECT printf('m%04d_%03d', n / {p.members}, n % {p.members}), printf('成员%d', n),"
        f" {first_seen} FROM c",
        f"WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < {everyone})"
        f" INSERT INTO memberships (group_id, member_id, first_seen_at, points)"
        f" SELECT printf('g%04d', n / {p.members}), printf('m%04d_%03d', n / {p.members},"
        f" n % {p.members}), {first_seen}, 0 FROM c",
        *(f"DROP INDEX {sql.split()[2]}" for sql in indexes),
    )
    step(
        f"{p.ledger:,} ledger rows",
        f"{_hashed(p.ledger, seed)} INSERT INTO points_ledger"
        " (group_id, member_id, delta, reason, actor_id, at)"
        f" SELECT printf('g%04d', g), {member},"
        " CASE WHEN r < 85 THEN 10 WHEN r < 95 THEN 50 ELSE 5 END,"
        " CASE WHEN r < 85 THEN 'checkin' WHEN r < 95 THEN 'streak_bonus:7' ELSE '分享干货' END,"
        f" NULL, {_stamp(f'{start_unix} + n * {span} / {p.ledger}')}"
        f" FROM (SELECT n, {split}, (h / 65536) % 100 AS r FROM h)",
    )
    step(
        f"{p.interactions:,} interaction rows",
        f"{_hashed(p.interactions, seed + 1)} INSERT INTO interactions"
        " (group_id, member_id, kind, text, rule, at)"
        f" SELECT printf('g%04d', g), {member},"
        " CASE WHEN r < 97 THEN 'message' WHEN r < 99 THEN 'join' ELSE 'leave' END,"
        " CASE WHEN r < 97 THEN 'hello ' || (h % 997) END, NULL,"
        f" {_stamp(f'{start_unix} + n * {span} / {p.interactions}')}"
        f" FROM (SELECT n, h, {split}, (h / 65536) % 100 AS r FROM h)",
    )
    step("indexes", *indexes)
    step(
        "check-ins and balances",
        "INSERT OR IGNORE INTO checkins (group_id, member_id, day, streak, rank, points, at)"
        " SELECT group_id, member_id, date(substr(at, 1, 19), '+8 hours'), 1, 1, delta, at"
        " FROM points_ledger WHERE reason = 'checkin'",
        "UPDATE memberships SET points = COALESCE((SELECT SUM(delta) FROM points_ledger l"
        " WHERE l.group_id = memberships.group_id AND l.member_id = memberships.member_id), 0)",
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    return took


def append_day(path: Path, p: Params, seed: int) -> int:
    """The next day's interactions, as the bot appends them (the same rate as the history);
    how many."""
    count = p.interactions // p.days
    start_unix = int(NOW.timestamp())
    span = int(timedelta(days=1).total_seconds())
    split = f"(h % {p.groups}) AS g, ((h / {p.groups}) % {p.members}) AS m"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            f"{_hashed(count, seed + 2)} INSERT INTO interactions"
            " (group_id, member_id, kind, text, rule, at)"
            f" SELECT printf('g%04d', g), printf('m%04d_%03d', g, m), 'message', 'hi', NULL,"
            f" {_stamp(f'{start_unix} + n * {span} / {count}')}"
            f" FROM (SELECT n, h, {split} FROM h)"
        )
    connection.close()
    return count


def _timed(call: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(first, median of the rest) seconds."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times[0], median(times[1:])


def activity_query(group: str, now: datetime, days: int = 30) -> Select[Any]:
    """Interactions per member in one group over the last ``days`` days, busiest first."""
    count = func.count().label("interactions")
    return (
        select(INTERACTIONS.c.member_id, count)
        .where(
            INTERACTIONS.c.group_id == group,
            INTERACTIONS.c.at >= now - timedelta(days=days),
            INTERACTIONS.c.at < now,
        )
        .group_by(INTERACTIONS.c.member_id)
        .order_by(count.desc(), INTERACTIONS.c.member_id)
    )


def seal_names(path: Path) -> DataKeys:
    """Seal every member's name, as a store with QUNBOT_DATA_KEY keeps it: the standings and
    leaderboards open the names they show (their texts are not read by these queries)."""
    keys = DataKeys(parse_key(new_key(), "key"))
    connection = sqlite3.connect(path)
    with connection:
        names = connection.execute("SELECT id, name FROM members").fetchall()
        connection.executemany(
            "UPDATE members SET name = ? WHERE id = ?",
            [(keys.seal(name, "members.name"), member) for member, name in names],
        )
    connection.close()
    return keys


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    path = ctx.dir(NAME) / "history.db"
    path.unlink(missing_ok=True)
    ctx.reporter.stage("creating the store (migrations)")
    Store(sqlite_url(path)).close()
    began = time.perf_counter()
    steps = generate(path, p, ctx.seed, ctx.reporter)
    generate_s = time.perf_counter() - began

    ctx.reporter.stage("sealing member names")
    keys = seal_names(path)
    ctx.reporter.stage("timing queries")
    store = Store(sqlite_url(path), keys)
    group, member = "g0000", "m0000_007"
    local_now = NOW.astimezone(ZONE)
    timings: dict[str, tuple[float, float]] = {}
    once: dict[str, float] = {}
    rng = random.Random(ctx.seed)
    try:
        with store.transaction() as tx:
            for period in (Period.TODAY, Period.WEEK, Period.ALL):
                since = period_start(period, local_now)
                timings[f"leaderboard {period.value}"] = _timed(
                    lambda since=since: tx.leaderboard(group, since, 10), p.repeats
                )
            timings["my points (standing)"] = _timed(
                lambda: tx.standing(group, member, local_now.date()), p.repeats
            )
        with store.engine.begin() as connection:
            query = activity_query(group, NOW.astimezone(UTC))
            rows = connection.execute(query).all()
            timings["member activity 30 days"] = _timed(
                lambda: connection.execute(query).all(), p.repeats
            )
            ids = [rng.randrange(1, p.interactions + 1) for _ in range(p.lookups)]
            lookups = iter(ids * 2)

            def lookup() -> None:
                key = next(lookups)
                connection.execute(select(INTERACTIONS).where(INTERACTIONS.c.id == key)).one()

            _, baseline = _timed(lookup, p.lookups - 1)
        ruleset = compile_text("rules: []\n", "config.yaml", None)
        groups = [f"g{n:04d}" for n in range(p.groups)]
        thresholds = ruleset.config.layers.thresholds()
        began = time.perf_counter()
        with store.transaction() as tx:
            changed = sum(len(tx.recompute_layers(g, ZONE, NOW, thresholds)) for g in groups)
        once["layer recomputation, first (builds the facts)"] = time.perf_counter() - began
        appended = append_day(path, p, ctx.seed)
        began = time.perf_counter()
        with store.transaction() as tx:
            tomorrow = NOW + timedelta(days=1)
            changed_daily = sum(
                len(tx.recompute_layers(g, ZONE, tomorrow, thresholds)) for g in groups
            )
        once["layer recomputation, daily"] = time.perf_counter() - began
        began = time.perf_counter()
        with store.transaction() as tx:
            last = NOW.date()
            first_day = last - timedelta(days=29)
            reports = [group_report(tx, ruleset, g, first_day, last) for g in groups]
        once["30-day report, every group"] = time.perf_counter() - began
        size_mb = path.stat().st_size / 1e6
    finally:
        store.close()

    notes_common = {
        "member_names": "sealed (AES-GCM), opened by the queries that show them",
        "ledger_rows": p.ledger,
        "interaction_rows": p.interactions,
        "groups": p.groups,
        "members": p.groups * p.members,
        "days": p.days,
        "generate_s": round(generate_s, 1),
        "generate_steps_s": steps,
        "db_mb": round(size_mb, 1),
        "activity_rows": len(rows),
    }
    results = []
    for i, (name, (first, warm)) in enumerate(timings.items()):
        limit = 200 if name.startswith("member activity") else 50
        results.append(
            Result(
                NAME,
                name,
                warm * 1000,
                "ms",
                baseline * 1000,
                "PK lookup",
                (Target("<=", limit),),
                {"first_run_ms": round(first * 1000, 2), **(notes_common if i == 0 else {})},
            )
        )
    limits = {"layer recomputation, daily": 2.0, "30-day report, every group": 10.0}
    for name, took in once.items():
        results.append(
            Result(
                NAME,
                name,
                took,
                "s",
                baseline,
                "PK lookup",
                (Target("<=", limits[name]),) if name in limits else (),
                {
                    "memberships": p.groups * p.members,
                    "layer_changes": changed,
                    "daily_layer_changes": changed_daily,
                    "daily_new_interactions": appended,
                    "report_tables": sum(len(r.tables) for r in reports),
                },
            )
        )
    return results
