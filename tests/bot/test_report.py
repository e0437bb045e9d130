"""The operators' report: every table equals what the store holds, the HTML carries every
chart and needs no network, the CSV export writes the same tables."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime
from pathlib import Path

from click.testing import CliRunner
from support import join, message, replay, ruleset_from

from bot.cli import main
from bot.report.html import render_html, write_csv
from bot.report.tables import GroupReport, group_report
from storage.store import Store

CONFIG = """\
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
roles: [{member: ops, role: operator}]
faq:
  entries:
    - {id: invoice, questions: [怎么开发票], keywords: [发票], answer: 在订单页申请发票}
rules:
  - {name: 签到, when: {command: [签到]}, do: {action: checkin}}
  - {name: 答疑, when: {question: true}, do: {action: faq}}
"""

LINES = [
    message("2026-11-24T10:00:00+08:00", "bob", "签到"),
    join("2026-11-24T10:01:00+08:00", "amy", inviter="bob"),
    message("2026-11-24T10:02:00+08:00", "amy", "大家好"),
    message("2026-11-24T10:30:00+08:00", "bob", "怎么开发票？"),
    message("2026-11-25T09:00:00+08:00", "amy", "周末上课吗？"),
    message("2026-11-25T09:20:00+08:00", "ops", "@Amy 周末也上课", mentions=["amy"]),
    message("2026-11-25T23:30:00+08:00", "bob", "晚安"),
]


def built(tmp_path: Path) -> tuple[Store, str]:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = Store(url)
    replay(ruleset_from(CONFIG), store, LINES)
    return store, url


def two_days(tmp_path: Path) -> GroupReport:
    """The report of the transcript's two days, from a store built for it."""
    store, _ = built(tmp_path)
    with store.transaction() as tx:
        report = group_report(
            tx, ruleset_from(CONFIG), "g1", date(2026, 11, 24), date(2026, 11, 25)
        )
    store.close()
    return report


def test_every_table_equals_the_store(tmp_path: Path) -> None:
    store, _ = built(tmp_path)
    with store.transaction() as tx:
        report = group_report(
            tx, ruleset_from(CONFIG), "g1", date(2026, 11, 23), date(2026, 11, 25)
        )
    store.close()
    t = {key: table.rows for key, table in report.tables.items()}
    assert t["daily"] == [("2026-11-23", 0, 0), ("2026-11-24", 3, 2), ("2026-11-25", 3, 3)]
    hours = {(w, h): n for w, h, n in t["weekday_hour"] if n}
    assert hours == {("tue", 10): 3, ("wed", 9): 2, ("wed", 23): 1}  # local hours
    assert t["joins"] == [("2026-11-23", 0), ("2026-11-24", 1), ("2026-11-25", 0)]
    assert t["inviters"] == [("bob", "Bob", 1)]
    assert t["checkins"][1] == ("2026-11-24", 1, 2, 0.5)
    assert t["faq"] == [(1, 1)]
    assert t["unanswered"] == [("周末上课吗？", 1)]
    assert t["leaderboard"] == [(1, "bob", "Bob", 10)]
    # The FAQ answered bob at once; ops answered amy 20 minutes after she asked.
    assert dict(t["response"]) == {
        "bot, at once": 1,
        "≤ 30 min": 1,
        "≤ 2 h": 0,
        "≤ 1 day": 0,
        "later": 0,
        "not yet": 0,
    }
    # bob checked in on 11-24: a streak of one, still running at the end of 11-25.
    assert dict(t["streaks"]) == {"1": 1, "2–3": 0, "4–6": 0, "7–13": 0, "14–29": 0, "30+": 0}
    # The 04:00 job of 11-25 stored the layers: amy new, bob active.
    assert report.tables["layers"].columns == (
        "day",
        "new",
        "core",
        "active",
        "quiet",
        "churning",
        "left",
    )
    assert t["layers"][1] == ("2026-11-24", 0, 0, 0, 0, 0, 0)
    assert t["layers"][2] == ("2026-11-25", 1, 0, 1, 0, 0, 0)


def test_the_html_draws_every_chart_from_the_same_numbers_and_needs_no_network(
    tmp_path: Path,
) -> None:
    report = two_days(tmp_path)
    html = render_html([report], datetime(2026, 11, 26, tzinfo=UTC))
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert data is not None
    tables = json.loads(data.group(1))["g1"]
    assert set(tables) == set(report.tables)
    for key, table in report.tables.items():
        assert tables[key]["rows"] == [list(row) for row in table.rows]
    assert html.count("<svg") == 6  # daily, layers, joins, check-ins, streaks, first answers
    assert 'class="heat"' in html and "周末上课吗？" in html
    # Nothing is fetched: no src, no stylesheet link, no URL but SVG's own namespaces.
    assert " src=" not in html and "<link" not in html
    uncommented = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    urls = set(re.findall(r"https?://[^\"' )<]+", uncommented))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls

    folder = tmp_path / "csv"
    written = write_csv([report], folder)
    assert {p.name for p in written} == {f"g1-{key}.csv" for key in report.tables}
    with (folder / "g1-daily.csv").open(encoding="utf-8") as f:
        assert list(csv.reader(f)) == [
            ["day", "messages", "active_members"],
            ["2026-11-24", "3", "2"],
            ["2026-11-25", "3", "3"],
        ]


def test_the_report_command_writes_html_or_csv_and_refuses_bad_spans(tmp_path: Path) -> None:
    store, url = built(tmp_path)
    store.close()
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    runner = CliRunner()
    base = ["--config", str(config), "--db", url, "--from", "2026-11-24", "--to", "2026-11-25"]
    out = tmp_path / "r.html"
    made = runner.invoke(main, ["report", *base, "--out", str(out)])
    assert made.exit_code == 0, made.output
    assert "一群" in out.read_text(encoding="utf-8")
    tables = runner.invoke(main, ["report", *base, "--format", "csv", "--out", str(tmp_path / "t")])
    assert tables.exit_code == 0 and "11 table(s)" in tables.stdout
    backwards = ["--config", str(config), "--db", url, "--from", "2026-11-25", "--to", "2026-11-24"]
    refused = runner.invoke(main, ["report", *backwards])
    assert refused.exit_code == 2 and "after the last day" in refused.stderr
    too_long = runner.invoke(
        main, ["report", "--config", str(config), "--db", url, "--days", "500"]
    )
    assert too_long.exit_code == 2 and "at most 400 days" in too_long.stderr
