"""The tables. Uniqueness the domain relies on is a constraint here, never a Python ``if``.

Who may do what and who did it (grants, pending confirmations, data keys, the audit log)
are in :mod:`storage.access_models`, imported here so that this module registers every table.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    Table,
    Unicode,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

from storage.access_models import AuditEntry, DataKey, PendingOperation, RoleGrant
from storage.encryption import SecretText
from storage.types import utc_field

# Partial-index conditions: the rows the hot queries look for, a small share of the table.
_PENDING_WELCOME = "welcome_due IS NOT NULL"
_PENDING_MESSAGE = "status = 'pending'"
_CURRENT_MEMBER = "left_at IS NULL"


class Group(SQLModel, table=True):
    __tablename__ = "groups"

    id: str = Field(primary_key=True, max_length=128)
    name: str = Field(default="", max_length=256)
    first_seen_at: datetime = utc_field()  # type: ignore[assignment]


class Member(SQLModel, table=True):
    __tablename__ = "members"

    id: str = Field(primary_key=True, max_length=128)
    name: str = Field(default="", sa_type=SecretText("members.name", sqlite_length=256))
    first_seen_at: datetime = utc_field()  # type: ignore[assignment]


class Membership(SQLModel, table=True):
    """A member in a group: when they came, who invited them, their cached points balance.

    ``joined_at`` is None for members first seen speaking (they joined before the bot).
    ``welcome_due`` marks a welcome not yet sent, so a restart still sends it once.
    """

    __tablename__ = "memberships"
    __table_args__ = (
        # Only pending welcomes are indexed: a new membership then costs no index entry.
        Index(
            "ix_memberships_pending_welcome",
            "group_id",
            "welcome_due",
            sqlite_where=text(_PENDING_WELCOME),
            postgresql_where=text(_PENDING_WELCOME),
        ),
    )

    group_id: str = Field(primary_key=True, foreign_key="groups.id", max_length=128)
    member_id: str = Field(primary_key=True, foreign_key="members.id", max_length=128)
    first_seen_at: datetime = utc_field()  # type: ignore[assignment]
    joined_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    inviter_id: str | None = Field(default=None, max_length=128)
    left_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    points: int = 0
    welcome_rule: str | None = Field(default=None, max_length=128)
    welcome_due: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    welcomed_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    layer: str | None = Field(default=None, max_length=16)  # as of the last recomputation
    # Activity facts, kept by storage.activity_facts: the last interaction that shows the
    # member active, and how many such fall in the group's counted window.
    active_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    # A server default only: the hot path's prepared inserts leave the column out.
    active_count: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


# Current members by points, highest first: a rank (how many are ahead) and the top of a
# leaderboard read this index alone (a points column is only known once the class exists).
_MEMBERSHIPS = SQLModel.metadata.tables["memberships"]
Index(
    "ix_memberships_current_points",
    _MEMBERSHIPS.c.group_id,
    _MEMBERSHIPS.c.points.desc(),
    _MEMBERSHIPS.c.member_id,
    sqlite_where=text(_CURRENT_MEMBER),
    postgresql_where=text(_CURRENT_MEMBER),
)


class ActivityWindow(SQLModel, table=True):
    """Where the counted window of a group's activity facts begins, as they stand now."""

    __tablename__ = "activity_windows"

    group_id: str = Field(primary_key=True, max_length=128)
    counted_from: datetime = utc_field()  # type: ignore[assignment]


class ActivityWatermark(SQLModel, table=True):
    """The last interaction id folded into the activity facts (one row)."""

    __tablename__ = "activity_watermark"

    id: int = Field(default=1, primary_key=True)
    through_id: int = 0


class LayerChange(SQLModel, table=True):
    """A membership moving between layers: layer sizes over time, and what alerts watch."""

    __tablename__ = "layer_changes"
    __table_args__ = (Index("ix_layer_changes_group_at", "group_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(max_length=128)
    member_id: str = Field(max_length=128)
    from_layer: str | None = Field(default=None, max_length=16)
    to_layer: str = Field(max_length=16)
    at: datetime = utc_field()  # type: ignore[assignment]


class MemberTag(SQLModel, table=True):
    """A tag on a member in a group (意向:瓷砖, VIP): who set it, and until when it holds."""

    __tablename__ = "member_tags"
    __table_args__ = (Index("ix_member_tags_group_tag", "group_id", "tag"),)

    group_id: str = Field(primary_key=True, max_length=128)
    member_id: str = Field(primary_key=True, max_length=128)
    tag: str = Field(primary_key=True, max_length=64)
    source: str = Field(max_length=16)  # rule, admin or system
    set_by: str | None = Field(default=None, max_length=128)  # the rule or the person
    at: datetime = utc_field()  # type: ignore[assignment]
    expires_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]


class Alert(SQLModel, table=True):
    """An alert to the operators: one per kind, group, subject and period (deduplicated)."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("kind", "group_id", "subject", "period", name="uq_alerts_subject"),
        Index("ix_alerts_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    group_id: str = Field(max_length=128)
    subject: str = Field(max_length=128)  # a member, a question's id
    period: str = Field(max_length=32)  # a day, or the question's time: dedupe within it
    text: str = Field(sa_type=SecretText("alerts.text"))
    at: datetime = utc_field()  # type: ignore[assignment]
    sent: bool = False  # False: recorded only (no destination, or over the hourly cap)


class Strike(SQLModel, table=True):
    """A group rule broken: what the ladder did about it, until when, and any pardon."""

    __tablename__ = "strikes"
    __table_args__ = (
        Index("ix_strikes_group_member_at", "group_id", "member_id", "at"),
        Index("ix_strikes_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(max_length=128)
    member_id: str = Field(max_length=128)
    rule: str = Field(max_length=128)
    reason: str = Field(max_length=256)  # what the rule says was broken
    # What was found: a link, a word.
    evidence: str = Field(default="", sa_type=SecretText("strikes.evidence", sqlite_length=256))
    weight: int = 1  # strikes this counts as on the ladder
    step: str = Field(max_length=16)  # warn, mute, remove, report (ask a human)
    until: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    at: datetime = utc_field()  # type: ignore[assignment]
    pardoned_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    pardoned_by: str | None = Field(default=None, max_length=128)


class Interaction(SQLModel, table=True):
    """Every message and membership event, the raw material of activity reports."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_group_at", "group_id", "at"),
        # With the kind last, a member's activity (not the platform's notices) is counted
        # from the index alone: the daily layer job reads no table row.
        Index("ix_interactions_group_member_at_kind", "group_id", "member_id", "at", "kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(foreign_key="groups.id", max_length=128)
    member_id: str = Field(foreign_key="members.id", max_length=128)
    kind: str = Field(max_length=16)
    text: str | None = Field(default=None, sa_type=SecretText("interactions.text"))
    rule: str | None = Field(default=None, max_length=128)
    at: datetime = utc_field()  # type: ignore[assignment]


class PointsEntry(SQLModel, table=True):
    """The append-only points ledger; balances are a cache of its sums."""

    __tablename__ = "points_ledger"
    __table_args__ = (
        Index("ix_points_ledger_group_at", "group_id", "at"),
        Index("ix_points_ledger_group_member", "group_id", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(foreign_key="groups.id", max_length=128)
    member_id: str = Field(foreign_key="members.id", max_length=128)
    delta: int
    reason: str = Field(max_length=256)
    actor_id: str | None = Field(default=None, max_length=128)
    at: datetime = utc_field()  # type: ignore[assignment]


class CheckIn(SQLModel, table=True):
    """One row per member, group and local day: the constraint is what forbids a double check-in."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("group_id", "member_id", "day", name="uq_checkins_group_member_day"),
        # With the rank last, the day's next rank is an index lookup (max), not a count.
        Index("ix_checkins_group_day_rank", "group_id", "day", "rank"),
    )

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(foreign_key="groups.id", max_length=128)
    member_id: str = Field(foreign_key="members.id", max_length=128)
    day: date
    streak: int
    rank: int
    points: int
    at: datetime = utc_field()  # type: ignore[assignment]


class UnansweredQuestion(SQLModel, table=True):
    """A question nothing answered, kept for a human to answer."""

    __tablename__ = "unanswered_questions"
    __table_args__ = (Index("ix_unanswered_group_at", "group_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(foreign_key="groups.id", max_length=128)
    member_id: str = Field(foreign_key="members.id", max_length=128)
    text: str = Field(sa_type=SecretText("unanswered_questions.text"))
    at: datetime = utc_field()  # type: ignore[assignment]
    answered_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    answered_by: str | None = Field(default=None, max_length=128)  # who answered, if a person
    # The first member (not staff) who @mentioned the asker while it was open: a helper.
    helped_by: str | None = Field(default=None, max_length=128)
    answer: str | None = Field(  # what they answered with /answer
        default=None, sa_type=SecretText("unanswered_questions.answer")
    )


class LearnedQuestion(SQLModel, table=True):
    """A member's question an operator taught the FAQ (/learn): config.yaml stays the admins'."""

    __tablename__ = "faq_learned"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: str = Field(max_length=128)
    question: str = Field(sa_type=SecretText("faq_learned.question"))
    answer: str | None = Field(  # only for an entry learned as new
        default=None, sa_type=SecretText("faq_learned.answer")
    )
    learned_by: str = Field(max_length=128)
    source: int | None = None  # the unanswered question it came from
    at: datetime = utc_field()  # type: ignore[assignment]


class FaqSuggestion(SQLModel, table=True):
    """ "Did you mean": the entries offered for a question, and the one the member chose."""

    __tablename__ = "faq_suggestions"
    __table_args__ = (Index("ix_faq_suggestions_member", "group_id", "member_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    group_id: str = Field(max_length=128)
    member_id: str = Field(max_length=128)
    asked: str = Field(sa_type=SecretText("faq_suggestions.asked"))
    entries: str = Field(max_length=1024)  # the offered entry ids, in order, comma-separated
    at: datetime = utc_field()  # type: ignore[assignment]
    expires_at: datetime = utc_field()  # type: ignore[assignment]
    chosen: str | None = Field(default=None, max_length=128)  # the entry id the member chose
    chosen_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]


class OutboxMessage(SQLModel, table=True):
    """Every effect (a message, a removal) is a row first; a worker performs it and marks it.

    ``key`` makes deciding to send the same thing twice store it once (a briefing per
    group and day, a broadcast per group); replies to members have no key.
    """

    __tablename__ = "outbox"
    # Only unsent messages are indexed: a sent mark removes an entry instead of moving it.
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "priority",
            "not_before",
            "id",
            sqlite_where=text(_PENDING_MESSAGE),
            postgresql_where=text(_PENDING_MESSAGE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=256, unique=True)
    account: str = Field(default="default", max_length=128)
    # What to do (``core.effects.EffectKind``): send ``text``, or remove ``member``.
    kind: str = Field(default="send_text", max_length=32)
    group_id: str = Field(max_length=128)
    text: str = Field(sa_type=SecretText("outbox.text"))
    member: str | None = Field(default=None, max_length=128)
    # Whose message this answers: the worker takes turns between requesters.
    requester: str | None = Field(default=None, max_length=128)
    mentions: str = Field(default="[]", description="JSON list of member ids")
    priority: int = 0
    rule: str | None = Field(default=None, max_length=128)
    # The broadcast a message delivers (None for replies and scheduled rules' posts).
    broadcast_id: int | None = Field(default=None, index=True)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    error: str | None = None
    decided_at: datetime = utc_field()  # type: ignore[assignment]
    not_before: datetime = utc_field()  # type: ignore[assignment]
    sent_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]


# APScheduler's job store table, declared here so that migrations, not the job store's own
# create_all, own the schema. Columns as SQLAlchemyJobStore defines them.
APSCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class Broadcast(SQLModel, table=True):
    """An operator's scheduled message to chosen groups (or all); one row, one job."""

    __tablename__ = "broadcasts"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(description="the template, rendered for each group")
    groups: str | None = Field(default=None, description="JSON list of group ids; null: all")
    at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    cron: str | None = Field(default=None, max_length=128)
    timezone: str = Field(max_length=64)
    status: str = Field(default="scheduled", max_length=16)
    created_by: str = Field(max_length=128)
    created_at: datetime = utc_field()  # type: ignore[assignment]
    cancelled_at: datetime | None = utc_field(nullable=True)  # type: ignore[assignment]
    # Only these members, @mentioned (``layer=quiet,tag=VIP``); null: the whole group.
    segment: str | None = Field(default=None, max_length=256)


class GroupBinding(SQLModel, table=True):
    """A group the config names by its topic, bound to the room that had that topic.

    Bound once, kept: the group keeps its rules and data when it is renamed later.
    """

    __tablename__ = "group_bindings"

    topic: str = Field(primary_key=True, max_length=256)
    group_id: str = Field(max_length=128, unique=True)
    bound_at: datetime = utc_field()  # type: ignore[assignment]


class SeenMessage(SQLModel, table=True):
    """A platform message already handled: a redelivery (after a reconnect or a restart)
    is recognised and handled once. Kept for :data:`storage.seen.KEEP_SEEN`, then pruned."""

    __tablename__ = "seen_messages"

    message_id: str = Field(primary_key=True, max_length=128)
    seen_at: datetime = utc_field(index=True)  # type: ignore[assignment]


__all__ = ["AuditEntry", "DataKey", "PendingOperation", "RoleGrant"]
