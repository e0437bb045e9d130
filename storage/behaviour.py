"""What members did over a stretch of time, counted per member in the database: the facts
behind the system tags (who asks often, who helps, who checks in day after day, who
brings people in)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from storage.activity_facts import NOT_ACTIVITY
from storage.tables import CHECKINS, INTERACTIONS, MEMBERSHIPS, UNANSWERED
from storage.unit_of_work import TxBase


class BehaviourTx(TxBase):
    def questions_asked(
        self, group: str, start: datetime, end: datetime, faq_rules: Sequence[str]
    ) -> dict[str, int]:
        """Messages in [start, end) an FAQ rule took (answered or queued), per member."""
        if not faq_rules:
            return {}
        self.flush()
        rows = self._execute(
            select(INTERACTIONS.c.member_id, func.count())
            .where(
                INTERACTIONS.c.group_id == group,
                INTERACTIONS.c.at >= start,
                INTERACTIONS.c.at < end,
                INTERACTIONS.c.rule.in_(list(faq_rules)),
            )
            .group_by(INTERACTIONS.c.member_id)
        )
        return {str(m): int(n) for m, n in rows}

    def questions_helped(self, group: str, start: datetime, end: datetime) -> dict[str, int]:
        """Others' questions asked in [start, end) each member was the first to @mention."""
        rows = self._execute(
            select(UNANSWERED.c.helped_by, func.count())
            .where(
                UNANSWERED.c.group_id == group,
                UNANSWERED.c.at >= start,
                UNANSWERED.c.at < end,
                UNANSWERED.c.helped_by.is_not(None),
            )
            .group_by(UNANSWERED.c.helped_by)
        )
        return {str(m): int(n) for m, n in rows}

    def running_streaks(self, group: str, since: date, until: date | None = None) -> dict[str, int]:
        """Each member's check-in streak as of their latest check-in from ``since`` to
        ``until`` (default: any day since)."""
        self.flush()
        days = [CHECKINS.c.day >= since] + ([CHECKINS.c.day <= until] if until else [])
        latest = (
            select(CHECKINS.c.member_id, func.max(CHECKINS.c.day).label("day"))
            .where(CHECKINS.c.group_id == group, *days)
            .group_by(CHECKINS.c.member_id)
            .subquery()
        )
        rows = self._execute(
            select(CHECKINS.c.member_id, CHECKINS.c.streak)
            .join(
                latest,
                (CHECKINS.c.member_id == latest.c.member_id) & (CHECKINS.c.day == latest.c.day),
            )
            .where(CHECKINS.c.group_id == group)
        )
        return {str(m): int(n) for m, n in rows}

    def members_invited(self, group: str, start: datetime, end: datetime) -> dict[str, int]:
        """Members who joined in [start, end), per inviter."""
        rows = self._execute(
            select(MEMBERSHIPS.c.inviter_id, func.count())
            .where(
                MEMBERSHIPS.c.group_id == group,
                MEMBERSHIPS.c.joined_at >= start,
                MEMBERSHIPS.c.joined_at < end,
                MEMBERSHIPS.c.inviter_id.is_not(None),
            )
            .group_by(MEMBERSHIPS.c.inviter_id)
        )
        return {str(m): int(n) for m, n in rows}

    def weekly_activity(
        self, group: str, now: datetime, weeks: int
    ) -> dict[str, tuple[int, int, int]]:
        """Per member: their activity in the last 7 days, in the 7 before, and in the
        ``weeks`` weeks before those (the baseline), in one pass over the index."""
        self.flush()
        week = timedelta(days=7)
        recent, previous, start = now - week, now - 2 * week, now - (weeks + 2) * week
        at = INTERACTIONS.c.at
        rows = self._execute(
            select(
                INTERACTIONS.c.member_id,
                func.sum(case((at >= recent, 1), else_=0)),
                func.sum(case(((at >= previous) & (at < recent), 1), else_=0)),
                func.sum(case((at < previous, 1), else_=0)),
            )
            .where(
                INTERACTIONS.c.group_id == group,
                at >= start,
                at < now,
                INTERACTIONS.c.kind.not_in(NOT_ACTIVITY),
            )
            .group_by(INTERACTIONS.c.member_id)
        )
        return {str(m): (int(a), int(b), int(c)) for m, a, b, c in rows}

    def first_answers(
        self, group: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime | None]]:
        """When each question the bot could not answer in [start, end) was asked, and when a
        person first answered it (None: not yet). Few rows: only the FAQ's misses."""
        rows = self._execute(
            select(UNANSWERED.c.at, UNANSWERED.c.answered_at).where(
                UNANSWERED.c.group_id == group, UNANSWERED.c.at >= start, UNANSWERED.c.at < end
            )
        )
        return [(asked, answered) for asked, answered in rows]
