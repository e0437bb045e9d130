"""Check-ins and points: one check-in per member, group and local day; the ledger and balances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    bindparam,
    case,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import (
    CHECKINS,
    DAY,
    LEDGER,
    MEMBERS,
    MEMBERSHIPS,
    G,
    M,
)
from storage.unit_of_work import TxBase

_Q_CHECKIN = select(CHECKINS.c.streak, CHECKINS.c.rank, CHECKINS.c.points, CHECKINS.c.at).where(
    CHECKINS.c.group_id == G, CHECKINS.c.member_id == M, CHECKINS.c.day == DAY
)

# No row comes back when the change would take the balance below zero (see grant_points).
_Q_ADD_POINTS = (
    update(MEMBERSHIPS)
    .where(
        MEMBERSHIPS.c.group_id == G,
        MEMBERSHIPS.c.member_id == M,
        MEMBERSHIPS.c.points + bindparam("delta") >= 0,
    )
    .values(points=MEMBERSHIPS.c.points + bindparam("delta"))
    .returning(MEMBERSHIPS.c.points)
)

_Q_BALANCE = select(MEMBERSHIPS.c.points).where(
    MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == M
)

_Q_AHEAD = (
    select(func.count())
    .select_from(MEMBERSHIPS)
    .where(
        MEMBERSHIPS.c.group_id == G,
        MEMBERSHIPS.c.left_at.is_(None),
        MEMBERSHIPS.c.points > bindparam("points"),
    )
)

_Q_LAST_CHECKIN = (
    select(
        CHECKINS.c.day,
        CHECKINS.c.streak,
        select(func.count())
        .select_from(CHECKINS)
        .where(CHECKINS.c.group_id == G, CHECKINS.c.member_id == M)
        .scalar_subquery(),
    )
    .where(CHECKINS.c.group_id == G, CHECKINS.c.member_id == M)
    .order_by(CHECKINS.c.day.desc())
    .limit(1)
)

_Q_BOARD_ALL = (
    select(MEMBERSHIPS.c.member_id, MEMBERS.c.name, MEMBERSHIPS.c.points)
    .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
    .where(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.left_at.is_(None), MEMBERSHIPS.c.points > 0)
    .order_by(MEMBERSHIPS.c.points.desc(), MEMBERSHIPS.c.member_id)
    .limit(bindparam("limit"))
)

_BOARD_TOTAL = func.sum(LEDGER.c.delta).label("total")

_BOARD_PERIOD = (
    select(LEDGER.c.member_id, _BOARD_TOTAL)
    .where(LEDGER.c.group_id == G, LEDGER.c.at >= bindparam("since"))
    .group_by(LEDGER.c.member_id)
    .subquery()
)

_Q_BOARD_SINCE = (
    select(_BOARD_PERIOD.c.member_id, MEMBERS.c.name, _BOARD_PERIOD.c.total)
    .join(MEMBERS, MEMBERS.c.id == _BOARD_PERIOD.c.member_id)
    .join(
        MEMBERSHIPS,
        and_(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == _BOARD_PERIOD.c.member_id),
    )
    .where(_BOARD_PERIOD.c.total > 0, MEMBERSHIPS.c.left_at.is_(None))
    .order_by(_BOARD_PERIOD.c.total.desc(), _BOARD_PERIOD.c.member_id)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class CheckinPoints:
    """What a check-in earns: ``base`` every day, and ``bonus[n]`` more on day ``n`` of a streak."""

    base: int
    bonus: tuple[tuple[int, int], ...] = ()

    def for_streak(self, streak: int) -> int:
        return self.base + dict(self.bonus).get(streak, 0)


_CHECKIN_COLUMNS = ["group_id", "member_id", "day", "streak", "rank", "points", "at"]
_CHECKIN_STATEMENTS: dict[tuple[str, tuple[tuple[int, int], ...]], Any] = {}


def _checkin_statement(dialect: str, bonus: tuple[tuple[int, int], ...]) -> Any:
    """The whole check-in as one INSERT … SELECT: streak, rank and points computed by the
    database from the rows it holds, nothing inserted when the member checked in already.

    One statement per bonus table (a config has few), built once.
    """
    key = (dialect, bonus)
    statement = _CHECKIN_STATEMENTS.get(key)
    if statement is not None:
        return statement
    earlier, today = CHECKINS.alias("earlier"), CHECKINS.alias("today")
    streak = select(
        (
            func.coalesce(
                select(earlier.c.streak)
                .where(
                    earlier.c.group_id == G,
                    earlier.c.member_id == M,
                    earlier.c.day == bindparam("yesterday", type_=CHECKINS.c.day.type),
                )
                .scalar_subquery(),
                0,
            )
            + 1
        ).label("streak")
    ).subquery("new")
    rank = (
        func.coalesce(
            select(func.max(today.c.rank))
            .where(today.c.group_id == G, today.c.day == DAY)
            .scalar_subquery(),
            0,
        )
        + 1
    )
    points: Any = bindparam("base", type_=Integer)
    if bonus:
        points = points + case(dict(bonus), value=streak.c.streak, else_=0)
    source = select(
        G, M, DAY, streak.c.streak, rank, points, bindparam("at", type_=CHECKINS.c.at.type)
    ).where(true())  # SQLite needs a WHERE to read the ON CONFLICT that follows as its own
    upsert = (sqlite if dialect == "sqlite" else postgresql).insert(CHECKINS)
    statement = (
        upsert.from_select(
            ["group_id", "member_id", "day", "streak", "rank", "points", "at"], source
        )
        .on_conflict_do_nothing(index_elements=["group_id", "member_id", "day"])
        .returning(CHECKINS.c.streak, CHECKINS.c.rank, CHECKINS.c.points)
    )
    _CHECKIN_STATEMENTS[key] = statement
    return statement


class InsufficientPoints(Exception):
    """A deduction that would take a balance below zero: refused, nothing written."""

    def __init__(self, balance: int, delta: int) -> None:
        super().__init__(f"balance {balance} cannot take {delta}")
        self.balance = balance
        self.delta = delta


@dataclass(frozen=True, slots=True)
class CheckInResult:
    """The outcome of a check-in; ``new`` is False when the member had already checked in."""

    new: bool
    day: date
    streak: int
    rank: int
    points: int
    at: datetime


@dataclass(frozen=True, slots=True)
class Standing:
    """A member's points picture in one group."""

    balance: int
    rank: int
    streak: int
    checkins: int


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    rank: int
    member: str
    name: str
    points: int


class PointsTx(TxBase):
    """The append-only ledger with each membership caching its sum as the balance."""

    def check_in(
        self, group: str, member: str, day: date, at: datetime, points: CheckinPoints
    ) -> CheckInResult:
        """Check a member in for a local day, once; a repeat returns the first check-in.

        One statement when the check-in is new; the unique key decides a repeat (or a race
        with another process), which then reads the first one.
        """
        done = self._first(
            _checkin_statement(self._c.dialect.name, points.bonus),
            g=group,
            m=member,
            day=day,
            yesterday=day - timedelta(days=1),
            base=points.base,
            at=at,
        )
        if done is None:
            first = self._checkin_row(group, member, day)
            assert first is not None
            return first
        streak, rank, earned = done
        return CheckInResult(new=True, day=day, streak=streak, rank=rank, points=earned, at=at)

    def _checkin_row(self, group: str, member: str, day: date) -> CheckInResult | None:
        row = self._first(_Q_CHECKIN, g=group, m=member, day=day)
        if row is None:
            return None
        return CheckInResult(
            new=False, day=day, streak=row[0], rank=row[1], points=row[2], at=row[3]
        )

    def grant_points(
        self,
        group: str,
        member: str,
        delta: int,
        reason: str,
        at: datetime,
        actor: str | None = None,
    ) -> int:
        """Append to the ledger and return the new balance (the cached sum of the ledger).

        A balance never goes below zero: a deduction larger than it raises
        :class:`InsufficientPoints` and writes nothing.
        """
        balance = self._scalar(_Q_ADD_POINTS, g=group, m=member, delta=delta)
        if balance is None:
            raise InsufficientPoints(self.balance(group, member), delta)
        self._ledger.append(
            {
                "group_id": group,
                "member_id": member,
                "delta": delta,
                "reason": reason,
                "actor_id": actor,
                "at": at,
            }
        )
        return int(balance)

    def balance(self, group: str, member: str) -> int:
        found = self._scalar(_Q_BALANCE, g=group, m=member)
        return int(found or 0)

    def standing(self, group: str, member: str, today: date) -> Standing:
        """Balance, rank among current members, running streak and check-in count."""
        balance = self.balance(group, member)
        ahead = self._scalar(_Q_AHEAD, g=group, points=balance)
        last = self._first(_Q_LAST_CHECKIN, g=group, m=member)
        streak = int(last[1]) if last and last[0] >= today - timedelta(days=1) else 0
        checkins = int(last[2]) if last else 0
        return Standing(balance=balance, rank=int(ahead) + 1, streak=streak, checkins=checkins)

    def leaderboard(self, group: str, since: datetime | None, limit: int) -> list[LeaderboardRow]:
        """Top members by points: all-time from the cached balances, else from the ledger."""
        if since is None:
            rows = self._run(_Q_BOARD_ALL, g=group, limit=limit)
        else:
            self.flush()  # the period's board reads the ledger
            rows = self._run(_Q_BOARD_SINCE, g=group, since=since, limit=limit)
        return [
            LeaderboardRow(rank=i, member=r[0], name=r[1] or r[0], points=int(r[2]))
            for i, r in enumerate(rows, start=1)
        ]

    def ledger_total(self, group: str, member: str) -> int:
        """The balance recomputed from the ledger: what the cached balance must equal."""
        self.flush()
        total = self._execute(
            select(func.coalesce(func.sum(LEDGER.c.delta), 0)).where(
                LEDGER.c.group_id == group, LEDGER.c.member_id == member
            )
        ).scalar_one()
        return int(total)
