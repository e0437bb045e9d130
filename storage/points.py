"""Check-ins and points: one check-in per member, group and local day; the ledger and balances."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)

from storage.tables import (
    CHECKINS,
    DAY,
    LEDGER,
    MEMBERS,
    MEMBERSHIPS,
    G,
    M,
)
from storage.unit_of_work import WANTED, BufferSpec, TxBase

_ADD_BALANCE = (
    update(MEMBERSHIPS)
    .where(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == M)
    .values(points=MEMBERSHIPS.c.points + bindparam("delta"))
)


def _per_member(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One balance change per membership for all the grants pending."""
    deltas: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["g"], row["m"])
        deltas[key] = deltas.get(key, 0) + row["delta"]
    return [{"g": g, "m": m, "delta": delta} for (g, m), delta in deltas.items() if delta]


CHECKINS_BUFFER = BufferSpec(
    insert(CHECKINS), ("group_id", "member_id", "day", "streak", "rank", "points", "at")
)
LEDGER_BUFFER = BufferSpec(
    insert(LEDGER), ("group_id", "member_id", "delta", "reason", "actor_id", "at")
)
BALANCES_BUFFER = BufferSpec(_ADD_BALANCE, (), _per_member)

_Q_DAY_RANK = select(func.max(CHECKINS.c.rank)).where(
    CHECKINS.c.group_id == G, CHECKINS.c.day == DAY
)

# Locked on PostgreSQL: a deduction decided from it must not race another process's.
_Q_BALANCE = (
    select(MEMBERSHIPS.c.points)
    .where(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == M)
    .with_for_update()
)

_Q_BALANCES_OF = (
    select(MEMBERSHIPS.c.group_id, MEMBERSHIPS.c.member_id, MEMBERSHIPS.c.points)
    .join_from(
        WANTED,
        MEMBERSHIPS,
        (MEMBERSHIPS.c.group_id == WANTED.c.g) & (MEMBERSHIPS.c.member_id == WANTED.c.m),
    )
    .with_for_update(of=MEMBERSHIPS)
)

_Q_RECENT_CHECKINS_OF = select(
    CHECKINS.c.group_id,
    CHECKINS.c.member_id,
    CHECKINS.c.day,
    CHECKINS.c.streak,
    CHECKINS.c.rank,
    CHECKINS.c.points,
    CHECKINS.c.at,
).join_from(
    WANTED,
    CHECKINS,
    (CHECKINS.c.group_id == WANTED.c.g)
    & (CHECKINS.c.member_id == WANTED.c.m)
    & (CHECKINS.c.day >= bindparam("since", type_=CHECKINS.c.day.type)),
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


class _Day(NamedTuple):
    """One stored (or pending) check-in."""

    streak: int
    rank: int
    points: int
    at: datetime


class _PointsCache:
    """What this transaction knows of balances and recent check-ins.

    Exact for the transaction's life: SQLite's batch holds the write lock (BEGIN
    IMMEDIATE), and every change the transaction makes goes through here before its row
    is buffered. Undone per event by the unit of work's undo log.
    """

    def __init__(self) -> None:
        self.balances: dict[tuple[str, str], int] = {}
        self.days: dict[tuple[str, str, date], _Day] = {}
        self.known_since: dict[tuple[str, str], date] = {}  # check-ins complete from then on
        self.ranks: dict[tuple[str, date], int] = {}  # the day's highest rank so far


class PointsTx(TxBase):
    """The append-only ledger with each membership caching its sum as the balance.

    Check-ins, grants and balances are decided in memory from what a few bulk reads per
    batch loaded, and written together when the batch commits: a check-in costs no
    statement of its own.
    """

    _points_cache: _PointsCache | None = None

    @property
    def _pc(self) -> _PointsCache:
        if self._points_cache is None:
            self._points_cache = _PointsCache()
        return self._points_cache

    def check_in(
        self, group: str, member: str, day: date, at: datetime, points: CheckinPoints
    ) -> CheckInResult:
        """Check a member in for a local day, once; a repeat returns the first check-in.

        The streak continues yesterday's; the rank follows the day's highest so far. A
        second process checking the same member in waits on the membership's row lock and
        then sees this check-in; the unique key (group, member, day) still guards the table.
        """
        cache = self._pc
        self._load_recent(group, member, day - timedelta(days=1))
        first = cache.days.get((group, member, day))
        if first is not None:
            return CheckInResult(False, day, first.streak, first.rank, first.points, first.at)
        before = cache.days.get((group, member, day - timedelta(days=1)))
        streak = before.streak + 1 if before is not None else 1
        rank = self._day_rank(group, day) + 1
        earned = points.for_streak(streak)
        self._remember(cache.ranks, (group, day), rank)
        self._remember(cache.days, (group, member, day), _Day(streak, rank, earned, at))
        self._buffer(
            CHECKINS_BUFFER,
            {
                "group_id": group,
                "member_id": member,
                "day": day,
                "streak": streak,
                "rank": rank,
                "points": earned,
                "at": at,
            },
        )
        return CheckInResult(new=True, day=day, streak=streak, rank=rank, points=earned, at=at)

    def _day_rank(self, group: str, day: date) -> int:
        ranks = self._pc.ranks
        rank = ranks.get((group, day))
        if rank is None:
            rank = ranks[(group, day)] = int(self._scalar(_Q_DAY_RANK, g=group, day=day) or 0)
        return rank

    def _load_recent(self, group: str, member: str, since: date) -> None:
        """Know the member's check-ins from ``since`` on, and their balance; loaded in bulk
        for every member the batch expects, in every group, the first time one needs it."""
        cache = self._pc
        if cache.known_since.get((group, member), date.max) <= since:
            return
        unknown = [
            pair
            for pair in {(g, m) for g, ms in self.expected.items() for m in ms} | {(group, member)}
            if cache.known_since.get(pair, date.max) > since
        ]
        # A membership the batch created holds no points or check-ins yet, even mid-batch:
        # every write of them goes through this cache, which loads a pair before it writes.
        for pair in self.new_memberships.keys() & unknown:
            cache.balances.setdefault(pair, 0)
            cache.known_since[pair] = date.min
        wanted = sorted(pair for pair in unknown if pair not in self.new_memberships)
        # Locked first (PostgreSQL; SQLite's batch holds the write lock already): a second
        # process checking the same member in waits, then reads this check-in.
        for g, m, balance in self._run_for_pairs(_Q_BALANCES_OF, wanted):
            cache.balances.setdefault((g, m), int(balance))
        for g, m, d, *rest in self._run_for_pairs(_Q_RECENT_CHECKINS_OF, wanted, since=since):
            cache.days.setdefault((g, m, d), _Day(*rest))
        for pair in wanted:
            cache.known_since[pair] = since

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
        :class:`InsufficientPoints` and writes nothing. So does a grant to someone who is
        no member of the group.
        """
        balance = self._balance_or_none(group, member)
        if balance is None or balance + delta < 0:
            raise InsufficientPoints(balance or 0, delta)
        self._remember(self._pc.balances, (group, member), balance + delta)
        self._buffer(BALANCES_BUFFER, {"g": group, "m": member, "delta": delta})
        self._buffer(
            LEDGER_BUFFER,
            {
                "group_id": group,
                "member_id": member,
                "delta": delta,
                "reason": reason,
                "actor_id": actor,
                "at": at,
            },
        )
        return balance + delta

    def balance(self, group: str, member: str) -> int:
        return self._balance_or_none(group, member) or 0

    def _balance_or_none(self, group: str, member: str) -> int | None:
        """The balance with this transaction's grants; None when there is no membership.

        A membership that does not exist is not cached: a join later in the batch makes it.
        """
        balances = self._pc.balances
        found = balances.get((group, member))
        if found is None:
            stored = self._scalar(_Q_BALANCE, g=group, m=member)
            if stored is None:
                return None
            found = balances[(group, member)] = int(stored)
        return found

    def standing(self, group: str, member: str, today: date) -> Standing:
        """Balance, rank among current members, running streak and check-in count."""
        self.flush()
        balance = self.balance(group, member)
        ahead = self._scalar(_Q_AHEAD, g=group, points=balance)
        last = self._first(_Q_LAST_CHECKIN, g=group, m=member)
        streak = int(last[1]) if last and last[0] >= today - timedelta(days=1) else 0
        checkins = int(last[2]) if last else 0
        return Standing(balance=balance, rank=int(ahead) + 1, streak=streak, checkins=checkins)

    def leaderboard(self, group: str, since: datetime | None, limit: int) -> list[LeaderboardRow]:
        """Top members by points: all-time from the cached balances, else from the ledger."""
        self.flush()  # the board reads the balances or the ledger
        if since is None:
            rows = self._run(_Q_BOARD_ALL, g=group, limit=limit)
        else:
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
