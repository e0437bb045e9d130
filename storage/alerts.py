"""Alerts to the operators: recorded once per kind, group, subject and period, and the
unanswered questions they watch (answered by a human, or overdue)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from storage.tables import ALERTS, MEMBERS, UNANSWERED
from storage.unit_of_work import TxBase


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    kind: str
    group: str
    subject: str
    text: str
    at: datetime
    sent: bool


@dataclass(frozen=True, slots=True)
class OpenQuestion:
    id: int
    member: str
    name: str
    text: str
    at: datetime


class AlertsTx(TxBase):
    """The alert log, and the questions an ``unanswered`` alert is about."""

    def record_alert(
        self, kind: str, group: str, subject: str, period: str, text: str, at: datetime
    ) -> int | None:
        """Record an alert; its id, or None when this subject had one this period."""
        inserted = self._execute(
            self._upsert(ALERTS)
            .values(
                kind=kind,
                group_id=group,
                subject=subject,
                period=period,
                text=text,
                at=at,
                sent=False,
            )
            .on_conflict_do_nothing(index_elements=["kind", "group_id", "subject", "period"])
            .returning(ALERTS.c.id)
        ).first()
        return int(inserted[0]) if inserted else None

    def mark_alert_sent(self, alert: int) -> None:
        self._execute(update(ALERTS).where(ALERTS.c.id == alert).values(sent=True))

    def alerts_sent_since(self, since: datetime) -> int:
        return int(
            self._execute(
                select(func.count()).where(ALERTS.c.sent.is_(True), ALERTS.c.at >= since)
            ).scalar_one()
        )

    def alert_log(self, limit: int = 50) -> list[AlertRow]:
        rows = self._execute(
            select(
                ALERTS.c.id,
                ALERTS.c.kind,
                ALERTS.c.group_id,
                ALERTS.c.subject,
                ALERTS.c.text,
                ALERTS.c.at,
                ALERTS.c.sent,
            )
            .order_by(ALERTS.c.at.desc(), ALERTS.c.id.desc())
            .limit(limit)
        )
        return [AlertRow(*row) for row in rows]

    def answer_questions(self, group: str, member: str, at: datetime) -> int:
        """A human answered ``member``: their open questions asked before ``at`` are closed."""
        done = self._execute(
            update(UNANSWERED)
            .where(
                UNANSWERED.c.group_id == group,
                UNANSWERED.c.member_id == member,
                UNANSWERED.c.answered_at.is_(None),
                UNANSWERED.c.at <= at,
            )
            .values(answered_at=at)
        )
        return int(done.rowcount)

    def mentioned(
        self, group: str, sender: str, mentions: Sequence[str], staff: bool, at: datetime
    ) -> None:
        """``sender`` @mentioned members: staff answer their open questions (closed); a
        member is noted as the first helper (they stay open)."""
        for member in mentions:
            if staff:
                self.answer_questions(group, member, at)
            elif member != sender:
                self.help_questions(group, member, sender, at)

    def help_questions(self, group: str, member: str, helper: str, at: datetime) -> int:
        """A member (not staff) @mentioned ``member``: their open questions asked before
        ``at`` record the first such helper; they stay open (only staff answers close)."""
        done = self._execute(
            update(UNANSWERED)
            .where(
                UNANSWERED.c.group_id == group,
                UNANSWERED.c.member_id == member,
                UNANSWERED.c.answered_at.is_(None),
                UNANSWERED.c.helped_by.is_(None),
                UNANSWERED.c.at <= at,
            )
            .values(helped_by=helper)
        )
        return int(done.rowcount)

    def overdue_questions(
        self, group: str, asked_from: datetime, asked_before: datetime
    ) -> list[OpenQuestion]:
        """Questions still open that were asked in [asked_from, asked_before), oldest first."""
        rows = self._execute(
            select(
                UNANSWERED.c.id,
                UNANSWERED.c.member_id,
                MEMBERS.c.name,
                UNANSWERED.c.text,
                UNANSWERED.c.at,
            )
            .join(MEMBERS, MEMBERS.c.id == UNANSWERED.c.member_id)
            .where(
                UNANSWERED.c.group_id == group,
                UNANSWERED.c.answered_at.is_(None),
                UNANSWERED.c.at >= asked_from,
                UNANSWERED.c.at < asked_before,
            )
            .order_by(UNANSWERED.c.at, UNANSWERED.c.id)
        )
        return [OpenQuestion(i, m, name or m, text, at) for i, m, name, text, at in rows]
