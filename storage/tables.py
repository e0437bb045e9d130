"""The store's tables as SQLAlchemy Core objects, and the bind parameters most queries share."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
)
from sqlalchemy.sql.elements import BindParameter

from storage.models import (
    ActivityWatermark,
    ActivityWindow,
    Alert,
    AuditEntry,
    Broadcast,
    CheckIn,
    FaqSuggestion,
    Group,
    GroupBinding,
    Interaction,
    LayerChange,
    LearnedQuestion,
    Member,
    Membership,
    MemberTag,
    OutboxMessage,
    PendingOperation,
    PointsEntry,
    RoleGrant,
    SeenMessage,
    Strike,
    UnansweredQuestion,
)


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


GROUPS = _table(Group)

MEMBERS = _table(Member)

MEMBERSHIPS = _table(Membership)

INTERACTIONS = _table(Interaction)

LEDGER = _table(PointsEntry)

CHECKINS = _table(CheckIn)

UNANSWERED = _table(UnansweredQuestion)

SUGGESTIONS = _table(FaqSuggestion)

LEARNED = _table(LearnedQuestion)

GRANTS = _table(RoleGrant)

PENDING = _table(PendingOperation)

OUTBOX = _table(OutboxMessage)

BROADCASTS = _table(Broadcast)

AUDIT = _table(AuditEntry)

BINDINGS = _table(GroupBinding)

SEEN = _table(SeenMessage)

LAYER_CHANGES = _table(LayerChange)

MEMBER_TAGS = _table(MemberTag)

ALERTS = _table(Alert)

STRIKES = _table(Strike)

ACTIVITY_WINDOWS = _table(ActivityWindow)

ACTIVITY_WATERMARK = _table(ActivityWatermark)

G: BindParameter[str] = bindparam("g")

M: BindParameter[str] = bindparam("m")

DAY: BindParameter[date] = bindparam("day")

THIS_MEMBERSHIP = and_(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == M)
