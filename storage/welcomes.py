"""Pending welcomes: newcomers wait in their membership row until the burst's welcome is due."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    bindparam,
    func,
    select,
    update,
)

from storage.tables import (
    MEMBERS,
    MEMBERSHIPS,
    THIS_MEMBERSHIP,
    G,
)
from storage.unit_of_work import TxBase

_Q_QUEUE_WELCOME = (
    update(MEMBERSHIPS)
    .where(THIS_MEMBERSHIP)
    .values(welcome_rule=bindparam("rule"), welcome_due=bindparam("due"))
)

_Q_MARK_WELCOMED = (
    update(MEMBERSHIPS).where(THIS_MEMBERSHIP).values(welcomed_at=bindparam("at"), welcome_due=None)
)

_Q_PENDING_WELCOME = select(func.min(MEMBERSHIPS.c.welcome_due)).where(
    MEMBERSHIPS.c.group_id == G,
    MEMBERSHIPS.c.welcome_due.is_not(None),
    MEMBERSHIPS.c.welcomed_at.is_(None),
    MEMBERSHIPS.c.left_at.is_(None),
)

_Q_JOINED_AT = select(MEMBERSHIPS.c.joined_at).where(THIS_MEMBERSHIP)

_Q_NEXT_WELCOME = select(func.min(MEMBERSHIPS.c.welcome_due)).where(
    MEMBERSHIPS.c.welcome_due.is_not(None),  # the partial index's condition
    MEMBERSHIPS.c.welcomed_at.is_(None),
    MEMBERSHIPS.c.left_at.is_(None),
)

_INVITER = MEMBERS.alias("inviter")

_Q_DUE_WELCOMES = (
    select(
        MEMBERSHIPS.c.group_id,
        MEMBERSHIPS.c.member_id,
        MEMBERS.c.name,
        MEMBERSHIPS.c.inviter_id,
        _INVITER.c.name,
        MEMBERSHIPS.c.welcome_rule,
        MEMBERSHIPS.c.welcome_due,
    )
    .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
    .outerjoin(_INVITER, _INVITER.c.id == MEMBERSHIPS.c.inviter_id)
    .where(
        MEMBERSHIPS.c.welcome_due <= bindparam("now"),
        MEMBERSHIPS.c.welcomed_at.is_(None),
        MEMBERSHIPS.c.left_at.is_(None),
    )
    .order_by(MEMBERSHIPS.c.group_id, MEMBERSHIPS.c.joined_at, MEMBERSHIPS.c.member_id)
)


@dataclass(frozen=True, slots=True)
class PendingWelcome:
    group: str
    member: str
    name: str
    inviter: str | None
    inviter_name: str | None
    rule: str
    due: datetime


class WelcomesTx(TxBase):
    """One welcome per burst of joins, due a window after its first newcomer."""

    def queue_welcome(self, group: str, member: str, rule: str, window: timedelta) -> datetime:
        """Add a newcomer to the group's pending welcome batch and return when it is due.

        The batch is due ``window`` after its first newcomer, so a burst shares one message.
        """
        due = self._scalar(_Q_PENDING_WELCOME, g=group)
        if due is None:
            due = self._scalar(_Q_JOINED_AT, g=group, m=member) + window
        self._run(_Q_QUEUE_WELCOME, g=group, m=member, rule=rule, due=due)
        return cast(datetime, due)

    def next_welcome_due(self) -> datetime | None:
        """The earliest pending welcome anywhere: what a restarted bot must wake up for."""
        return cast(datetime | None, self._scalar(_Q_NEXT_WELCOME))

    def due_welcomes(self, now: datetime) -> list[PendingWelcome]:
        return [
            PendingWelcome(
                group=r[0],
                member=r[1],
                name=r[2] or r[1],
                inviter=r[3],
                inviter_name=(r[4] or r[3]) if r[3] else None,
                rule=r[5] or "",
                due=r[6],
            )
            for r in self._run(_Q_DUE_WELCOMES, now=now)
        ]

    def mark_welcomed(self, group: str, members: Sequence[str], at: datetime) -> None:
        for member in members:
            self._run(_Q_MARK_WELCOMED, g=group, m=member, at=at)
