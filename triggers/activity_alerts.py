"""A group's own rhythm, watched by the daily layer job: a day far below the same weekday of
the weeks before it (``activity_drop``), a member's week far below their own usual week
(``churn_risk``, on Mondays), and each group's numbers once a week (``weekly_summary``).
All go out as alerts: recorded once per subject and period, rate-limited, sent through the
outbox.

A group's drop is judged on robust statistics: the median of the earlier same weekdays (so a quiet
Sunday is compared with Sundays) and their median absolute deviation (so a group whose days
swing widely is not an alarm at every dip), only once that median reaches a minimum volume
(a small or new group is never judged).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from statistics import median

from core.effects import Effect
from core.layers import Layer
from storage.reports import Bucket
from storage.store import StoreTx
from triggers.alerts import raise_alert
from triggers.operations_config import WEEKDAYS
from triggers.ruleset import RuleSet

_WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
# The scale that makes a median absolute deviation comparable to a standard deviation.
_MAD_SCALE = 1.4826
_MAD_LIMIT = 3.0  # how many such deviations below the median a day must be


def activity_drop_alerts(tx: StoreTx, ruleset: RuleSet, group: str, now: datetime) -> list[Effect]:
    """Yesterday (the last whole local day) against the same weekday of earlier weeks."""
    config = ruleset.config.alerts.activity_drop
    if config is None:
        return []
    zone = ruleset.zone_of(group)
    day = now.astimezone(zone).date() - timedelta(days=1)
    days = [day - timedelta(weeks=w) for w in range(config.weeks + 1)]
    counts = {a.label: a.messages for a in tx.activity(group, [Bucket.day(d, zone) for d in days])}
    seen = counts[day.isoformat()]
    baseline = [counts[d.isoformat()] for d in days[1:]]
    usual = median(baseline)
    if usual < config.min_messages or seen > usual * (1 - config.drop):
        return []
    spread = _MAD_SCALE * median(abs(b - usual) for b in baseline)
    if spread and usual - seen < _MAD_LIMIT * spread:
        return []  # within this group's usual swing
    weekday = _WEEKDAY_NAMES[day.weekday()]
    text = (
        f"📉 活跃度骤降：{ruleset.display_name(tx, group)} {day:%m-%d}（{weekday}）只有 {seen} "
        f"条消息，前 {config.weeks} 个{weekday}的中位数是 {usual:g} 条。"
    )
    return raise_alert(tx, ruleset, "activity_drop", group, group, day.isoformat(), text, now)


def weekly_summary_alerts(tx: StoreTx, ruleset: RuleSet, group: str, now: datetime) -> list[Effect]:
    """On the configured weekday: the seven local days before it, against the seven before."""
    weekday = ruleset.config.alerts.weekly_summary
    zone = ruleset.zone_of(group)
    today = now.astimezone(zone).date()
    if weekday is None or WEEKDAYS[today.weekday()] != weekday:
        return []
    first, last = today - timedelta(days=7), today - timedelta(days=1)
    before = today - timedelta(days=14)

    def start(day: date) -> datetime:
        return datetime.combine(day, time(), zone)

    this_week, last_week = tx.activity(
        group,
        [Bucket("this", start(first), start(today)), Bucket("last", start(before), start(first))],
    )
    joined = len(tx.joined_between(group, start(first), start(today)))
    checkins = sum(tx.checkins_per_day(group, first, last).values())
    unanswered, _ = tx.unanswered_between(group, start(first), start(today), 0)
    layers = Counter(
        m.layer for m in tx.member_layers(group, zone, today, ruleset.layer_thresholds)
    )
    change = this_week.messages - last_week.messages
    text = "\n".join(
        (
            f"📊 周报：{ruleset.display_name(tx, group)} {first:%m-%d} ~ {last:%m-%d}",
            f"消息 {this_week.messages} 条（上周 {last_week.messages}，{change:+d}），"
            f"活跃成员 {this_week.active_members} 人（上周 {last_week.active_members}）",
            f"新成员 {joined} 人，签到 {checkins} 次，未回复的问题 {unanswered} 个",
            "分层："
            + "，".join(
                f"{label} {layers.get(layer, 0)}"
                for layer, label in (
                    (Layer.CORE, "核心"),
                    (Layer.ACTIVE, "活跃"),
                    (Layer.NEW, "新人"),
                    (Layer.QUIET, "沉默"),
                    (Layer.CHURNING, "流失中"),
                )
            ),
        )
    )
    period = first.isoformat()
    return raise_alert(tx, ruleset, "weekly_summary", group, group, period, text, now)


def member_drop_alerts(tx: StoreTx, ruleset: RuleSet, group: str, now: datetime) -> list[Effect]:
    """On Mondays: members whose last seven days fell below ``(1 - drop)`` of their usual
    week while the seven before did not (one alert when a fall begins, not every week of it)."""
    config = ruleset.config.alerts
    drop = config.member_drop
    zone = ruleset.zone_of(group)
    today = now.astimezone(zone).date()
    if drop is None or not config.churn_risk or today.weekday() != 0:
        return []
    present = {
        m.member: m.name
        for m in tx.member_layers(group, zone, today, ruleset.layer_thresholds)
        if m.layer is not Layer.LEFT
    }
    group_name = ruleset.display_name(tx, group)
    effects: list[Effect] = []
    for member, (recent, previous, before) in tx.weekly_activity(group, now, drop.weeks).items():
        usual = before / drop.weeks
        low = usual * (1 - drop.drop)
        if member not in present or usual < drop.min_weekly or recent > low or previous <= low:
            continue
        text = (
            f"⚠️ 流失预警：{group_name} 的 {present[member] or member}（{member}）最近 7 天只有 "
            f"{recent} 条消息，此前每周约 {usual:.0f} 条。"
        )
        period = f"week {today.isoformat()}"
        effects += raise_alert(tx, ruleset, "churn_risk", group, member, period, text, now)
    return effects
