"""What the operators' report is made of: aggregates computed by the database, per bucket
of local time, never every row pulled into Python.

Buckets (days, hours) are passed in as [start, end) instants the caller computed in the
group's zone, so a day is a local day whatever daylight saving does to its length.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, bindparam, column, func, select, values

from storage.activity_facts import ACTIVE
from storage.tables import CHECKINS, INTERACTIONS, MEMBERS, MEMBERSHIPS, UNANSWERED, G
from storage.unit_of_work import TxBase


@dataclass(frozen=True, slots=True)
class Bucket:
    """A stretch of local time: ``label`` names it (a day, "mon 08"), [start, end) bounds it."""

    label: str
    start: datetime
    end: datetime

    @classmethod
    def day(cls, day: date, zone: ZoneInfo) -> Bucket:
        """One local day, labelled by its date (23 or 25 hours long across a DST change)."""
        return cls(
            day.isoformat(),
            datetime.combine(day, time(), zone),
            datetime.combine(day + timedelta(days=1), time(), zone),
        )


@dataclass(frozen=True, slots=True)
class Activity:
    label: str
    messages: int
    active_members: int


@dataclass(frozen=True, slots=True)
class Joined:
    member: str
    name: str
    at: datetime
    inviter: str | None


BUCKETS_PER_READ = 24

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_AT = INTERACTIONS.c.at.type

# The buckets as a table to join, bound ``l0, s0, e0 …``: prepared once (SQLAlchemy compiles
# a VALUES list anew for every call, which costs more than the query).
_BUCKETS = (
    values(column("label", String), column("b_start", _AT), column("b_end", _AT), name="buckets")
    .data(
        [
            (
                bindparam(f"l{n}", type_=String),
                bindparam(f"s{n}", type_=_AT),
                bindparam(f"e{n}", type_=_AT),
            )
            for n in range(BUCKETS_PER_READ)
        ]
    )
    .cte("buckets")
)

_Q_ACTIVITY = (
    select(
        _BUCKETS.c.label,
        func.count(INTERACTIONS.c.id),
        func.count(func.distinct(INTERACTIONS.c.member_id)),
    )
    .select_from(_BUCKETS)
    .join(
        INTERACTIONS,
        (INTERACTIONS.c.group_id == G)
        & (INTERACTIONS.c.at >= _BUCKETS.c.b_start)
        & (INTERACTIONS.c.at < _BUCKETS.c.b_end)
        & and_(*ACTIVE),
    )
    .group_by(_BUCKETS.c.label)
)


class ReportsTx(TxBase):
    """Aggregates for the report, one query per table for all of a group's buckets."""

    def activity(self, group: str, buckets: Sequence[Bucket]) -> list[Activity]:
        """Messages and distinct active members in each bucket (index range per bucket),
        :data:`BUCKETS_PER_READ` buckets a read through one prepared statement."""
        self.flush()
        found: dict[str, tuple[int, int]] = {}
        for first in range(0, len(buckets), BUCKETS_PER_READ):
            chunk = list(buckets[first : first + BUCKETS_PER_READ])
            bound: dict[str, object] = {"g": group}
            for n in range(BUCKETS_PER_READ):
                b = chunk[n] if n < len(chunk) else None  # padding: an empty range
                bound[f"l{n}"] = b.label if b else ""
                bound[f"s{n}"] = b.start if b else _EPOCH
                bound[f"e{n}"] = b.end if b else _EPOCH
            for label, n, members in self._run(_Q_ACTIVITY, **bound):
                found[label] = (int(n), int(members))
        return [Activity(b.label, *found.get(b.label, (0, 0))) for b in buckets]

    def checkins_per_day(self, group: str, first: date, last: date) -> dict[date, int]:
        self.flush()
        rows = self._execute(
            select(CHECKINS.c.day, func.count())
            .where(CHECKINS.c.group_id == group, CHECKINS.c.day.between(first, last))
            .group_by(CHECKINS.c.day)
        )
        return {day: int(n) for day, n in rows}

    def joined_between(self, group: str, start: datetime, end: datetime) -> list[Joined]:
        """Memberships that (re)joined in [start, end), oldest first, with the inviter."""
        rows = self._execute(
            select(
                MEMBERSHIPS.c.member_id,
                MEMBERS.c.name,
                MEMBERSHIPS.c.joined_at,
                MEMBERSHIPS.c.inviter_id,
            )
            .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
            .where(
                MEMBERSHIPS.c.group_id == group,
                MEMBERSHIPS.c.joined_at >= start,
                MEMBERSHIPS.c.joined_at < end,
            )
            .order_by(MEMBERSHIPS.c.joined_at, MEMBERSHIPS.c.member_id)
        )
        return [Joined(m, name or m, at, inviter) for m, name, at, inviter in rows]

    def unanswered_between(
        self, group: str, start: datetime, end: datetime, limit: int
    ) -> tuple[int, list[tuple[str, int]]]:
        """How many questions went unanswered in [start, end), and the most asked texts."""
        where = (
            UNANSWERED.c.group_id == group,
            UNANSWERED.c.at >= start,
            UNANSWERED.c.at < end,
        )
        total = int(self._execute(select(func.count()).where(*where)).scalar_one())
        # Counted here, not grouped in SQL: sealed at rest, equal texts differ in every row.
        asked = Counter(text for (text,) in self._execute(select(UNANSWERED.c.text).where(*where)))
        top = sorted(asked.items(), key=lambda pair: (-pair[1], pair[0]))[:limit]
        return total, top

    def answered_between(
        self, group: str, start: datetime, end: datetime, rules: Sequence[str]
    ) -> int:
        """Messages in [start, end) that one of ``rules`` (the FAQ's) took."""
        self.flush()
        if not rules:
            return 0
        return int(
            self._execute(
                select(func.count()).where(
                    INTERACTIONS.c.group_id == group,
                    INTERACTIONS.c.at >= start,
                    INTERACTIONS.c.at < end,
                    INTERACTIONS.c.rule.in_(list(rules)),
                )
            ).scalar_one()
        )
