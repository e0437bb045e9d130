"""The report's tables, one per chart, computed from the store's aggregates.

Each table is plain data (columns and rows): the HTML draws it, the CSV export writes it,
and tests compare it with the store.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.layers import Layer
from storage.reports import Bucket
from storage.store import StoreTx
from triggers.actions.faq import faq_rule_names
from triggers.ruleset import RuleSet

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOP = 10


@dataclass(frozen=True, slots=True)
class ReportTable:
    """One chart's numbers: ``key`` names it in files and ids."""

    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


@dataclass(slots=True)
class GroupReport:
    group: str
    name: str
    zone: str
    first: date
    last: date
    tables: dict[str, ReportTable] = field(default_factory=dict)

    def add(self, table: ReportTable) -> None:
        self.tables[table.key] = table


def _most(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def group_report(tx: StoreTx, ruleset: RuleSet, group: str, first: date, last: date) -> GroupReport:
    """Every table of one group's report for the local days ``first`` … ``last``."""
    zone = ruleset.zone_of(group)
    days = _days(first, last)
    start, end = _midnight(first, zone), _midnight(last + timedelta(days=1), zone)
    report = GroupReport(group, ruleset.display_name(tx, group), zone.key, first, last)

    daily = tx.activity(group, [Bucket.day(d, zone) for d in days])
    report.add(
        ReportTable(
            "daily",
            "每日消息与活跃成员 Messages and active members per day",
            ("day", "messages", "active_members"),
            [(a.label, a.messages, a.active_members) for a in daily],
        )
    )
    report.add(_weekday_hours(tx, group, days, zone))
    report.add(_layer_sizes(tx, group, days, zone))
    joined = tx.joined_between(group, start, end)
    per_day = Counter(j.at.astimezone(zone).date().isoformat() for j in joined)
    report.add(
        ReportTable(
            "joins",
            "每日新成员 New members per day",
            ("day", "joined"),
            [(d.isoformat(), per_day.get(d.isoformat(), 0)) for d in days],
        )
    )
    inviters = Counter(j.inviter for j in joined if j.inviter)
    report.add(
        ReportTable(
            "inviters",
            "邀请人 Top inviters",
            ("inviter", "name", "invited"),
            [
                (m, tx.name_of(m), n)
                for m, n in sorted(inviters.items(), key=lambda i: (-i[1], i[0]))
            ][:TOP],
        )
    )
    checkins = tx.checkins_per_day(group, first, last)
    active = {a.label: a.active_members for a in daily}
    report.add(
        ReportTable(
            "checkins",
            "每日签到 Check-ins per day",
            ("day", "checkins", "active_members", "rate"),
            [
                (
                    d.isoformat(),
                    checkins.get(d, 0),
                    active[d.isoformat()],
                    round(checkins.get(d, 0) / active[d.isoformat()], 3)
                    if active[d.isoformat()]
                    else 0.0,
                )
                for d in days
            ],
        )
    )
    faq_rules = faq_rule_names(ruleset.rules)
    unanswered, top = tx.unanswered_between(group, start, end, TOP)
    # A FAQ rule fires on every question it takes; those it could not answer are queued.
    asked = tx.answered_between(group, start, end, faq_rules)
    report.add(
        ReportTable(
            "faq",
            "答疑 FAQ answered and unanswered",
            ("answered", "unanswered"),
            [(max(asked - unanswered, 0), unanswered)],
        )
    )
    report.add(
        ReportTable(
            "unanswered",
            "未解答的问题 Top unanswered questions",
            ("question", "times"),
            top,
        )
    )
    report.add(_first_responses(tx, group, start, end, max(asked - unanswered, 0)))
    report.add(_streaks(tx, group, last))
    board = tx.leaderboard(group, None, TOP)
    report.add(
        ReportTable(
            "leaderboard",
            "积分榜 Points leaderboard",
            ("rank", "member", "name", "points"),
            [(r.rank, r.member, r.name, r.points) for r in board],
        )
    )
    return report


def _weekday_hours(tx: StoreTx, group: str, days: list[date], zone: ZoneInfo) -> ReportTable:
    """Messages by local weekday and hour, summed over the period's days."""
    buckets = []
    for d in days:
        for hour in range(24):
            start = datetime.combine(d, time(hour), zone)
            buckets.append(Bucket(f"{d.isoformat()} {hour:02d}", start, start + timedelta(hours=1)))
    counts: Counter[tuple[str, int]] = Counter()
    for a in tx.activity(group, buckets):
        day, hour_text = a.label.split(" ")
        counts[(WEEKDAYS[date.fromisoformat(day).weekday()], int(hour_text))] += a.messages
    return ReportTable(
        "weekday_hour",
        "活跃时段 Messages by weekday and hour",
        ("weekday", "hour", "messages"),
        [(w, h, counts[(w, h)]) for w in WEEKDAYS for h in range(24)],
    )


def _layer_sizes(tx: StoreTx, group: str, days: list[date], zone: ZoneInfo) -> ReportTable:
    """Members per layer at the end of each day, from the stored layer changes."""
    layers = list(Layer)
    current: dict[str, Layer] = {}
    changes = tx.layer_changes(group)
    rows = []
    at = 0
    for d in days:
        end = _midnight(d + timedelta(days=1), zone)
        while at < len(changes) and changes[at][3] < end:
            member, _, after, _ = changes[at]
            current[member] = after
            at += 1
        sizes = Counter(current.values())
        rows.append((d.isoformat(), *(sizes.get(layer, 0) for layer in layers)))
    return ReportTable(
        "layers",
        "用户分层 Members per layer",
        ("day", *(layer.value for layer in layers)),
        rows,
    )


# How long a question waited for its first answer: the bot's at once, people's by these.
RESPONSE_BUCKETS = (
    ("≤ 30 min", timedelta(minutes=30)),
    ("≤ 2 h", timedelta(hours=2)),
    ("≤ 1 day", timedelta(days=1)),
    ("later", timedelta.max),
)
STREAK_BUCKETS = (("1", 1), ("2–3", 3), ("4–6", 6), ("7–13", 13), ("14–29", 29), ("30+", None))


def _first_responses(
    tx: StoreTx, group: str, start: datetime, end: datetime, by_bot: int
) -> ReportTable:
    """Questions by the wait for their first answer: the bot's (at once) or a person's."""
    waits: Counter[str] = Counter()
    for asked, answered in tx.first_answers(group, start, end):
        if answered is None:
            waits["not yet"] += 1
            continue
        waited = answered - asked
        waits[next(label for label, most in RESPONSE_BUCKETS if waited <= most)] += 1
    labels = ["bot, at once", *(label for label, _ in RESPONSE_BUCKETS), "not yet"]
    waits["bot, at once"] = by_bot
    return ReportTable(
        "response",
        "首次回复 First answer to questions",
        ("answered", "questions"),
        [(label, waits[label]) for label in labels],
    )


def _streaks(tx: StoreTx, group: str, last: date) -> ReportTable:
    """Check-in streaks still running at the end of the last day, by length."""
    running = tx.running_streaks(group, last - timedelta(days=1), last)
    counts: Counter[str] = Counter()
    for streak in running.values():
        counts[next(label for label, most in STREAK_BUCKETS if most is None or streak <= most)] += 1
    return ReportTable(
        "streaks",
        "连续签到 Running check-in streaks",
        ("streak_days", "members"),
        [(label, counts[label]) for label, _ in STREAK_BUCKETS],
    )
