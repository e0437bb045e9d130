"""The escalation ladder: a member's strikes in a group, answered step by step.

A strike counts while it is younger than ``moderation.decay`` and not pardoned; its weight
(1, or more for a rule that says so) adds to the member's standing, and the rung at that
standing is the step: warn (an @mention naming the rule broken), mute (the bot ignores
them: no answers, no points, no check-ins — WeChat has no mute a bot could impose — and the
operators are alerted), remove (the bot account removes them when ``remove_by: bot``;
otherwise an alert asks a human to, and they stay muted meanwhile). Staff and exempt tags
are never struck. Every step is a strike row and an audit record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from loguru import logger

from core.actors import ROLE_RANK
from core.effects import Effect
from core.events import Event
from storage.store import StoreTx
from triggers.actions.base import SAMPLE_BASE, ActionContext, Match, say
from triggers.moderation.config import LadderStep, ModerationConfig, Step
from triggers.templates import Renderable, TemplateProblem, Templates, TemplateSource

VARIABLES = frozenset(
    {"member", "group", "now", "rule", "reason", "evidence", "strikes", "next", "until", "by_bot"}
)
SAMPLE: dict[str, Any] = {
    **SAMPLE_BASE,
    "rule": "广告",
    "reason": "请勿发广告链接",
    "evidence": "链接 t.cn/x",
    "strikes": 1,
    "next": "禁言 1 小时",
    "until": "11-24 09:00",
    "by_bot": True,
}
_DEFAULTS = {
    Step.WARN: "moderation_warn.j2",
    Step.MUTE: "moderation_mute.j2",
    Step.REMOVE: "moderation_remove.j2",
}
SYSTEM_ACTOR = "qunbot"


class NoticeProblem(Exception):
    """A notice of the ``moderation:`` section that does not render; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Strike:
    """One strike as the action hands it over."""

    rule: str
    reason: str
    weight: int
    step: LadderStep | None  # a rule that jumps the ladder (a newcomer's ad: remove)


class Ladder:
    """The ``moderation:`` section compiled: its rungs and its three notices."""

    def __init__(self, config: ModerationConfig, templates: Templates) -> None:
        """Raises NoticeProblem for a notice that does not render."""
        self.config = config
        self.notices: dict[Step, Renderable] = {}
        for step, given in (
            (Step.WARN, config.warn_text),
            (Step.MUTE, config.mute_text),
            (Step.REMOVE, config.remove_text),
        ):
            source = (
                TemplateSource(text=given)
                if given is not None
                else TemplateSource(name=_DEFAULTS[step])
            )
            try:
                self.notices[step] = templates.compile(source, VARIABLES, SAMPLE)
            except TemplateProblem as problem:
                raise NoticeProblem(f"{step.value}_text", str(problem)) from None

    def exempt(self, event: Event, role: str, tx: StoreTx) -> bool:
        """Staff (``exempt_from`` and above) and members with an exempt tag: never struck."""
        if ROLE_RANK.get(role, 0) >= ROLE_RANK[self.config.exempt_from]:
            return True
        tags = self.config.exempt_tags
        return bool(tags) and bool(
            set(tags).intersection(tx.tags_of(event.group, event.member, event.at))
        )

    def strike(
        self, event: Event, match: Match, ctx: ActionContext, strike: Strike
    ) -> list[Effect]:
        config = self.config
        log = logger.bind(group=event.group, member=event.member, rule=strike.rule)
        evidence = "；".join(match.detected) or event.text[:100]
        if self.exempt(event, ctx.role, ctx.tx):
            log.info("group rule broken by an exempt member ({}): no strike", evidence)
            return []
        tx = ctx.tx
        standing = tx.strike_weight(event.group, event.member, event.at - config.decay)
        standing += strike.weight
        rung = strike.step or config.rung(standing)
        step = rung.step
        by_bot = config.remove_by == "bot"
        until: datetime | None = None
        if step is Step.MUTE:
            assert rung.mute_for is not None
            until = event.at + rung.mute_for
        elif step is Step.REMOVE:
            # Muted meanwhile: until a human removes them, or if the platform refuses.
            until = event.at + config.decay
        recorded = "report" if step is Step.REMOVE and not by_bot else step.value
        tx.strike(
            event.group,
            event.member,
            rule=strike.rule,
            reason=strike.reason,
            evidence=evidence,
            weight=strike.weight,
            step=recorded,
            until=until,
            at=event.at,
        )
        detail = f"{event.member} {strike.rule}: {strike.reason} ({evidence}) → {recorded}"
        tx.audit(
            event.at, SYSTEM_ACTOR, "system", f"moderation.{recorded}", event.group, detail, "ok"
        )
        # What was found is the member's text: it stays in the (sealed) store, not the log.
        log.bind(step=recorded).info("group rule broken: {}", recorded)
        context = {
            **ctx.base_context(event),
            "rule": strike.rule,
            "reason": strike.reason,
            "evidence": evidence,
            "strikes": standing,
            "next": self.describe(config.rung(standing + 1)),
            "until": f"{until.astimezone(ctx.group.tz):%m-%d %H:%M}" if until else "",
            "by_bot": by_bot,
        }
        # A notice enforces the rules rather than answers: no member's reply budget holds it.
        notices = say(self.notices[step], context, event, ctx, mentions=(event.member,))
        effects = [replace(notice, requester=None) for notice in notices]
        if step is Step.WARN:
            return effects
        name = event.name or tx.name_of(event.member)
        where = f"{ctx.group.name}（{event.group}）"
        if step is Step.MUTE:
            text = (
                f"🔇 已禁言：{where} 的 {name}（{event.member}）第 {standing} 次违规"
                f"「{strike.reason}」（{evidence}），到 {context['until']}。"
            )
        elif by_bot:
            text = (
                f"🚫 已移出：{where} 的 {name}（{event.member}）「{strike.reason}」（{evidence}）。"
            )
            effects.append(Effect.remove_member(event.group, event.member, event.at, strike.rule))
        else:
            text = (
                f"🚨 请移出：{where} 的 {name}（{event.member}）第 {standing} 次违规"
                f"「{strike.reason}」（{evidence}）；机器人无权移除，已暂停回复此人。"
            )
        period = event.at.isoformat()
        return effects + ctx.alert("moderation", event.group, event.member, period, text, event.at)

    def describe(self, rung: LadderStep) -> str:
        """What a rung does, as the warning says it ("禁言 1 小时")."""
        if rung.step is Step.WARN:
            return "再次警告"
        if rung.step is Step.MUTE:
            assert rung.mute_for is not None
            return f"禁言 {_duration(rung.mute_for)}"
        return "被移出本群" if self.config.remove_by == "bot" else "由管理员移出本群"


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, name in ((86400, "天"), (3600, "小时"), (60, "分钟")):
        if seconds % unit == 0:
            return f"{seconds // unit} {name}"
    return f"{seconds} 秒"
