"""Questions nothing answered, kept for a human to answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    insert,
    select,
)

from storage.tables import (
    MEMBERS,
    UNANSWERED,
)
from storage.unit_of_work import TxBase

_Q_INSERT_UNANSWERED = insert(UNANSWERED)

_UNANSWERED_KEYS = ("group_id", "member_id", "text", "at")


@dataclass(frozen=True, slots=True)
class UnansweredRow:
    group: str
    member: str
    name: str
    text: str
    at: datetime


class FaqQueueTx(TxBase):
    """The unanswered-questions queue."""

    def record_unanswered(self, group: str, member: str, text: str, at: datetime) -> None:
        row = {"group_id": group, "member_id": member, "text": text, "at": at}
        self._insert(_Q_INSERT_UNANSWERED, _UNANSWERED_KEYS, [row])

    def unanswered(self, group: str | None = None) -> list[UnansweredRow]:
        query = (
            select(
                UNANSWERED.c.group_id,
                UNANSWERED.c.member_id,
                MEMBERS.c.name,
                UNANSWERED.c.text,
                UNANSWERED.c.at,
            )
            .join(MEMBERS, MEMBERS.c.id == UNANSWERED.c.member_id)
            .where(UNANSWERED.c.answered_at.is_(None))
            .order_by(UNANSWERED.c.at, UNANSWERED.c.id)
        )
        if group is not None:
            query = query.where(UNANSWERED.c.group_id == group)
        return [
            UnansweredRow(group=r[0], member=r[1], name=r[2] or r[1], text=r[3], at=r[4])
            for r in self._execute(query)
        ]
