"""What members did over a stretch of time, counted per member in the database: the facts
behind the system tags (who asks often, who helps, who checks in day after day, who
brings people in).

Each statement is built once and prepared (see ``storage.prepared``): the daily tag and
alert runs ask them of every group, and building and running them through SQLAlchemy's
execution took longer than SQLite's own work on most groups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, func, select

from storage.activity_facts import ACTIVE
from storage.tables import CHECKINS, INTERACTIONS, MEMBERSHIPS, UNANSWERED
from storage.unit_of_work import KEYS, TxBase

_I, _U, _C, _M = INTERACTIONS.c, UNANSWERED.c, CHECKINS.c, MEMBERSHIPS.c
_G = bindparam("g", type_=_I.group_id.type)


def _window(at: ColumnElement[Any]) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``at`` in [start, end)."""
    return at >= bindparam("start", type_=_I.at.type), at < bindparam("end", type_=_I.at.type)


# The FAQ rules' names are the fixed IN list of KEYS, padded: a read per 64 rules.
_Q_ASKED = (
    select(_I.member_id, func.count())
    .where(_I.group_id == _G, *_window(_I.at), _I.rule.in_(KEYS))
    .group_by(_I.member_id)
)
_Q_HELPED = (
    select(_U.helped_by, func.count())
    .where(_U.group_id == _G, *_window(_U.at), _U.helped_by.is_not(None))
    .group_by(_U.helped_by)
)
_LATEST = (
    select(_C.member_id, func.max(_C.day).label("day"))
    .where(
        _C.group_id == _G,
        _C.day >= bindparam("since", type_=_C.day.type),
        _C.day <= bindparam("until", type_=_C.day.type),
    )
    .group_by(_C.member_id)
    .subquery()
)
_Q_STREAKS = (
    select(_C.member_id, _C.streak)
    .join(_LATEST, and_(_C.member_id == _LATEST.c.member_id, _C.day == _LATEST.c.day))
    .where(_C.group_id == _G)
)
_Q_INVITED = (
    select(_M.inviter_id, func.count())
    .where(_M.group_id == _G, *_window(_M.joined_at), _M.inviter_id.is_not(None))
    .group_by(_M.inviter_id)
)
_RECENT, _PREVIOUS = bindparam("recent", type_=_I.at.type), bindparam("previous", type_=_I.at.type)
_Q_WEEKLY = (
    select(
        _I.member_id,
        func.sum(case((_I.at >= _RECENT, 1), else_=0)),
        func.sum(case((and_(_I.at >= _PREVIOUS, _I.at < _RECENT), 1), else_=0)),
        func.sum(case((_I.at < _PREVIOUS, 1), else_=0)),
    )
    .where(_I.group_id == _G, *_window(_I.at), *ACTIVE)
    .group_by(_I.member_id)
)
_Q_FIRST_ANSWERS = select(_U.at, _U.answered_at).where(_U.group_id == _G, *_window(_U.at))


class BehaviourTx(TxBase):
    def questions_asked(
        self, group: str, start: datetime, end: datetime, faq_rules: Sequence[str]
    ) -> dict[str, int]:
        """Messages in [start, end) an FAQ rule took (answered or queued), per member."""
        if not faq_rules:
            return {}
        self.flush()
        asked: Counter[str] = Counter()
        rows = self._run_for_keys(_Q_ASKED, sorted(set(faq_rules)), g=group, start=start, end=end)
        for member, count in rows:  # each read counts its own rules: add them up
            asked[str(member)] += int(count)
        return dict(asked)

    def questions_helped(self, group: str, start: datetime, end: datetime) -> dict[str, int]:
        """Others' questions asked in [start, end) each member was the first to @mention."""
        rows = self._run(_Q_HELPED, g=group, start=start, end=end)
        return {str(m): int(n) for m, n in rows}

    def running_streaks(self, group: str, since: date, until: date | None = None) -> dict[str, int]:
        """Each member's check-in streak as of their latest check-in from ``since`` to
        ``until`` (default: any day since)."""
        self.flush()
        rows = self._run(_Q_STREAKS, g=group, since=since, until=until or date.max)
        return {str(m): int(n) for m, n in rows}

    def members_invited(self, group: str, start: datetime, end: datetime) -> dict[str, int]:
        """Members who joined in [start, end), per inviter."""
        rows = self._run(_Q_INVITED, g=group, start=start, end=end)
        return {str(m): int(n) for m, n in rows}

    def weekly_activity(
        self, group: str, now: datetime, weeks: int
    ) -> dict[str, tuple[int, int, int]]:
        """Per member: their activity in the last 7 days, in the 7 before, and in the
        ``weeks`` weeks before those (the baseline), in one pass over the index."""
        self.flush()
        week = timedelta(days=7)
        rows = self._run(
            _Q_WEEKLY,
            g=group,
            recent=now - week,
            previous=now - 2 * week,
            start=now - (weeks + 2) * week,
            end=now,
        )
        return {str(m): (int(a), int(b), int(c)) for m, a, b, c in rows}

    def first_answers(
        self, group: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime | None]]:
        """When each question the bot could not answer in [start, end) was asked, and when a
        person first answered it (None: not yet). Few rows: only the FAQ's misses."""
        rows = self._run(_Q_FIRST_ANSWERS, g=group, start=start, end=end)
        return [(asked, answered) for asked, answered in rows]
