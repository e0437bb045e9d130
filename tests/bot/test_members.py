"""Member layers end to end: the daily job in the group's zone, and the operators' view."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner
from support import at, join, message, replay, ruleset_from

from bot.adapters.replay import parse_line
from bot.cli import main
from bot.dispatcher import Dispatcher
from core.events import Event, EventKind
from core.layers import Layer
from storage.store import Store
from triggers.engine import Engine

CONFIG = """\
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
layers: {recompute_at: "04:00", new_days: 7, quiet_days: 30, churning_days: 90}
rules:
  - {name: 签到, when: {command: [签到]}, do: {action: checkin}}
"""


def test_the_daily_job_stores_layers_at_four_in_the_groups_zone(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    lines = [
        message("2026-11-24T10:00:00+08:00", "bob", "签到"),
        join("2026-11-24T11:00:00+08:00", "amy", inviter="bob"),
        message("2026-11-25T03:59:00+08:00", "cat", "还没到四点"),
        message("2026-11-25T04:01:00+08:00", "dan", "四点过了"),
    ]
    replay(ruleset_from(CONFIG), store, lines)
    with store.transaction() as tx:
        changes = {(m, t) for m, _, t, _ in tx.layer_changes("g1")}
        when = {at for _, _, _, at in tx.layer_changes("g1")}
    store.close()
    # The 04:00 run saw bob, amy and cat (dan spoke after it); each change once.
    assert changes == {("bob", Layer.ACTIVE), ("amy", Layer.NEW), ("cat", Layer.ACTIVE)}
    assert [t.isoformat() for t in when] == ["2026-11-24T20:00:00+00:00"]


def test_the_daily_job_does_not_count_a_member_who_speaks_later_in_its_batch(
    tmp_path: Path,
) -> None:
    """A live batch holding the 04:00 tick and a newcomer's 04:01 message stores the
    newcomer before the job runs: the job still leaves them out."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    dispatcher = Dispatcher(store, Engine(ruleset_from(CONFIG)))
    bob = parse_line(message("2026-11-24T10:00:00+08:00", "bob", "签到"))
    dispatcher.restore(bob.at)
    dispatcher.process([bob])
    tick = Event(EventKind.TICK, "", at("2026-11-25T04:00:00+08:00"))
    dispatcher.process([tick, parse_line(message("2026-11-25T04:01:00+08:00", "dan", "早"))])
    dispatcher.close()
    with store.transaction() as tx:
        changes = {(m, t) for m, _, t, _ in tx.layer_changes("g1")}
    store.close()
    assert changes == {("bob", Layer.ACTIVE)}


def test_operators_list_a_layer_and_show_one_member(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = Store(url)
    replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-10-01T10:00:00+08:00", "old", "很久以前"),
            message("2026-11-20T10:00:00+08:00", "bob", "签到"),
            join("2026-11-24T11:00:00+08:00", "amy", inviter="bob"),
        ],
    )
    store.close()
    runner = CliRunner()
    base = ["--config", str(config), "--db", url, "--on", "2026-11-25"]
    listed = runner.invoke(main, ["members", "--format", "csv", *base])
    assert listed.exit_code == 0, listed.output
    rows = {r["member"]: r for r in csv.DictReader(io.StringIO(listed.stdout))}
    assert {m: r["layer"] for m, r in rows.items()} == {
        "old": "quiet",
        "bob": "active",
        "amy": "new",
    }
    assert rows["amy"]["inviter"] == "bob" and rows["amy"]["joined"] == "2026-11-24"
    quiet = runner.invoke(main, ["members", "--layer", "quiet", "--format", "csv", *base])
    assert [r["member"] for r in csv.DictReader(io.StringIO(quiet.stdout))] == ["old"]

    shown = runner.invoke(main, ["member", "show", "bob", *base])
    assert shown.exit_code == 0, shown.output
    lines = dict(line.split(None, 1) for line in shown.stdout.splitlines()[1:] if line.strip())
    assert lines["layer"].strip() == "active"
    assert lines["points"].startswith("10 ")
    assert lines["invited"].strip() == "1"
    assert lines["messages"].strip() == "1 in 7d / 1 in 30d / 1 in 90d"

    missing = runner.invoke(main, ["member", "show", "nobody", *base])
    assert missing.exit_code == 2 and "no member 'nobody'" in missing.stderr
    bad_group = runner.invoke(main, ["members", "--group", "g9", *base])
    assert bad_group.exit_code == 2 and "no group 'g9'" in bad_group.stderr
