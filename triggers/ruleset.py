"""A validated config compiled once into what the engine runs: ordered rules and matchers.

Semantic problems (unknown group ids, a check-in on a join trigger, a template typo) are
collected with the config path they concern, so the loader can point at the line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from core.jobs import JobId, JobSpec
from storage.faq_queue import LearnedRow
from storage.store import StoreTx
from triggers.actions.base import (
    BASE_VARIABLES,
    SAMPLE_BASE,
    Action,
    BuildError,
    BuildKit,
    GroupInfo,
)
from triggers.actions.welcome import WelcomeAction
from triggers.conditions import CompiledConditions
from triggers.config import GroupConfig, QunbotConfig, Role, Schedule
from triggers.faq_catalog import ANSWER_SAMPLE, ANSWER_VARIABLES, FaqCatalog
from triggers.matchers import MessageMatcher
from triggers.moderation.config import Detect
from triggers.moderation.ladder import Ladder, NoticeProblem
from triggers.moderation.rules import WordsFileProblem, compile_detectors, words_of
from triggers.points_levels import Levels
from triggers.schema_types import EventType
from triggers.templates import Renderable, TemplateProblem, Templates, TemplateSource
from triggers.text import command_word, normalize

Loc = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    order: int
    name: str
    event: EventType
    conditions: CompiledConditions
    actions: tuple[Action, ...]
    stop: bool
    schedule: Schedule | None = None
    moderation: bool = False  # a ``detect:`` rule: it still runs for a muted member
    reads_points: bool = False  # an action reads the speaker's points (see ActionModel)


class RuleSetProblems(Exception):
    """Everything wrong with a config that parsed: ``(config path, message)`` pairs."""

    def __init__(self, problems: list[tuple[Loc, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


class RoleBook:
    """Who holds which role where; everyone else is a plain member."""

    def __init__(self, config: QunbotConfig) -> None:
        self._everywhere: dict[str, Role] = {}
        self._per_group: dict[tuple[str, str], Role] = {}
        for grant in config.roles:
            if grant.groups is None:
                self._everywhere[grant.member] = _stronger(
                    self._everywhere.get(grant.member), grant.role
                )
            for group in grant.groups or ():
                key = (group, grant.member)
                self._per_group[key] = _stronger(self._per_group.get(key), grant.role)

    def role_of(self, group: str, member: str) -> Role:
        return _stronger(
            self._everywhere.get(member), self._per_group.get((group, member), Role.MEMBER)
        )


_ROLE_ORDER = list(Role)
_UNLISTED_KEPT = 4096  # groups a config that lists none is in, with the names they go by

# A recomputation missed while the bot was down still runs when it is back the same day.
_LAYERS_GRACE = timedelta(hours=20)
_ALERTS_GRACE = timedelta(minutes=10)


def _stronger(a: Role | None, b: Role) -> Role:
    if a is None:
        return b
    return max(a, b, key=_ROLE_ORDER.index)


class RuleSet:
    """The running form of one config file."""

    def __init__(
        self,
        config: QunbotConfig,
        config_dir: Path | None,
        bindings: Mapping[str, str] | None = None,
    ) -> None:
        """``bindings``: topic → room id, for the groups the config names by topic."""
        self.config = config
        self.config_dir = config_dir
        self.bindings = dict(bindings or {})
        self.templates = Templates(config_dir)
        self.levels = Levels(config.points)
        self.layer_thresholds = config.layers.thresholds()
        self.roles = RoleBook(config)
        self._default_tz = ZoneInfo(config.timezone)
        self._groups: dict[str, GroupInfo] = {}
        self._unlisted: dict[tuple[str, str], GroupInfo] = {}  # made once: asked per event
        self._rooms: dict[str, str] = {}  # config name (id or topic) → room id
        self.pending_topics: dict[str, GroupConfig] = {}
        for g in config.groups:
            room = g.id or self.bindings.get(g.topic or "")
            if room is None:
                self.pending_topics[g.key] = g
                continue
            self._rooms[g.key] = room
            self._groups[room] = GroupInfo(
                room, g.name or g.key, ZoneInfo(g.timezone or config.timezone)
            )
        problems: list[tuple[Loc, str]] = []
        problems += self._check_references()
        self.faq = FaqCatalog(config.faq, self._answer_compiler(problems))
        kit = BuildKit(
            self.templates, self.levels, self.faq, config_dir, confirmations=config.confirmations
        )
        self.rules: list[CompiledRule] = []
        self.welcomes: dict[str, WelcomeAction] = {}
        ordered = sorted(
            ((i, r) for i, r in enumerate(config.rules) if r.enabled),
            key=lambda item: (-item[1].priority, item[0]),
        )
        detects: list[tuple[int, Detect, tuple[str, ...]]] = []
        for order, (position, rule) in enumerate(ordered):
            if rule.when.detect is not None:
                try:
                    detects.append(
                        (order, rule.when.detect, words_of(rule.when.detect, config_dir))
                    )
                except WordsFileProblem as problem:
                    problems.append((("rules", position, "when", "detect"), str(problem)))
            actions: list[Action] = []
            groups = tuple(re.compile(rule.when.regex).groupindex) if rule.when.regex else ()
            rule_kit = replace(kit, regex_groups=groups)
            for j, action_config in enumerate(rule.do):
                loc: Loc = ("rules", position, "do", j)
                allowed = type(action_config).accepts
                if rule.when.event not in allowed:
                    kinds = " or ".join(sorted(kind.value for kind in allowed))
                    problems.append(
                        ((*loc, "action"), f"'{action_config.action}' needs a {kinds} trigger")
                    )
                    continue
                try:
                    action = action_config.build(rule_kit)
                except BuildError as error:
                    problems.append(((*loc, error.field), error.message))
                    continue
                if isinstance(action, WelcomeAction):
                    self.welcomes.setdefault(rule.name, action)
                actions.append(action)
            self.rules.append(
                CompiledRule(
                    order=order,
                    name=rule.name,
                    event=rule.when.event,
                    conditions=CompiledConditions.build(rule.if_, self.room_of),
                    actions=tuple(actions),
                    stop=not rule.continue_,
                    schedule=rule.when.schedule,
                    moderation=rule.when.detect is not None,
                    reads_points=any(type(c).reads_speaker_points for c in rule.do),
                )
            )
            if rule.when.schedule is not None and not (rule.if_.groups or config.groups):
                problems.append(
                    (
                        ("rules", position, "when", "schedule"),
                        "a scheduled rule needs groups: list them under groups: or in if: groups",
                    )
                )
        try:
            self.ladder: Ladder | None = Ladder(config.moderation, self.templates)
        except NoticeProblem as problem:
            self.ladder = None
            problems.append((("moderation", problem.field), problem.message))
        if problems:
            raise RuleSetProblems(problems)
        self.detectors = compile_detectors(detects)
        self.moderated = bool(detects)
        self.matcher = MessageMatcher(
            [
                (r.order, rule.when)
                for r, (_, rule) in zip(self.rules, ordered, strict=True)
                if r.event is EventType.MESSAGE
            ],
            self.faq,
            self.detectors.text,
        )
        self._scheduled = {
            JobId.for_rule(rule.name, group): (rule, group)
            for rule in self.rules
            if rule.schedule is not None
            for group in self._scheduled_groups(rule)
        }
        self.by_event: dict[EventType, list[CompiledRule]] = {
            kind: [r for r in self.rules if r.event is kind] for kind in EventType
        }
        # The message rules that ask for the sender's layer or tags (read ahead per batch).
        self.asks_about_member = {
            r.order: r.conditions
            for r in self.by_event[EventType.MESSAGE]
            if r.conditions.layers is not None or r.conditions.tags is not None
        }
        # The message rules that read the sender's points (read ahead per batch too).
        self.reads_points = frozenset(
            r.order for r in self.by_event[EventType.MESSAGE] if r.reads_points
        )

    def _check_references(self) -> list[tuple[Loc, str]]:
        config = self.config
        problems: list[tuple[Loc, str]] = []
        problems += _duplicates([g.key for g in config.groups], ("groups",), "id", "group")
        problems += _duplicates([r.name for r in config.rules], ("rules",), "name", "rule name")
        problems += _duplicates(
            [e.id for e in config.faq.entries], ("faq", "entries"), "id", "FAQ id"
        )
        problems += _shadowed_commands(config)
        known = {g.key for g in config.groups}
        if not known:
            return problems
        for i, rule in enumerate(config.rules):
            for j, group in enumerate(rule.if_.groups or ()):
                if group not in known:
                    problems.append(
                        (
                            ("rules", i, "if", "groups", j),
                            f"unknown group {group!r} (not under groups:)",
                        )
                    )
        for i, grant in enumerate(config.roles):
            for j, group in enumerate(grant.groups or ()):
                if group not in known:
                    problems.append(
                        (("roles", i, "groups", j), f"unknown group {group!r} (not under groups:)")
                    )
        return problems

    def _answer_compiler(self, problems: list[tuple[Loc, str]]) -> Any:
        def compile_answer(index: int, text: str) -> Renderable:
            try:
                return self.templates.compile(
                    TemplateSource(text=text),
                    ANSWER_VARIABLES | BASE_VARIABLES,
                    {**SAMPLE_BASE, **ANSWER_SAMPLE},
                )
            except TemplateProblem as problem:
                problems.append((("faq", "entries", index, "answer"), str(problem)))
                return self.templates.env.from_string("")

        return compile_answer

    def scheduled_jobs(self) -> dict[JobId, JobSpec]:
        """One job per scheduled rule and group, in that group's time zone."""
        jobs: dict[JobId, JobSpec] = {}
        for job_id, (rule, group) in self._scheduled.items():
            assert rule.schedule is not None
            jobs[job_id] = JobSpec(rule.schedule.trigger(self.zone_of(group)), rule.schedule.grace)
        return jobs

    def layer_jobs(self) -> dict[JobId, JobSpec]:
        """Each configured group's daily layer recomputation, in its own time zone."""
        layers = self.config.layers
        return {
            JobId.for_layers(room): JobSpec(layers.trigger(self.zone_of(room)), _LAYERS_GRACE)
            for room in sorted(self._groups)
            if not room.startswith("\0")
        }

    def alert_jobs(self) -> dict[JobId, JobSpec]:
        """The look for overdue questions every five minutes, when such alerts are on and
        have somewhere to go (the unanswered queue itself is there for everyone to see)."""
        alerts = self.config.alerts
        if alerts.unanswered_after is None or alerts.to is None:
            return {}
        every = CronTrigger(minute="*/5", timezone=UTC)
        return {JobId.for_alerts(): JobSpec(every, _ALERTS_GRACE)}

    def retention_jobs(self) -> dict[JobId, JobSpec]:
        """The daily retention job, when the config limits how long anything is kept."""
        retention = self.config.retention
        if not retention.active:
            return {}
        at = retention.run_at
        daily = CronTrigger(hour=at.hour, minute=at.minute, timezone=self._default_tz)
        return {JobId.for_retention(): JobSpec(daily, _LAYERS_GRACE)}

    def scheduled_rule(self, job_id: JobId) -> tuple[CompiledRule, str] | None:
        """The rule and group a scheduled job id stands for, if the config still has them."""
        return self._scheduled.get(job_id)

    def _scheduled_groups(self, rule: CompiledRule) -> list[str]:
        wanted = rule.conditions.groups
        rooms = sorted(wanted) if wanted is not None else sorted(self._groups)
        return [room for room in rooms if not room.startswith("\0")]

    def rebound(self, bindings: Mapping[str, str]) -> RuleSet:
        """The same config compiled again with more groups bound to their rooms."""
        rebound = RuleSet(self.config, self.config_dir, bindings)
        rebound.learn(self.faq.learned)
        return rebound

    def learn(self, rows: Sequence[LearnedRow]) -> None:
        """Apply what operators taught the FAQ (stored, see /learn) to these rules."""
        if rows or self.faq.learned:
            self.faq.learn(rows)
            self.matcher.forget()

    def room_of(self, name: str) -> str:
        """A config group name (id or topic) as a room id; an unbound topic matches no room."""
        return self._rooms.get(name, name if name not in self.pending_topics else f"\0{name}")

    def served_groups(self, tx: StoreTx) -> list[str]:
        """The groups a broadcast to "all" reaches: the configured ones, else every known one."""
        return sorted(self._groups) if self.config.groups else tx.known_groups()

    def display_name(self, tx: StoreTx, group: str) -> str:
        known = self._groups.get(group)
        return known.name if known is not None else tx.group_name(group)

    def serves(self, group: str) -> bool:
        """With groups listed, the bot serves only those (once bound); with none, every group."""
        return not self.config.groups or group in self._groups

    def group_info(self, group: str, name: str = "") -> GroupInfo:
        known = self._groups.get(group)
        if known is not None:
            return known
        made = self._unlisted.get((group, name))
        if made is None:
            if len(self._unlisted) >= _UNLISTED_KEPT:
                self._unlisted.clear()
            made = self._unlisted[group, name] = GroupInfo(group, name or group, self._default_tz)
        return made

    def zone_of(self, group: str) -> ZoneInfo:
        return self.group_info(group).tz


def _shadowed_commands(config: QunbotConfig) -> list[tuple[Loc, str]]:
    """A command word a rule can never answer: an earlier rule takes it for everyone and stops."""
    owners: dict[str, str] = {}
    problems: list[tuple[Loc, str]] = []
    ordered = sorted(
        ((i, r) for i, r in enumerate(config.rules) if r.enabled),
        key=lambda item: (-item[1].priority, item[0]),
    )
    for i, rule in ordered:
        words = [command_word(normalize(word)) for word in rule.when.command or ()]
        for j, word in enumerate(words):
            owner = owners.get(word)
            if owner is not None and owner != rule.name:
                problems.append(
                    (
                        ("rules", i, "when", "command", j),
                        f"command {word!r} is already answered by rule {owner!r}, which runs "
                        "first and stops, so this rule never would; drop the word here, or give "
                        f"{owner!r} 'continue: true' or an 'if:'",
                    )
                )
        unconditional = not any(rule.if_.model_dump(exclude_none=True).values())
        if unconditional and not rule.continue_:
            for word in words:
                owners.setdefault(word, rule.name)
    return problems


def _duplicates(values: Sequence[str], base: Loc, key: str, what: str) -> list[tuple[Loc, str]]:
    seen: dict[str, int] = {}
    problems: list[tuple[Loc, str]] = []
    for i, value in enumerate(values):
        if value in seen:
            problems.append(
                ((*base, i, key), f"duplicate {what} {value!r} (also item {seen[value] + 1})")
            )
        else:
            seen[value] = i
    return problems
