"""Alerts to the operators: a core member gone quiet, a question nobody answered in time,
a group rule broken (see triggers.moderation), a removal the platform refused.

Each is recorded once per kind, group, subject and period (``qunbot alerts`` lists them), and
sent through the outbox like every message to the chat ``alerts.to`` names, at most
``alerts.max_per_hour`` an hour; the rest stay recorded only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from loguru import logger

from core.effects import Effect, EffectKind
from core.layers import Layer
from storage.layers import LayerChangeRow
from storage.store import StoreTx
from triggers.ruleset import RuleSet

ALERT_PRIORITY = 1  # after answers to members, before broadcasts


def raise_alert(
    tx: StoreTx,
    ruleset: RuleSet,
    kind: str,
    group: str,
    subject: str,
    period: str,
    text: str,
    at: datetime,
) -> list[Effect]:
    """Record the alert (once per period) and, within the hourly cap, send it."""
    config = ruleset.config.alerts
    log = logger.bind(group=group, alert=kind, subject=subject)
    number = tx.record_alert(kind, group, subject, period, text, at)
    if number is None:
        return []  # this subject was alerted already this period
    if config.to is None:
        log.info("alert #{} recorded (no alerts.to to send it to): see qunbot alerts", number)
        return []
    if tx.alerts_sent_since(at - timedelta(hours=1)) >= config.max_per_hour:
        log.warning("alert recorded, not sent: {} already sent this hour", config.max_per_hour)
        return []
    tx.mark_alert_sent(number)
    to = ruleset.room_of(config.to)
    return [
        Effect(
            to,
            text,
            at.astimezone(ruleset.zone_of(to)),
            key=f"alert:{number}",
            priority=ALERT_PRIORITY,
            rule=f"alert:{kind}",
        )
    ]


def failure_alerts(
    tx: StoreTx, ruleset: RuleSet, effect: Effect, reason: str, at: datetime
) -> list[Effect]:
    """A removal the platform refused (the account is not the group's owner or an admin):
    the operators are asked to remove the member by hand."""
    if effect.kind is not EffectKind.REMOVE_MEMBER or effect.member is None:
        return []
    member = effect.member
    text = (
        f"🚨 移出失败：{ruleset.display_name(tx, effect.group)}（{effect.group}）的 "
        f"{tx.name_of(member)}（{member}）没有被移出：{reason}。请人工移出，或给机器人管理员权限。"
    )
    return raise_alert(
        tx, ruleset, "removal_refused", effect.group, member, at.isoformat(), text, at
    )


def churn_alerts(
    tx: StoreTx, ruleset: RuleSet, group: str, changes: Sequence[LayerChangeRow], at: datetime
) -> list[Effect]:
    """A core member who went quiet (or straight to churning): one alert each, that day."""
    if not ruleset.config.alerts.churn_risk:
        return []
    zone = ruleset.zone_of(group)
    name = ruleset.display_name(tx, group)
    effects: list[Effect] = []
    for change in changes:
        if change.before is Layer.CORE and change.after in (Layer.QUIET, Layer.CHURNING):
            idle = ruleset.config.layers.quiet_days
            text = (
                f"⚠️ 流失预警：{name} 的核心成员 {tx.name_of(change.member)}（{change.member}）"
                f"已超过 {idle} 天没有发言。"
            )
            period = at.astimezone(zone).date().isoformat()
            effects += raise_alert(
                tx, ruleset, "churn_risk", group, change.member, period, text, at
            )
    return effects


def unanswered_alerts(
    tx: StoreTx, ruleset: RuleSet, groups: Sequence[str], now: datetime
) -> list[Effect]:
    """Questions nobody answered within ``alerts.unanswered_after``: one alert each."""
    after = ruleset.config.alerts.unanswered_after
    if after is None:
        return []
    effects: list[Effect] = []
    for group in groups:
        zone = ruleset.zone_of(group)
        for q in tx.overdue_questions(group, now - after - timedelta(days=1), now - after):
            waited = int((now - q.at).total_seconds() // 60)
            text = (
                f"⏰ 未回复：{ruleset.display_name(tx, group)} 的 {q.name}（{q.member}）"
                f"{q.at.astimezone(zone):%m-%d %H:%M} 问「{q.text[:100]}」，已等 {waited} 分钟。"
            )
            effects += raise_alert(tx, ruleset, "unanswered", group, str(q.id), "once", text, now)
    return effects
