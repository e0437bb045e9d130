"""[postgres] The check-in and message-path workloads on PostgreSQL, each beside its own floor.

The store's second backend runs the same replay path as on SQLite (``bench.checkin``,
``bench.message_path``) in a schema of its own on the local server, and each figure sits
beside a plain psycopg baseline measured in the same run on the same server:

* check-in: one INSERT into a check-in table with UNIQUE(member, day) and one COMMIT per
  message, as the peer frameworks' handlers do;
* message path: the interaction rows inserted in batches of the bot's batch size, one
  ``executemany`` (psycopg pipelines it) and one COMMIT per batch.

The server is ``QUNBOT_BENCH_PG_URL`` or the local one (127.0.0.1:5432, database ``test``);
when none answers, the workload reports that it was skipped.
"""

from __future__ import annotations

import json
import math
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from sqlalchemy import make_url

from bench import checkin, message_path
from bench.core import BenchContext, Result
from bench.generate import START, ConfigSpec, make_config
from bench.transcripts import TranscriptSpec, transcript

NAME = "postgres"
DEFAULT_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def server_url() -> str | None:
    url = os.environ.get("QUNBOT_BENCH_PG_URL", DEFAULT_URL)
    parsed = make_url(url)
    try:
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 2).close()
    except OSError:
        return None
    return url


@contextmanager
def fresh_schema(url: str) -> Iterator[tuple[str, str]]:
    """A new schema: (SQLAlchemy URL whose search_path is it, libpq connection string)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    try:
        yield (
            f"{url}{separator}options=-csearch_path%3D{schema}",
            f"{conninfo}?options=-csearch_path%3D{schema}",
        )
    finally:
        with psycopg.connect(conninfo, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def checkin_floor(conninfo: str, members: int) -> float:
    """Check-ins per second of plain psycopg: insert and commit per message."""
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "CREATE TABLE raw_checkins (id BIGSERIAL PRIMARY KEY, member TEXT NOT NULL, "
            "day DATE NOT NULL, at TIMESTAMP NOT NULL, UNIQUE (member, day))"
        )
        connection.commit()
        start = time.perf_counter()
        for n in range(members):
            connection.execute(
                "INSERT INTO raw_checkins (member, day, at) VALUES (%s, %s, %s)",
                (f"wxid_{n:05d}", "2026-11-24", "2026-11-24 08:00:00"),
            )
            connection.commit()
        return members / (time.perf_counter() - start)


def batch_floor(conninfo: str, lines: list[str], batch_size: int) -> float:
    """Interaction rows per second of plain psycopg: executemany and commit per batch."""
    rows = []
    for raw in lines:
        line = json.loads(raw)
        member = line.get("sender") or line["member"]
        at = datetime.fromisoformat(line["at"])
        rows.append((line["group"], member, line["kind"], line.get("text"), at))
    with psycopg.connect(conninfo) as connection:
        connection.execute(
            "CREATE TABLE raw_interactions (id BIGSERIAL PRIMARY KEY, group_id TEXT NOT NULL, "
            "member_id TEXT NOT NULL, kind TEXT NOT NULL, text TEXT, at TIMESTAMPTZ NOT NULL)"
        )
        connection.execute("CREATE INDEX ON raw_interactions (group_id, at)")
        connection.execute("CREATE INDEX ON raw_interactions (group_id, member_id, at)")
        connection.commit()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for first in range(0, len(rows), batch_size):
                cursor.executemany(
                    "INSERT INTO raw_interactions (group_id, member_id, kind, text, at) "
                    "VALUES (%s, %s, %s, %s, %s)",
                    rows[first : first + batch_size],
                )
                connection.commit()
        return len(rows) / (time.perf_counter() - start)


def run(ctx: BenchContext) -> list[Result]:
    url = server_url()
    if url is None:
        return [
            Result(NAME, "skipped: no PostgreSQL answers", math.nan, "", notes={"url": DEFAULT_URL})
        ]
    members = checkin.Params.quick().members if ctx.quick else checkin.Params.full().members
    batch_size = checkin.Params(members).batch_size
    events = 3_000 if ctx.quick else 20_000
    path_lines = transcript(
        TranscriptSpec(groups=20, members=100, events=events, faq_entries=50), ctx.seed, START
    )
    config = make_config(ConfigSpec(groups=20, faq_entries=50, keyword_rules=5))
    results = []
    with fresh_schema(url) as (store_url, conninfo):
        ctx.reporter.stage("postgres: raw check-ins", total=None)
        floor = checkin_floor(conninfo, members)
        ctx.reporter.stage("postgres: qunbot 签到", total=members)
        wall, timings, _ = message_path.replay_instrumented(
            ctx, checkin.transcript(members), checkin.CONFIG, store_url, batch_size
        )
        if timings.replies != members:
            raise RuntimeError(f"{members} check-ins sent, {timings.replies} replies")
        results.append(
            Result(
                NAME,
                "check-ins per second",
                members / wall,
                "msg/s",
                floor,
                "psycopg insert+commit per message",
                notes={"members": members, "wall_s": round(wall, 3)},
            )
        )
    with fresh_schema(url) as (store_url, conninfo):
        ctx.reporter.stage("postgres: raw batched inserts", total=None)
        floor = batch_floor(conninfo, path_lines, batch_size)
        ctx.reporter.stage("postgres: qunbot message path", total=len(path_lines))
        wall, timings, _ = message_path.replay_instrumented(
            ctx, path_lines, config, store_url, batch_size
        )
        results.append(
            Result(
                NAME,
                "message path throughput",
                len(path_lines) / wall,
                "events/s",
                floor,
                "psycopg executemany+commit per batch",
                notes={"events": len(path_lines), "replies": timings.replies},
            )
        )
    return results
