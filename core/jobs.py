"""Timer jobs as values: what a tick stands for, and the one place their text forms live.

A job is the welcome timer, a scheduled rule in one group, or an operator's broadcast. The
job store and the outbox's idempotency keys need text; :attr:`JobId.key` writes it and
:meth:`JobId.parse` reads it back, so no other module knows the grammar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from apscheduler.triggers.base import BaseTrigger


class JobKind(StrEnum):
    WELCOME = "welcome"
    RULE = "rule"
    BROADCAST = "broadcast"
    LAYERS = "layers"
    ALERTS = "alerts"
    RETENTION = "retention"


def _escape(part: str) -> str:
    """Rule names and group ids may hold ':'; escaped, a key splits one way only.

    Only '%' and ':' change, so keys of names without them stay as earlier versions wrote them.
    """
    return part.replace("%", "%25").replace(":", "%3A")


def _unescape(part: str) -> str:
    return part.replace("%3A", ":").replace("%25", "%")


class BadJobKey(ValueError):
    """A job store id this version cannot read."""


@dataclass(frozen=True, slots=True)
class JobId:
    kind: JobKind
    rule: str = ""  # RULE: the rule's name
    group: str = ""  # RULE, LAYERS: the group it runs in
    broadcast: int = 0  # BROADCAST: the broadcast's number

    @classmethod
    def welcome(cls) -> JobId:
        return cls(JobKind.WELCOME)

    @classmethod
    def for_rule(cls, rule: str, group: str) -> JobId:
        return cls(JobKind.RULE, rule=rule, group=group)

    @classmethod
    def for_layers(cls, group: str) -> JobId:
        """The daily recomputation of one group's member layers."""
        return cls(JobKind.LAYERS, group=group)

    @classmethod
    def for_alerts(cls) -> JobId:
        """The periodic look for what operators must hear of (overdue questions)."""
        return cls(JobKind.ALERTS)

    @classmethod
    def for_retention(cls) -> JobId:
        """The daily forgetting of what is kept no longer than config's retention says."""
        return cls(JobKind.RETENTION)

    @classmethod
    def for_broadcast(cls, number: int) -> JobId:
        return cls(JobKind.BROADCAST, broadcast=number)

    @property
    def key(self) -> str:
        """The id in the job store, in logs and at the head of idempotency keys."""
        if self.kind is JobKind.RULE:
            return f"rule:{_escape(self.rule)}:{_escape(self.group)}"
        if self.kind is JobKind.BROADCAST:
            return f"broadcast:{self.broadcast}"
        if self.kind is JobKind.LAYERS:
            return f"layers:{_escape(self.group)}"
        if self.kind is JobKind.ALERTS:
            return "alerts"
        if self.kind is JobKind.RETENTION:
            return "retention"
        return "welcome"

    @classmethod
    def parse(cls, key: str) -> JobId:
        kind, _, rest = key.partition(":")
        if kind == JobKind.WELCOME and not rest:
            return cls.welcome()
        if kind == JobKind.ALERTS and not rest:
            return cls.for_alerts()
        if kind == JobKind.RETENTION and not rest:
            return cls.for_retention()
        if kind == JobKind.BROADCAST and rest.isdigit():
            return cls.for_broadcast(int(rest))
        if kind == JobKind.LAYERS and rest and ":" not in rest:
            return cls.for_layers(_unescape(rest))
        rule, separator, group = rest.partition(":")
        if kind == JobKind.RULE and separator and ":" not in group:
            return cls.for_rule(_unescape(rule), _unescape(group))
        raise BadJobKey(f"not a job this version knows: {key!r}")

    def message_key(self, stamp: str, part: str) -> str:
        """An idempotency key for one message of the run at ``stamp`` (``part``: which one)."""
        return f"{self.key}@{stamp}{part}"

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True, slots=True)
class Tick:
    """A job due now; ``scheduled`` is the run it stands for (None for plain timers)."""

    job: JobId
    scheduled: datetime | None = None

    def __str__(self) -> str:
        if self.scheduled is None:
            return self.job.key
        return f"{self.job.key}@{self.scheduled.astimezone(UTC).isoformat()}"


# The one welcome timer: every group's pending welcomes are flushed when it fires.
WELCOME = Tick(JobId.welcome())


@dataclass(frozen=True, slots=True)
class JobSpec:
    """When a job runs (an APScheduler trigger) and how late a missed run may still run."""

    trigger: BaseTrigger
    grace: timedelta


class Schedule(Protocol):
    """What scheduling a job needs (``bot.scheduler.JobBook`` is the one implementation)."""

    def add(self, job_id: JobId, spec: JobSpec, now: datetime) -> datetime | None: ...

    def remove(self, job_id: JobId) -> None: ...
