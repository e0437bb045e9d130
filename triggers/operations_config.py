"""The config sections about how the bot runs for its operators: how fast it may send,
where alerts go, how long members' words are kept, what waits for a confirmation."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal

from pydantic import Field, model_validator

from triggers.schema_types import Duration, NonEmptyStr, StrictModel, TimeOfDay

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ActivityDropConfig(StrictModel):
    """A group's day far below the same weekday of the weeks before it (活跃度骤降)."""

    weeks: int = Field(
        default=4, ge=2, le=12, description="the baseline: this many earlier same weekdays"
    )
    min_messages: int = Field(
        default=30,
        ge=1,
        description="a baseline median below this is too small a group (or too new) to judge",
    )
    drop: float = Field(
        default=0.5, gt=0, lt=1, description="alert when the day is below (1 - drop) × median"
    )


class MemberDropConfig(StrictModel):
    """A member whose week fell far below their own usual week (checked on Mondays)."""

    weeks: int = Field(default=8, ge=2, le=26, description="their usual: the weeks before")
    min_weekly: float = Field(
        default=10, gt=0, description="only members usually this active a week are judged"
    )
    drop: float = Field(
        default=0.7, gt=0, lt=1, description="alert when a week is below (1 - drop) × usual"
    )


class AlertsConfig(StrictModel):
    """Alerts to the operators: where they go, how many an hour at most, which kinds."""

    to: NonEmptyStr | None = Field(
        default=None,
        description="the chat or group id alerts are sent to; without it they are only recorded",
    )
    max_per_hour: int = Field(default=20, ge=1, description="more in an hour are only recorded")
    churn_risk: bool = Field(
        default=True, description="a core member went quiet, or a member's week fell"
    )
    member_drop: MemberDropConfig | None = Field(
        default_factory=MemberDropConfig,
        description="churn_risk by a member's own usual week (null: only core members going quiet)",
    )
    unanswered_after: Duration | None = Field(
        default=timedelta(minutes=30),
        description="a question no one answered for this long (null: never alert)",
    )
    activity_drop: ActivityDropConfig | None = Field(
        default_factory=ActivityDropConfig,
        description="a group's day far below its usual for that weekday (null: never)",
    )
    weekly_summary: Weekday | None = Field(
        default="mon",
        description="the day each group's weekly numbers are sent (null: never)",
    )


class ConfirmationsConfig(StrictModel):
    """Sensitive operations that wait for a confirmation (/approve) before they are done."""

    points_above: int | None = Field(
        default=1000,
        ge=1,
        description="a /grant of more points than this (either way) waits for /approve "
        "(null: never)",
    )
    by: Literal["self", "another_admin"] = Field(
        default="self",
        description="who confirms: the admin who asked, or an admin other than them",
    )
    segment_above: int | None = Field(
        default=200,
        ge=1,
        description="a segment broadcast that reaches more members than this asks for "
        "confirmation (`--yes` on the CLI; null: never)",
    )
    member_data: Literal["self", "another_admin"] = Field(
        default="self",
        description="a member's export or erasure from the CLI: the operator confirms at the "
        "prompt (self), or it becomes a request another operator approves "
        "(`qunbot member approve`)",
    )
    expires: Duration = Field(
        default=timedelta(minutes=10), description="how long a request can be confirmed"
    )


class RetentionConfig(StrictModel):
    """How long what members wrote is kept (PIPL: no longer than needed). Unset: for good."""

    message_text_days: int | None = Field(
        default=None,
        ge=1,
        description="blank message texts older than this (the interaction rows stay, so "
        "activity, layers and reports keep their numbers)",
    )
    unanswered_days: int | None = Field(
        default=None, ge=1, description="delete queued questions older than this"
    )
    audit_days: int | None = Field(
        default=None, ge=1, description="delete audit records older than this"
    )
    run_at: TimeOfDay = Field(
        default=time(3, 30), description="when the daily job runs, in the config's zone"
    )

    @property
    def active(self) -> bool:
        return any(
            days is not None
            for days in (self.message_text_days, self.unanswered_days, self.audit_days)
        )


class SendingConfig(StrictModel):
    """How fast the bot account may speak: WeChat restricts accounts that send too fast."""

    min_gap: Duration = Field(
        default=timedelta(seconds=3), description="least time between two messages"
    )
    jitter: Duration = Field(
        default=timedelta(seconds=3), description="random extra wait, 0 to this"
    )
    per_minute: int = Field(default=40, ge=1, description="most messages in any minute")
    mentions_per_message: int = Field(
        default=20,
        ge=1,
        le=100,
        description="a segment broadcast @mentions at most this many members per message",
    )
    max_attempts: int = Field(
        default=5, ge=1, description="tries before a message is marked failed"
    )
    login_quiet: Duration = Field(
        default=timedelta(minutes=5),
        description="after a (re)login, hold scheduled posts and broadcasts this long",
    )
    backoff: Duration = Field(
        default=timedelta(seconds=10), description="first retry wait; doubles each time"
    )
    member_budget: int = Field(
        default=6, ge=1, description="most replies to one member within member_window"
    )
    member_window: Duration = Field(
        default=timedelta(minutes=1),
        description="the window of member_budget; the same reply twice in it is sent once",
    )


class CountedTag(StrictModel):
    """A system tag for members who did something at least so often lately."""

    tag: NonEmptyStr = Field(max_length=64)
    at_least: int = Field(ge=1, description="how many times in the last `days` days")
    days: int = Field(default=30, ge=1, le=365)


class StreakTag(StrictModel):
    """A system tag for members whose check-in streak is still running and this long."""

    tag: NonEmptyStr = Field(max_length=64)
    at_least: int = Field(ge=2, description="consecutive days checked in")


class SystemTagsConfig(StrictModel):
    """Tags the daily layer job gives by behaviour (source ``system``) and takes back when
    it no longer holds; null turns one off."""

    frequent_asker: CountedTag | None = Field(
        default_factory=lambda: CountedTag(tag="常问", at_least=5),
        description="asked the FAQ this often",
    )
    helpful_answerer: CountedTag | None = Field(
        default_factory=lambda: CountedTag(tag="热心", at_least=3),
        description="first to @mention this many askers whose question the bot could not answer",
    )
    checkin_streak: StreakTag | None = Field(
        default_factory=lambda: StreakTag(tag="签到达人", at_least=7),
        description="a check-in streak this long, still running",
    )
    top_inviter: CountedTag | None = Field(
        default_factory=lambda: CountedTag(tag="邀请达人", at_least=3),
        description="invited this many members who joined",
    )

    @model_validator(mode="after")
    def _distinct(self) -> SystemTagsConfig:
        kinds = (self.frequent_asker, self.helpful_answerer, self.checkin_streak, self.top_inviter)
        names = [kind.tag for kind in kinds if kind is not None]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"each system tag needs its own name; given twice: {', '.join(twice)}")
        return self
