"""Any transcript through `qunbot replay`: bounded time, memory and output; bad lines reported
one by one; the store's invariants hold afterwards.

The config (fuzz/rules.py) has groups on both sides of the Atlantic with jobs at hours that DST
skips or repeats, and every kind of rule, so DST edges, far jumps and hostile commands meet them all.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime
from pathlib import Path

from click.testing import CliRunner
from fuzz.budget import bounded, fuzz_settings, tally
from fuzz.rules import CONFIG
from fuzz.transcripts import Transcript, transcripts
from hypothesis import given

from bot.cli import main

SCHEDULED_RULES = 2
CONFIGURED_GROUPS = 2
REPORTED = re.compile(r"^line (\d+): ")


def replay(folder: Path, script: Transcript, config: str = CONFIG) -> tuple[list[dict], str, Path]:
    (folder / "config.yaml").write_text(config, encoding="utf-8")
    (folder / "t.jsonl").write_bytes(script.data)
    db = folder / "q.db"
    tally("transcript lines", len(script.lines))
    args = ["replay", str(folder / "t.jsonl"), "--config", str(folder / "config.yaml")]
    with bounded():
        result = CliRunner().invoke(main, [*args, "--db", f"sqlite:///{db}"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    # JSON lines end at "\n" only: text may hold U+2028 or U+0085, which splitlines() splits at.
    said = [json.loads(line) for line in result.stdout.split("\n") if line]
    return said, result.stderr, db


def assert_store_invariants(db: Path) -> None:
    with sqlite3.connect(db) as connection:
        drift = connection.execute(
            "SELECT m.group_id, m.member_id, m.points, COALESCE(SUM(l.delta), 0) FROM memberships m"
            " LEFT JOIN points_ledger l ON l.group_id = m.group_id AND l.member_id = m.member_id"
            " GROUP BY m.group_id, m.member_id HAVING m.points != COALESCE(SUM(l.delta), 0)"
        ).fetchall()
        assert not drift, f"balance differs from the ledger: {drift}"
        twice = connection.execute(
            "SELECT group_id, member_id, day FROM checkins GROUP BY group_id, member_id, day"
            " HAVING COUNT(*) > 1"
        ).fetchall()
        assert not twice, f"two check-ins on one day: {twice}"
        keys = connection.execute(
            "SELECT key FROM outbox WHERE key IS NOT NULL GROUP BY key HAVING COUNT(*) > 1"
        ).fetchall()
        assert not keys, f"an outbox key stored twice: {keys}"


@fuzz_settings(25)
@given(script=transcripts())
def test_any_transcript_replays_within_bounds_and_keeps_the_store_whole(
    script: Transcript, tmp_path_factory
) -> None:
    said, stderr, db = replay(tmp_path_factory.mktemp("replay"), script)

    reported = {int(m.group(1)) for m in map(REPORTED.match, stderr.splitlines()) if m}
    assert reported == script.bad, stderr

    times = [datetime.fromisoformat(line["at"]) for line in said]
    assert times == sorted(times), "the bot's lines are out of time order"
    # A gap of up to a week is lived through morning by morning; a longer one is downtime
    # (one late run at most): either way a gap brings at most 8 runs of each job.
    briefings = [line for line in said if line["text"].startswith("早报")]
    bound = 8 * SCHEDULED_RULES * CONFIGURED_GROUPS * (script.accepted + 1)
    assert len(briefings) <= bound, f"{len(briefings)} scheduled posts for {script.accepted} events"
    assert len(said) <= bound + 6 * (script.accepted + 1) * (CONFIGURED_GROUPS + 1)

    assert_store_invariants(db)
