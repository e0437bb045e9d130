"""The engine: from one event to the rules it fires and what they say.

Candidate rules come from the compiled matchers in priority order; each one's
conditions are checked; a rule that fires stops the search unless it says ``continue``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from itertools import groupby
from zoneinfo import ZoneInfo

from loguru import logger

from core.actors import ROLE_RANK
from core.effects import Effect
from core.events import Event, EventKind
from core.jobs import WELCOME, JobId, JobKind, Tick
from storage.grants import GrantRow
from storage.store import StoreTx
from triggers.actions.base import ActionContext, Control, GroupInfo, Match
from triggers.actions.faq import answer_choice, choice_of
from triggers.activity_alerts import (
    activity_drop_alerts,
    member_drop_alerts,
    weekly_summary_alerts,
)
from triggers.alerts import churn_alerts, raise_alert, unanswered_alerts
from triggers.conditions import Cooldowns
from triggers.config import Role
from triggers.grants import Grants
from triggers.matchers import MEMO_MAX_CHARS
from triggers.ruleset import CompiledRule, RuleSet
from triggers.schema_types import EventType
from triggers.system_tags import refresh_system_tags

Wake = Callable[[datetime, Tick], None]

FAQ_CHOICE = "faq:choice"  # the name a "did you mean" answer fires under, in logs

# Scheduled posts queue behind replies to members, so a long fan-out never delays answers.
SCHEDULED_PRIORITY = 10

_KIND_TO_EVENT = {
    EventKind.MESSAGE: EventType.MESSAGE,
    EventKind.JOIN: EventType.JOIN,
    EventKind.LEAVE: EventType.LEAVE,
}


@dataclass(slots=True)
class Outcome:
    replies: list[Effect] = field(default_factory=list)
    fired: list[str] = field(default_factory=list)


class Engine:
    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.cooldowns = Cooldowns()
        self.grants = Grants()  # roles handed out for a while (the dispatcher loads them)

    def swap(self, ruleset: RuleSet) -> None:
        """Replace the rules in one assignment; cooldowns carry over by rule name."""
        self.ruleset = ruleset

    def expect(self, events: Sequence[Event], tx: StoreTx) -> None:
        """Before a batch: read together the points, layers and tags its message rules will
        ask about (the matcher's memo keeps what it found for :meth:`handle`)."""
        ruleset = self.ruleset
        asking, pointed = ruleset.asks_about_member, ruleset.reads_points
        if not asking and not pointed:
            return
        layers: list[tuple[str, str, ZoneInfo, date]] = []
        tags: list[tuple[str, str]] = []
        points: list[tuple[str, str]] = []
        for event in events:
            if event.kind is not EventKind.MESSAGE or event.content != "text" or not event.member:
                continue
            if len(event.text) > MEMO_MAX_CHARS:
                continue  # not memoised: matched here and again in handle; read when asked
            for order, _ in ruleset.matcher.candidates(event.text):
                if order in pointed:
                    points.append((event.group, event.member))
                conditions = asking.get(order)
                if conditions is None or not conditions.admits_group(event.group):
                    continue
                if conditions.tags is not None:
                    tags.append((event.group, event.member))
                if conditions.layers is not None:
                    zone = ruleset.zone_of(event.group)
                    today = event.at.astimezone(zone).date()
                    layers.append((event.group, event.member, zone, today))
        tx.expect(points)
        tx.expect_tags(tags)
        tx.expect_layers(layers, ruleset.layer_thresholds)

    def handle(
        self, event: Event, tx: StoreTx, wake: Wake, control: Control | None = None
    ) -> Outcome:
        ruleset = self.ruleset
        if event.kind is EventKind.TICK:
            return self._run_job(event, tx, wake, ruleset, control)
        if event.kind is EventKind.MESSAGE:
            chosen = self._faq_choice(event, tx, wake, ruleset, control)
            if chosen is not None:
                return chosen
            candidates = _message_candidates(event, ruleset)
        elif event.kind in _KIND_TO_EVENT and event.content == "text":
            candidates = [(rule, Match()) for rule in ruleset.by_event[_KIND_TO_EVENT[event.kind]]]
        else:
            return Outcome()  # renames are recorded; no rule reads them
        outcome = Outcome()
        if not candidates:
            return outcome
        if (
            ruleset.moderated
            and not all(rule.moderation for rule, _ in candidates)
            and tx.muted_until(event.group, event.member, event.at) is not None
        ):
            # Muted: the bot does not answer them; only the group rules still watch.
            candidates = [(rule, match) for rule, match in candidates if rule.moderation]
        group = ruleset.group_info(event.group, event.group_name or "")
        role = self.role_of(ruleset, event.group, event.member, event.at)[0]
        local_now = event.at.astimezone(group.tz)
        for rule, match in candidates:
            if not self._may_fire(rule, event, role, local_now):
                continue
            if rule.moderation and ruleset.ladder and ruleset.ladder.exempt(event, role, tx):
                continue  # staff may post links: the group rules do not apply to them
            if rule.conditions.about_member and not _member_fits(rule, event, tx, ruleset):
                continue
            ctx = self._context(rule.name, event, tx, wake, ruleset, control, group)
            for action in rule.actions:
                outcome.replies += action.run(event, match, ctx)
            outcome.fired.append(rule.name)
            self.cooldowns.fired(rule.name, rule.conditions, event.group, event.member, event.at)
            if rule.stop:
                break
        return outcome

    def _faq_choice(
        self, event: Event, tx: StoreTx, wake: Wake, ruleset: RuleSet, control: Control | None
    ) -> Outcome | None:
        """A member's number answering their "did you mean" offer, before any rule."""
        if not ruleset.faq.suggest_band or (number := choice_of(event.text)) is None:
            return None
        if ruleset.moderated and tx.muted_until(event.group, event.member, event.at):
            return None  # a muted member's replies go unanswered, this one too
        group = ruleset.group_info(event.group, event.group_name or "")
        ctx = self._context(FAQ_CHOICE, event, tx, wake, ruleset, control, group)
        replies = answer_choice(event, number, ruleset.faq, ctx)
        return None if replies is None else Outcome(replies=replies, fired=[FAQ_CHOICE])

    def role_of(
        self, ruleset: RuleSet, group: str, member: str, at: datetime
    ) -> tuple[Role, GrantRow | None]:
        """The member's role in the group at ``at``: config.yaml's, or a stronger grant's."""
        role = ruleset.roles.role_of(group, member)
        if self.grants:
            grant = self.grants.granted(group, member, at)
            if grant is not None and ROLE_RANK[grant.role] > ROLE_RANK[role.value]:
                return Role(grant.role), grant
        return role, None

    def _context(
        self,
        rule: str,
        event: Event,
        tx: StoreTx,
        wake: Wake,
        ruleset: RuleSet,
        control: Control | None,
        group: GroupInfo,
    ) -> ActionContext:
        role, grant = self.role_of(ruleset, event.group, event.member, event.at)

        def role_in_group(member: str) -> str:
            return self.role_of(ruleset, event.group, member, event.at)[0].value

        ctx = ActionContext(
            tx=tx,
            rule=rule,
            group=group,
            levels=ruleset.levels,
            wake=wake,
            role=role.value,
            control=control,
            role_of=role_in_group,
            layers=ruleset.layer_thresholds,
            ladder=ruleset.ladder,
        )
        if grant is not None:
            until = grant.until.astimezone(group.tz)
            ctx.grant = f"{grant.role} granted by {grant.granted_by} until {until:%m-%d %H:%M}"
        if ruleset.moderated:
            ctx.alert = partial(raise_alert, tx, ruleset)
        return ctx

    def _may_fire(self, rule: CompiledRule, event: Event, role: Role, local_now: datetime) -> bool:
        conditions = rule.conditions
        return conditions.admits(event.group, role, local_now) and self.cooldowns.ready(
            rule.name, conditions, event.group, event.member, event.at
        )

    def _run_job(
        self, tick: Event, tx: StoreTx, wake: Wake, ruleset: RuleSet, control: Control | None
    ) -> Outcome:
        due = tick.tick
        assert due is not None  # the dispatcher sends ticks with their job only
        if due.job.kind is JobKind.WELCOME:
            return Outcome(replies=flush_welcomes(tick.at, tx, wake, ruleset))
        if due.scheduled is None:
            logger.bind(job=due).warning("tick without its scheduled time ignored")
            return Outcome()
        if due.job.kind is JobKind.RULE:
            return self._run_scheduled_rule(tick, due.scheduled, tx, wake, ruleset)
        if due.job.kind is JobKind.LAYERS:
            return _recompute_layers(due.job.group, tick.at, tx, ruleset)
        if due.job.kind is JobKind.RETENTION:
            return _forget_old(tx, ruleset, tick.at)
        if due.job.kind is JobKind.ALERTS:
            groups = ruleset.served_groups(tx)
            return Outcome(
                replies=unanswered_alerts(tx, ruleset, groups, tick.at), fired=["alerts"]
            )
        if control is None:
            logger.bind(job=due).warning("broadcast tick without operations ignored")
            return Outcome()
        number = due.job.broadcast
        replies = control.broadcasts.run(tx, number, due.scheduled, tick.at, ruleset.zone_of)
        return Outcome(replies=replies, fired=[due.job.key])

    def _run_scheduled_rule(
        self, tick: Event, scheduled: datetime, tx: StoreTx, wake: Wake, ruleset: RuleSet
    ) -> Outcome:
        """A schedule trigger's run in one group; its replies are keyed by rule, group and time."""
        assert tick.tick is not None
        job = tick.tick.job
        found = ruleset.scheduled_rule(job)
        log = logger.bind(job=job)
        if found is None:
            log.warning("scheduled rule no longer in the config: run skipped")
            return Outcome()
        rule, group_id = found
        group = ruleset.group_info(group_id)
        local = scheduled.astimezone(group.tz)
        if rule.schedule is not None and local.date() in rule.schedule.skip_dates:
            log.bind(group=group_id, rule=rule.name).info("{} is a skip date: no run", local.date())
            return Outcome()
        # The run stands for its scheduled time (its date, "yesterday", "now"), even when it
        # catches up after midnight; only its replies are dated when they are decided.
        event = Event(kind=EventKind.TICK, group=group_id, at=scheduled, tick=tick.tick)
        ctx = ActionContext(tx=tx, rule=rule.name, group=group, levels=ruleset.levels, wake=wake)
        replies = [r for action in rule.actions for r in action.run(event, Match(), ctx)]
        stamp = local.strftime("%Y-%m-%dT%H:%M")
        decided = tick.at.astimezone(group.tz)
        keyed = [
            replace(
                reply, at=decided, key=job.message_key(stamp, f"#{i}"), priority=SCHEDULED_PRIORITY
            )
            for i, reply in enumerate(replies)
        ]
        return Outcome(replies=keyed, fired=[rule.name])


def _message_candidates(event: Event, ruleset: RuleSet) -> list[tuple[CompiledRule, Match]]:
    """The rules a message triggers: by its text (pictures have none), and by what the
    moderation stream watch sees (message types, floods, repeats)."""
    found = ruleset.matcher.candidates(event.text) if event.content == "text" else ()
    stream = ruleset.detectors.stream
    if stream and (watched := stream.observe(event)):
        merged = dict(found)
        for order, evidence in watched.items():
            earlier = merged.get(order)
            detected = (*earlier.detected, *evidence) if earlier else tuple(evidence)
            merged[order] = Match(detected=detected)
        found = tuple(sorted(merged.items()))
    return [(ruleset.rules[order], match) for order, match in found]


def _member_fits(rule: CompiledRule, event: Event, tx: StoreTx, ruleset: RuleSet) -> bool:
    """The sender's join time, tags and layer (judged now, in the group's zone), for rules
    that ask."""
    conditions = rule.conditions
    if conditions.joined_within is not None:
        joined = tx.joined_at(event.group, event.member)
        if joined is None or event.at - joined > conditions.joined_within:
            return False
    if conditions.tags is not None and not conditions.tags.intersection(
        tx.tags_of(event.group, event.member, event.at)
    ):
        return False
    if conditions.layers is None:
        return True
    zone = ruleset.zone_of(event.group)
    thresholds = ruleset.layer_thresholds
    today = event.at.astimezone(zone).date()
    layer = tx.layer_now(event.group, event.member, zone, today, thresholds)
    return layer in conditions.layers


def _recompute_layers(group: str, now: datetime, tx: StoreTx, ruleset: RuleSet) -> Outcome:
    """The daily layer job: store every membership's layer, a row for each change."""
    if not ruleset.serves(group):
        return Outcome()
    changes = tx.recompute_layers(group, ruleset.zone_of(group), now, ruleset.layer_thresholds)
    logger.bind(group=group).info("member layers recomputed: {} changed", len(changes))
    refresh_system_tags(tx, ruleset, group, now)
    alerts = churn_alerts(tx, ruleset, group, changes, now)
    alerts += activity_drop_alerts(tx, ruleset, group, now)
    alerts += member_drop_alerts(tx, ruleset, group, now)
    alerts += weekly_summary_alerts(tx, ruleset, group, now)
    return Outcome(replies=alerts, fired=[JobId.for_layers(group).key])


def _forget_old(tx: StoreTx, ruleset: RuleSet, now: datetime) -> Outcome:
    """The retention job: blank old message texts, delete old queued questions and audit
    records, as the config says; what it did goes to the audit log (kept as the rest)."""
    retention = ruleset.config.retention

    def before(days: int | None) -> datetime | None:
        return None if days is None else now - timedelta(days=days)

    forgot = tx.forget_old(
        before(retention.message_text_days),
        before(retention.unanswered_days),
        before(retention.audit_days),
    )
    detail = ", ".join(f"{what} {count}" for what, count in forgot.items())
    tx.audit(now, "system", "system", "retention", None, detail, "ok")
    logger.info("retention: {}", detail)
    return Outcome(fired=[JobId.for_retention().key])


def flush_welcomes(now: datetime, tx: StoreTx, wake: Wake, ruleset: RuleSet) -> list[Effect]:
    """Send every welcome batch that is due: one message per group and welcome rule."""
    replies: list[Effect] = []
    pending = tx.due_welcomes(now)
    for (group_id, rule), batch_iter in groupby(pending, key=lambda p: (p.group, p.rule)):
        batch = list(batch_iter)
        log = logger.bind(group=group_id, rule=rule)
        action = ruleset.welcomes.get(rule)
        members = [p.member for p in batch]
        if action is None:
            log.warning(
                "welcome rule is gone from the config; {} newcomer(s) not welcomed", len(batch)
            )
            tx.mark_welcomed(group_id, members, now)
            continue
        fresh = [p for p in batch if not action.is_stale(p.due, now)]
        if len(fresh) < len(batch):
            log.warning(
                "{} welcome(s) dropped: overdue by more than {}",
                len(batch) - len(fresh),
                action.max_delay,
            )
        if fresh:
            group = ruleset.group_info(group_id)
            replies.append(action.greet(group, fresh, now, rule))
        tx.mark_welcomed(group_id, members, now)
    following = tx.next_welcome_due()
    if following is not None:
        wake(following, WELCOME)
    return replies
