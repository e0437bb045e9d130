"""Alerts fire exactly once on the transcript built for them, never on its control."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import at, message, replay, ruleset_from

from bot.cli import main
from storage.store import Store

BASE = """
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
roles: [{member: ops, role: operator}]
layers: {core_interactions: 3, quiet_days: 30, churning_days: 90}
alerts: {to: ops-chat, unanswered_after: %s, max_per_hour: %d, weekly_summary: null}
faq:
  entries: [{id: invoice, questions: [怎么开发票], answer: 在订单页申请}]
rules:
  - {name: 答疑, when: {question: true}, do: {action: faq}}
"""


def config(cap: int = 20, unanswered: str = "30m") -> str:
    return BASE % (unanswered, cap)


def alerts_sent(
    store: Store, lines: list[str], cap: int = 20, unanswered: str = "30m"
) -> list[str]:
    said = replay(ruleset_from(config(cap, unanswered)), store, lines).said
    return [s["text"] for s in said if s["group"] == "ops-chat"]


def test_an_unanswered_question_alerts_once_after_the_target(store: Store) -> None:
    sent = alerts_sent(
        store,
        [
            message("2026-11-24T10:00:00+08:00", "bob", "周末上课吗？"),
            message("2026-11-24T11:30:00+08:00", "amy", "大家好"),  # the clock moves on
            message("2026-11-24T12:30:00+08:00", "amy", "午饭"),
        ],
    )
    assert len(sent) == 1
    assert sent[0].startswith("⏰ 未回复：一群 的 Bob（bob）11-24 10:00 问「周末上课吗？」")


def test_a_human_answer_in_time_suppresses_the_alert(store: Store) -> None:
    sent = alerts_sent(
        store,
        [
            message("2026-11-24T10:00:00+08:00", "bob", "周末上课吗？"),
            message("2026-11-24T10:10:00+08:00", "ops", "@Bob 周末也上课", mentions=["bob"]),
            message("2026-11-24T11:30:00+08:00", "amy", "大家好"),
        ],
    )
    assert sent == []
    with store.transaction() as tx:
        assert (
            tx.overdue_questions(
                "g1", at("2026-11-24T00:00:00+08:00"), at("2026-11-25T00:00:00+08:00")
            )
            == []
        )


def test_a_member_mentioning_does_not_count_as_an_answer(store: Store) -> None:
    sent = alerts_sent(
        store,
        [
            message("2026-11-24T10:00:00+08:00", "bob", "周末上课吗？"),
            message("2026-11-24T10:10:00+08:00", "amy", "@Bob 不知道", mentions=["bob"]),
            message("2026-11-24T11:30:00+08:00", "amy", "大家好"),
        ],
    )
    assert len(sent) == 1


def test_a_core_member_going_quiet_alerts_once_and_an_active_one_does_not(store: Store) -> None:
    lines = [message(f"2026-11-0{d}T10:00:00+08:00", "fan", "你好") for d in (1, 2, 3)] + [
        message("2026-11-03T11:00:00+08:00", "casual", "你好")
    ]
    # Every day at 04:00 the layers are stored; the fans's 30th idle day is 12-03.
    for day in range(4, 31):
        lines.append(message(f"2026-11-{day:02d}T09:00:00+08:00", "amy", "早"))
    lines += [
        message("2026-12-03T09:00:00+08:00", "amy", "早"),
        message("2026-12-04T09:00:00+08:00", "amy", "早"),
    ]
    sent = alerts_sent(store, lines, unanswered="null")  # a month of five-minute looks spared
    assert sent == ["⚠️ 流失预警：一群 的核心成员 Fan（fan）已超过 30 天没有发言。"]


def test_over_the_hourly_cap_alerts_are_recorded_not_sent(store: Store) -> None:
    lines = [message(f"2026-11-24T10:0{n}:00+08:00", f"m{n}", f"问题{n}吗？") for n in range(3)] + [
        message("2026-11-24T11:30:00+08:00", "amy", "大家好")
    ]
    sent = alerts_sent(store, lines, cap=2)
    assert len(sent) == 2
    with store.transaction() as tx:
        log = tx.alert_log()
    assert sorted(a.sent for a in log) == [False, True, True]
    assert all(a.kind == "unanswered" for a in log)


def test_alerts_are_listed_for_operators(tmp_path: Path) -> None:
    folder = tmp_path
    url = f"sqlite:///{folder / 'q.db'}"
    store = Store(url)
    alerts_sent(
        store,
        [
            message("2026-11-24T10:00:00+08:00", "bob", "周末上课吗？"),
            message("2026-11-24T11:30:00+08:00", "amy", "大家好"),
        ],
    )
    store.close()
    (folder / "config.yaml").write_text(config(), encoding="utf-8")
    shown = CliRunner().invoke(
        main, ["alerts", "--config", str(folder / "config.yaml"), "--db", url]
    )
    assert shown.exit_code == 0, shown.output
    assert "unanswered" in shown.stdout and "yes" in shown.stdout


RHYTHM = """
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
alerts: {to: ops-chat, unanswered_after: null, weekly_summary: %s}
rules: []
"""
MONDAY = date(2026, 10, 5)


def days_of(counts: list[int], first: date = MONDAY) -> list[str]:
    """``counts[n]`` messages on the n-th day from ``first``, from ten members in turn."""
    lines = []
    for n, count in enumerate(counts):
        day = first + timedelta(days=n)
        for i in range(count):
            when = f"{day.isoformat()}T{10 + i // 60:02d}:{i % 60:02d}:00+08:00"
            lines.append(message(when, f"m{i % 10}", "聊聊"))
    return lines


def rhythm_alerts(store: Store, counts: list[int], summary: str = "null") -> list[str]:
    said = replay(ruleset_from(RHYTHM % summary), store, days_of(counts)).said
    return [s["text"] for s in said if s["group"] == "ops-chat"]


def test_a_day_far_below_its_weekday_alerts_once(store: Store) -> None:
    counts = _with([40] * 40, 36, 5)  # a Tuesday, after five ordinary weeks
    assert rhythm_alerts(store, counts) == [
        "📉 活跃度骤降：一群 11-10（周二）只有 5 条消息，前 4 个周二的中位数是 40 条。"
    ]


def _with(counts: list[int], day: int, count: int) -> list[int]:
    return [count if n == day else c for n, c in enumerate(counts)]


CONTROLS = {
    "steady": [40] * 42,
    "weekend dip": [8 if (MONDAY + timedelta(days=n)).weekday() >= 5 else 40 for n in range(42)],
    "small group": _with([6] * 40, 36, 0),
    # busy and slow weeks in turn: a slow day is within this group's own swing
    "swinging": _with([80 if n % 14 < 7 else 20 for n in range(42)], 36, 20),
}


@pytest.mark.parametrize("counts", CONTROLS.values(), ids=CONTROLS.keys())
def test_no_alarm_on_a_steady_group_a_weekend_dip_a_small_or_swinging_group(
    store: Store, counts: list[int]
) -> None:
    assert rhythm_alerts(store, counts) == []
    with store.transaction() as tx:
        assert [a.kind for a in tx.alert_log()] == []


def test_a_weekly_summary_each_monday_with_the_stores_numbers(store: Store) -> None:
    sent = rhythm_alerts(store, [40] * 15, summary="mon")  # Mon 10-05 … Mon 10-19
    assert len(sent) == 2
    assert sent[1].splitlines() == [
        "📊 周报：一群 10-12 ~ 10-18",
        "消息 280 条（上周 280，+0），活跃成员 10 人（上周 10）",
        "新成员 0 人，签到 0 次，未回复的问题 0 个",
        "分层：核心 10，活跃 0，新人 0，沉默 0，流失中 0",  # 56 messages each: core
    ]
    assert sent[0].startswith("📊 周报：一群 10-05 ~ 10-11\n消息 280 条（上周 0，+280）")


MEMBER_DROP = """
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
alerts: {to: ops-chat, unanswered_after: null, weekly_summary: null, activity_drop: null}
rules: []
"""


def member_weeks(store: Store, weekly: dict[str, list[int]]) -> list[str]:
    """``weekly[member][w]`` messages in week ``w`` from Monday 10-05 (spread over its days)."""
    lines = []
    for w in range(max(map(len, weekly.values()))):
        for d in range(7):
            day = MONDAY + timedelta(weeks=w, days=d)
            for member, counts in weekly.items():
                for i in range(counts[w] // 7 + (1 if d < counts[w] % 7 else 0)):
                    lines.append(message(f"{day.isoformat()}T10:{i:02d}:00+08:00", member, "嗨"))
    lines.append(message((MONDAY + timedelta(weeks=14)).isoformat() + "T10:00:00+08:00", "zz", "."))
    said = replay(ruleset_from(MEMBER_DROP), store, lines).said
    return [s["text"] for s in said if s["group"] == "ops-chat"]


def test_a_member_whose_week_falls_below_their_own_usual_alerts_once(store: Store) -> None:
    falling = [21] * 10 + [2, 1, 0, 0]  # three a day for ten weeks, then almost nothing
    steady = [21] * 14
    light = [3] * 10 + [0] * 4  # never active enough to judge
    sent = member_weeks(store, {"fan": falling, "amy": steady, "lee": light})
    assert sent == ["⚠️ 流失预警：一群 的 Fan（fan）最近 7 天只有 2 条消息，此前每周约 21 条。"]
