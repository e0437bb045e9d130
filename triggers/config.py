"""The shape of config.yaml: pydantic models that validate what group admins write.

Every model forbids unknown keys. ``qunbot schema`` prints the JSON Schema of
:class:`QunbotConfig` so editors can validate and complete the file.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from pydantic import ConfigDict, Field, field_validator, model_validator

from core.layers import Layer, LayerThresholds
from triggers.actions import action_models
from triggers.actions.base import ActionModel
from triggers.faq_catalog import FaqConfig
from triggers.moderation.config import DetectSpec, ModerationConfig
from triggers.operations_config import (
    AlertsConfig,
    ConfirmationsConfig,
    RetentionConfig,
    SendingConfig,
    SystemTagsConfig,
)
from triggers.points_levels import PointsConfig
from triggers.regex import compile_linear
from triggers.schema_types import (
    Duration,
    EventType,
    NonEmptyStr,
    StrictModel,
    TimeOfDay,
    TimeZoneName,
    Words,
)

DEFAULT_TIMEZONE = "Asia/Shanghai"

if TYPE_CHECKING:
    ActionConfig = ActionModel
else:  # one member per action module, told apart by its ``action`` key
    ActionConfig = Annotated[Union[action_models()], Field(discriminator="action")]  # noqa: UP007


class Role(StrEnum):
    """Sender roles, weakest first."""

    MEMBER = "member"
    OPERATOR = "operator"
    ADMIN = "admin"
    OWNER = "owner"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class Schedule(StrictModel):
    """When a scheduled rule runs, in each of its groups' own time zone."""

    at: TimeOfDay | None = Field(default=None, description="time of day, e.g. '08:00'")
    days: list[Weekday] | None = Field(
        default=None, description="weekdays to run on (default: every day)"
    )
    cron: str | None = Field(
        default=None, description="a crontab line instead of at/days, e.g. '0 8 * * 1-5'"
    )
    skip_dates: list[date] = Field(
        default_factory=list, description="dates not to run on (holidays), e.g. 2026-10-01"
    )
    grace: Duration = Field(
        default=timedelta(minutes=30),
        description="if the bot was down at the time, still run this late; later is skipped",
    )

    @model_validator(mode="after")
    def _at_or_cron(self) -> Schedule:
        if (self.at is None) == (self.cron is None):
            raise ValueError("give either 'at' (with optional 'days') or 'cron'")
        if self.cron is not None:
            if self.days is not None:
                raise ValueError("'days' goes with 'at'; put the weekdays in the cron line")
            try:
                CronTrigger.from_crontab(self.cron)
            except ValueError as error:
                raise ValueError(f"invalid cron line {self.cron!r}: {error}") from None
        return self

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        if self.cron is not None:
            return CronTrigger.from_crontab(self.cron, timezone=zone)
        assert self.at is not None
        days = ",".join(self.days) if self.days else "*"
        return CronTrigger(
            day_of_week=days, hour=self.at.hour, minute=self.at.minute, timezone=zone
        )


class GroupConfig(StrictModel):
    """A group by its room id, or by its topic (bound to that room the first time it is seen,
    and kept when the group is renamed later)."""

    id: NonEmptyStr | None = Field(default=None, description="the platform's group (room) id")
    topic: NonEmptyStr | None = Field(
        default=None, description="the group's name, when its id is not known yet"
    )
    name: str = Field(default="", description="display name, used in messages and reports")
    timezone: TimeZoneName | None = Field(
        default=None, description="the group's zone for days and hours; defaults to the top level"
    )

    @model_validator(mode="after")
    def _id_or_topic(self) -> GroupConfig:
        if (self.id is None) == (self.topic is None):
            raise ValueError("give the group's 'id' or its 'topic' (one of them)")
        return self

    @property
    def key(self) -> str:
        """How rules refer to the group: its id, else its topic."""
        return self.id or self.topic or ""


class RoleGrant(StrictModel):
    member: NonEmptyStr = Field(description="the member's platform id")
    role: Literal[Role.OPERATOR, Role.ADMIN, Role.OWNER]
    groups: list[NonEmptyStr] | None = Field(
        default=None, description="where the role holds; omit for every group"
    )


class Trigger(StrictModel):
    """What starts a rule. For messages give at most one of command, keywords, regex, question,
    detect; none of them means every message."""

    event: EventType = EventType.MESSAGE
    command: Words | None = Field(
        default=None, description="command words: the message's first word must be one of them"
    )
    keywords: Words | None = Field(default=None, description="words found anywhere in the message")
    match: Literal["any", "all"] = Field(
        default="any", description="with keywords: any one of them, or all of them"
    )
    regex: str | None = Field(default=None, description="a Python regular expression to search")
    question: bool = Field(
        default=False,
        description="messages that read as questions, or that the FAQ can answer",
    )
    detect: DetectSpec | None = Field(
        default=None,
        description="group rules broken: link, contact, banned words, message types, floods",
    )
    schedule: Schedule | None = Field(
        default=None, description="run at set times instead of on an event"
    )

    @field_validator("regex")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"invalid regular expression: {error}") from None
            compile_linear(pattern)  # UnsupportedRegex is a ValueError: reported the same way
        return pattern

    @model_validator(mode="after")
    def _one_kind(self) -> Trigger:
        given = [
            name
            for name, value in (
                ("command", self.command),
                ("keywords", self.keywords),
                ("regex", self.regex),
                ("question", self.question or None),
                ("detect", self.detect),
            )
            if value is not None
        ]
        if self.schedule is not None:
            if given or "event" in self.model_fields_set:
                raise ValueError(
                    "a schedule trigger takes no event, command, keywords, regex, question "
                    "or detect"
                )
            return self.model_copy(update={"event": EventType.SCHEDULE})
        if self.event is EventType.SCHEDULE:
            raise ValueError("event: schedule needs a 'schedule' (at/days or cron)")
        if self.event is not EventType.MESSAGE and given:
            raise ValueError(f"a {self.event.value} trigger takes no {', '.join(given)}")
        if len(given) > 1:
            raise ValueError(
                f"give only one of command, keywords, regex, question, detect (got {given})"
            )
        if self.match == "all" and self.keywords is None:
            raise ValueError("'match' goes with 'keywords'")
        return self


class Cooldown(StrictModel):
    member: Duration | None = Field(
        default=None, description="the same member cannot fire the rule again within this"
    )
    group: Duration | None = Field(
        default=None, description="nobody in the group can fire the rule again within this"
    )


class Hours(StrictModel):
    from_: TimeOfDay = Field(alias="from", description="local start, e.g. '08:00'")
    to: TimeOfDay = Field(description="local end; earlier than 'from' wraps past midnight")


class Conditions(StrictModel):
    groups: list[NonEmptyStr] | None = Field(
        default=None, description="group ids the rule is limited to"
    )
    roles: list[Role] | None = Field(default=None, description="sender roles allowed")
    cooldown: Cooldown | None = None
    hours: Hours | None = Field(default=None, description="local time-of-day window")
    layers: list[Layer] | None = Field(
        default=None, description="the sender's layer is one of these (new, core, active …)"
    )
    tags: list[NonEmptyStr] | None = Field(
        default=None, description="the sender has at least one of these tags"
    )
    joined_within: Duration | None = Field(
        default=None, description="the sender joined the group at most this long ago, e.g. '10m'"
    )


def _do_accepts_one_action(schema: dict[str, Any]) -> None:
    """The schema must say what the validator accepts: one action, or a list of them."""
    do = schema["properties"]["do"]
    description = do.pop("description", None)
    schema["properties"]["do"] = {"description": description, "anyOf": [do["items"], do]}


class Rule(StrictModel):
    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra=_do_accepts_one_action)

    name: NonEmptyStr
    when: Trigger
    if_: Conditions = Field(default_factory=Conditions, alias="if")
    do: list[ActionConfig] = Field(min_length=1, description="one action or a list of them")
    priority: int = Field(default=0, description="higher runs first; ties keep file order")
    continue_: bool = Field(
        default=False,
        alias="continue",
        description="after this rule fires, go on to later matching rules (default: stop)",
    )
    enabled: bool = True

    @field_validator("do", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, dict) else value


class LayersConfig(StrictModel):
    """Member layers (用户分层): the thresholds, and when the daily recomputation runs."""

    new_days: int = Field(default=7, ge=0, description="'new' for this many days after joining")
    core_interactions: int = Field(
        default=50, ge=1, description="'core' with at least this many interactions in the window"
    )
    core_window_days: int = Field(
        default=365, ge=1, description="the window core members' interactions are counted in"
    )
    quiet_days: int = Field(default=30, ge=1, description="'quiet' after this many idle days")
    churning_days: int = Field(default=90, ge=1, description="'churning' after this many idle days")
    recompute_at: TimeOfDay = Field(
        default=time(4, 0), description="when the daily recomputation runs, in each group's zone"
    )

    @model_validator(mode="after")
    def _quiet_before_churning(self) -> LayersConfig:
        if self.churning_days <= self.quiet_days:
            raise ValueError(
                f"churning_days ({self.churning_days}) must be more than quiet_days "
                f"({self.quiet_days}): a member goes quiet before they churn"
            )
        return self

    def thresholds(self) -> LayerThresholds:
        return LayerThresholds(
            new_days=self.new_days,
            core_interactions=self.core_interactions,
            core_window_days=self.core_window_days,
            quiet_days=self.quiet_days,
            churning_days=self.churning_days,
        )

    def trigger(self, zone: ZoneInfo) -> CronTrigger:
        return CronTrigger(
            hour=self.recompute_at.hour, minute=self.recompute_at.minute, timezone=zone
        )


class QunbotConfig(StrictModel):
    """Top level of config.yaml."""

    timezone: TimeZoneName = Field(
        default=DEFAULT_TIMEZONE, description="default zone for every group"
    )
    groups: list[GroupConfig] = Field(
        default_factory=list,
        description="groups the bot serves; when empty it serves every group it is in",
    )
    roles: list[RoleGrant] = Field(default_factory=list)
    points: PointsConfig = Field(default_factory=PointsConfig)
    faq: FaqConfig = Field(default_factory=FaqConfig)
    sending: SendingConfig = Field(default_factory=SendingConfig)
    layers: LayersConfig = Field(default_factory=LayersConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    moderation: ModerationConfig = Field(default_factory=ModerationConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    system_tags: SystemTagsConfig = Field(default_factory=SystemTagsConfig)
    confirmations: ConfirmationsConfig = Field(default_factory=ConfirmationsConfig)
    rules: list[Rule] = Field(default_factory=list)
