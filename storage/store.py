"""The store's narrow interface: domain operations, one transaction per dispatched batch.

Callers never see SQL. :class:`Store` owns the engine and the schema; :class:`StoreTx`
is one unit of work (the dispatcher's batch), with a savepoint per event so that one
failing event does not undo its neighbours.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter

from storage.db import create_db_engine, is_sqlite
from storage.migrate import upgrade_to_head
from storage.models import (
    AuditEntry,
    Broadcast,
    CheckIn,
    Group,
    GroupBinding,
    Interaction,
    Member,
    Membership,
    OutboxMessage,
    PointsEntry,
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
OUTBOX = _table(OutboxMessage)
BROADCASTS = _table(Broadcast)
AUDIT = _table(AuditEntry)
BINDINGS = _table(GroupBinding)


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    id: int
    text: str
    groups: tuple[str, ...] | None
    at: datetime | None
    cron: str | None
    timezone: str
    status: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Delivery:
    group: str
    status: str
    sent_at: datetime | None
    error: str | None


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    actor: str
    role: str
    action: str
    group: str | None
    detail: str
    outcome: str


# The statements run for nearly every message, built once: SQLAlchemy then reuses their
# compiled form and cache key, which is four times cheaper than building them per call.
_G: BindParameter[str] = bindparam("g")
_M: BindParameter[str] = bindparam("m")
_DAY: BindParameter[date] = bindparam("day")
_Q_CHECKIN = select(CHECKINS.c.streak, CHECKINS.c.rank, CHECKINS.c.points, CHECKINS.c.at).where(
    CHECKINS.c.group_id == _G, CHECKINS.c.member_id == _M, CHECKINS.c.day == _DAY
)
_Q_CHECKINS_ON_DAY = (
    select(func.count())
    .select_from(CHECKINS)
    .where(CHECKINS.c.group_id == _G, CHECKINS.c.day == _DAY)
)
_Q_INSERT_CHECKIN = insert(CHECKINS)
_Q_INSERT_LEDGER = insert(LEDGER)
_Q_ADD_POINTS = (
    update(MEMBERSHIPS)
    .where(MEMBERSHIPS.c.group_id == _G, MEMBERSHIPS.c.member_id == _M)
    .values(points=MEMBERSHIPS.c.points + bindparam("delta"))
    .returning(MEMBERSHIPS.c.points)
)
_Q_BALANCE = select(MEMBERSHIPS.c.points).where(
    MEMBERSHIPS.c.group_id == _G, MEMBERSHIPS.c.member_id == _M
)
_Q_AHEAD = (
    select(func.count())
    .select_from(MEMBERSHIPS)
    .where(
        MEMBERSHIPS.c.group_id == _G,
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
        .where(CHECKINS.c.group_id == _G, CHECKINS.c.member_id == _M)
        .scalar_subquery(),
    )
    .where(CHECKINS.c.group_id == _G, CHECKINS.c.member_id == _M)
    .order_by(CHECKINS.c.day.desc())
    .limit(1)
)
_Q_MARK_SENT = (
    update(OUTBOX)
    .where(OUTBOX.c.id == bindparam("mid"))
    .values(status="sent", sent_at=bindparam("at"), attempts=OUTBOX.c.attempts + 1, error=None)
)
_Q_INSERT_UNANSWERED = insert(UNANSWERED)
_UPSERTS: dict[tuple[str, str, str], Any] = {}
_Q_DAY_KINDS = (
    select(INTERACTIONS.c.kind, func.count(), func.count(func.distinct(INTERACTIONS.c.member_id)))
    .where(
        INTERACTIONS.c.group_id == _G,
        INTERACTIONS.c.at >= bindparam("start"),
        INTERACTIONS.c.at < bindparam("end"),
    )
    .group_by(INTERACTIONS.c.kind)
)
_Q_DAY_CHECKINS = (
    select(MEMBERS.c.name, CHECKINS.c.member_id)
    .join(MEMBERS, MEMBERS.c.id == CHECKINS.c.member_id)
    .where(CHECKINS.c.group_id == _G, CHECKINS.c.day == _DAY)
    .order_by(CHECKINS.c.rank)
)
_Q_BOARD_ALL = (
    select(MEMBERSHIPS.c.member_id, MEMBERS.c.name, MEMBERSHIPS.c.points)
    .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
    .where(MEMBERSHIPS.c.group_id == _G, MEMBERSHIPS.c.left_at.is_(None), MEMBERSHIPS.c.points > 0)
    .order_by(MEMBERSHIPS.c.points.desc(), MEMBERSHIPS.c.member_id)
    .limit(bindparam("limit"))
)
_BOARD_TOTAL = func.sum(LEDGER.c.delta).label("total")
_BOARD_PERIOD = (
    select(LEDGER.c.member_id, _BOARD_TOTAL)
    .where(LEDGER.c.group_id == _G, LEDGER.c.at >= bindparam("since"))
    .group_by(LEDGER.c.member_id)
    .subquery()
)
_Q_BOARD_SINCE = (
    select(_BOARD_PERIOD.c.member_id, MEMBERS.c.name, _BOARD_PERIOD.c.total)
    .join(MEMBERS, MEMBERS.c.id == _BOARD_PERIOD.c.member_id)
    .join(
        MEMBERSHIPS,
        and_(MEMBERSHIPS.c.group_id == _G, MEMBERSHIPS.c.member_id == _BOARD_PERIOD.c.member_id),
    )
    .where(_BOARD_PERIOD.c.total > 0, MEMBERSHIPS.c.left_at.is_(None))
    .order_by(_BOARD_PERIOD.c.total.desc(), _BOARD_PERIOD.c.member_id)
    .limit(bindparam("limit"))
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the bot decided to send; ``key`` (when set) makes the decision idempotent."""

    group: str
    text: str
    decided_at: datetime
    mentions: tuple[str, ...] = ()
    key: str | None = None
    priority: int = 0
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    message: Outgoing
    attempts: int
    not_before: datetime


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    sent: int
    failed: int


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
class PendingWelcome:
    group: str
    member: str
    name: str
    inviter: str | None
    inviter_name: str | None
    rule: str
    due: datetime


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


@dataclass(frozen=True, slots=True)
class UnansweredRow:
    group: str
    member: str
    name: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DayStats:
    """One local day in a group: what the morning briefing reports about yesterday."""

    joins: int
    leaves: int
    messages: int
    active_members: int
    checkins: int
    first_checkins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupSummary:
    group: str
    name: str
    members: int
    messages: int
    joins: int
    leaves: int
    checkins: int
    points_granted: int
    unanswered: int


class _KnownRows:
    """Which groups, members and memberships already exist, with their names.

    Saves an upsert per message; only the dispatcher writes, so the cache is exact once
    its transaction commits (entries of a rolled-back transaction are dropped).
    """

    def __init__(self) -> None:
        self.groups: dict[str, str] = {}
        self.members: dict[str, str] = {}
        self.memberships: set[tuple[str, str]] = set()

    def clear(self) -> None:
        self.groups.clear()
        self.members.clear()
        self.memberships.clear()


class Store:
    """Owns the database: opens it, migrates it to the current schema, hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        upgrade_to_head(self.engine)
        self._light = create_db_engine(url, durable=False) if is_sqlite(self.engine) else None
        self._marker: Any = None  # a driver connection kept for confirming sends (SQLite)
        self._known = _KnownRows()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[StoreTx]:
        """One unit of work: committed on normal exit, rolled back on an exception.

        ``durable=False`` is for bookkeeping whose loss costs nothing but a repeat (the
        outbox's "sent" marks): it survives a process crash, not necessarily a power cut,
        and spares an fsync per message.
        """
        staged = _KnownRows()
        engine = self._light if not durable and self._light is not None else self.engine
        with engine.begin() as connection:
            if not durable and self._light is None:
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            tx = StoreTx(connection, self._known, staged)
            yield tx
            tx.flush()
        self._known.groups.update(staged.groups)
        self._known.members.update(staged.members)
        self._known.memberships.update(staged.memberships)

    @property
    def light_engine(self) -> Engine:
        """The engine for bookkeeping that may skip the fsync (see ``transaction``)."""
        return self._light if self._light is not None else self.engine

    def confirm_sent(self, message_id: int, at: datetime) -> None:
        """Mark one outbox message sent: once per message, so it must be cheap.

        On SQLite three plain statements on a connection kept for the purpose (a tenth of
        a SQLAlchemy transaction's cost), committed without an fsync like every "sent" mark.
        """
        if self._light is None:
            with self.transaction(durable=False) as tx:
                tx.mark_sent(message_id, at)
            return
        if self._marker is None:
            self._marker = self._light.raw_connection()
        stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite form
        cursor = self._marker.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "error = NULL WHERE id = ?",
                (stamp, message_id),
            )
            cursor.execute("COMMIT")
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        if self._marker is not None:
            self._marker.close()
        self.engine.dispose()
        if self._light is not None:
            self._light.dispose()


class StoreTx:
    """The domain operations, inside one transaction."""

    def __init__(self, connection: Connection, known: _KnownRows, staged: _KnownRows) -> None:
        self._c = connection
        self._known = known
        self._staged = staged
        self._interactions: list[dict[str, Any]] = []
        self._depth = 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Isolate one event: its writes vanish if it raises, the batch goes on.

        Plain SAVEPOINT statements on the driver connection (both SQLite and PostgreSQL
        take them): SQLAlchemy's nested transactions cost forty times more, on every event.
        """
        self._depth += 1
        name = f"qunbot_event_{self._depth}"
        raw = self._c.connection.driver_connection
        assert raw is not None
        raw.execute(f"SAVEPOINT {name}")
        buffered = len(self._interactions)
        try:
            yield
        except BaseException:
            raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
            raw.execute(f"RELEASE SAVEPOINT {name}")
            del self._interactions[buffered:]
            self._staged.clear()
            self._known.clear()
            raise
        else:
            raw.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1

    def flush(self) -> None:
        """Write the buffered interaction rows: one statement for the whole batch."""
        if self._interactions:
            self._c.execute(insert(INTERACTIONS), self._interactions)
            self._interactions = []

    # --- identities -------------------------------------------------------------------

    def observe(
        self,
        group: str,
        member: str | None,
        at: datetime,
        *,
        group_name: str = "",
        name: str = "",
        new_group_name: str = "",
    ) -> None:
        """Make sure the group, member and membership rows exist and names are current.

        ``group_name`` is the platform's name and replaces the stored one; ``new_group_name``
        (the config's label) only names a group the store has never seen.
        """
        self._ensure_named(
            GROUPS, self._known.groups, self._staged.groups, group, group_name, at, new_group_name
        )
        if not member:
            return
        self._ensure_named(MEMBERS, self._known.members, self._staged.members, member, name, at)
        key = (group, member)
        if key in self._known.memberships or key in self._staged.memberships:
            return
        self._c.execute(
            self._prebuilt("membership", MEMBERSHIPS),
            {"group_id": group, "member_id": member, "first_seen_at": at, "points": 0},
        )
        self._staged.memberships.add(key)

    def _ensure_named(
        self,
        table: Table,
        known: dict[str, str],
        staged: dict[str, str],
        key: str,
        name: str,
        at: datetime,
        fallback: str = "",
    ) -> None:
        current = staged.get(key, known.get(key))
        if current is not None and (not name or current == name):
            return
        if name:
            self._c.execute(
                self._prebuilt("rename", table), {"id": key, "name": name, "first_seen_at": at}
            )
            staged[key] = name
            return
        self._c.execute(
            self._prebuilt("first", table), {"id": key, "name": fallback, "first_seen_at": at}
        )
        stored = self._c.execute(select(table.c.name).where(table.c.id == key)).scalar_one()
        staged[key] = str(stored or "")

    def _upsert(self, table: Table) -> Any:
        dialect = sqlite if self._c.dialect.name == "sqlite" else postgresql
        return dialect.insert(table)

    def _prebuilt(self, kind: str, table: Table) -> Any:
        """The identity upserts, built once per dialect: they run for every new member.

        ``membership`` inserts unless present; ``first`` inserts a row by id unless present;
        ``rename`` inserts or updates its name.
        """
        key = (self._c.dialect.name, kind, table.name)
        statement = _UPSERTS.get(key)
        if statement is None:
            upsert = self._upsert(table)
            if kind == "membership":
                statement = upsert.on_conflict_do_nothing(index_elements=["group_id", "member_id"])
            elif kind == "first":
                statement = upsert.on_conflict_do_nothing(index_elements=["id"])
            else:
                statement = upsert.on_conflict_do_update(
                    index_elements=["id"], set_={"name": upsert.excluded.name}
                )
            _UPSERTS[key] = statement
        return statement

    def name_of(self, member: str) -> str:
        return self._name(MEMBERS, self._staged.members, self._known.members, member)

    def group_name(self, group: str) -> str:
        return self._name(GROUPS, self._staged.groups, self._known.groups, group)

    def _name(self, table: Table, staged: dict[str, str], known: dict[str, str], key: str) -> str:
        """A display name, from the cache when it has one; the id itself when none is known."""
        cached = staged.get(key, known.get(key))
        if cached is not None:
            return cached or key
        row = self._c.execute(select(table.c.name).where(table.c.id == key)).first()
        return str(row[0]) if row and row[0] else key

    # --- interactions and membership --------------------------------------------------

    def record_interaction(
        self,
        group: str,
        member: str,
        kind: str,
        at: datetime,
        text: str | None = None,
        rule: str | None = None,
    ) -> None:
        """Buffered until the batch commits (or a read needs it): the hottest write of all."""
        self._interactions.append(
            {
                "group_id": group,
                "member_id": member,
                "kind": kind,
                "text": text,
                "rule": rule,
                "at": at,
            }
        )

    def _update_membership(self, group: str, member: str, **values: Any) -> None:
        self._c.execute(
            update(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.member_id == member)
            .values(**values)
        )

    def record_join(self, group: str, member: str, at: datetime, inviter: str | None) -> None:
        """A (re)join starts the membership afresh: new join time, inviter, welcome state."""
        self._update_membership(
            group,
            member,
            joined_at=at,
            inviter_id=inviter,
            left_at=None,
            welcome_rule=None,
            welcome_due=None,
            welcomed_at=None,
        )

    def record_leave(self, group: str, member: str, at: datetime) -> None:
        self._update_membership(group, member, left_at=at, welcome_due=None)

    def active_members(self, group: str) -> int:
        return int(
            self._c.execute(
                select(func.count())
                .select_from(MEMBERSHIPS)
                .where(MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.left_at.is_(None))
            ).scalar_one()
        )

    # --- welcomes ---------------------------------------------------------------------

    def queue_welcome(self, group: str, member: str, rule: str, window: timedelta) -> datetime:
        """Add a newcomer to the group's pending welcome batch and return when it is due.

        The batch is due ``window`` after its first newcomer, so a burst shares one message.
        """
        _pending = and_(
            MEMBERSHIPS.c.group_id == group,
            MEMBERSHIPS.c.welcome_due.is_not(None),
            MEMBERSHIPS.c.welcomed_at.is_(None),
            MEMBERSHIPS.c.left_at.is_(None),
        )
        existing = self._c.execute(select(func.min(MEMBERSHIPS.c.welcome_due)).where(_pending))
        due = existing.scalar_one()
        if due is None:
            joined = self._c.execute(
                select(MEMBERSHIPS.c.joined_at).where(
                    MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.member_id == member
                )
            ).scalar_one()
            due = joined + window
        self._update_membership(group, member, welcome_rule=rule, welcome_due=due)
        return cast(datetime, due)

    def next_welcome_due(self) -> datetime | None:
        """The earliest pending welcome anywhere: what a restarted bot must wake up for."""
        due = self._c.execute(
            select(func.min(MEMBERSHIPS.c.welcome_due)).where(
                MEMBERSHIPS.c.welcomed_at.is_(None), MEMBERSHIPS.c.left_at.is_(None)
            )
        ).scalar_one()
        return cast(datetime | None, due)

    def due_welcomes(self, now: datetime) -> list[PendingWelcome]:
        inviter = MEMBERS.alias("inviter")
        rows = self._c.execute(
            select(
                MEMBERSHIPS.c.group_id,
                MEMBERSHIPS.c.member_id,
                MEMBERS.c.name,
                MEMBERSHIPS.c.inviter_id,
                inviter.c.name,
                MEMBERSHIPS.c.welcome_rule,
                MEMBERSHIPS.c.welcome_due,
            )
            .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
            .outerjoin(inviter, inviter.c.id == MEMBERSHIPS.c.inviter_id)
            .where(
                MEMBERSHIPS.c.welcome_due <= now,
                MEMBERSHIPS.c.welcomed_at.is_(None),
                MEMBERSHIPS.c.left_at.is_(None),
            )
            .order_by(MEMBERSHIPS.c.group_id, MEMBERSHIPS.c.joined_at, MEMBERSHIPS.c.member_id)
        )
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
            for r in rows
        ]

    def mark_welcomed(self, group: str, members: Sequence[str], at: datetime) -> None:
        self._c.execute(
            update(MEMBERSHIPS)
            .where(MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.member_id.in_(members))
            .values(welcomed_at=at, welcome_due=None)
        )

    # --- check-ins and points ---------------------------------------------------------

    def check_in(
        self,
        group: str,
        member: str,
        day: date,
        at: datetime,
        points_for_streak: Callable[[int], int],
    ) -> CheckInResult:
        """Check a member in for a local day, once; a repeat returns the first check-in."""
        existing = self._checkin_row(group, member, day)
        if existing is not None:
            return existing
        previous = self._checkin_row(group, member, day - timedelta(days=1))
        streak = previous.streak + 1 if previous else 1
        rank = 1 + int(self._c.execute(_Q_CHECKINS_ON_DAY, {"g": group, "day": day}).scalar_one())
        points = points_for_streak(streak)
        row = {
            "group_id": group,
            "member_id": member,
            "day": day,
            "streak": streak,
            "rank": rank,
            "points": points,
            "at": at,
        }
        try:
            with self.savepoint():
                self._c.execute(_Q_INSERT_CHECKIN, row)
        except IntegrityError:
            # Another process checked this member in first; the constraint decided.
            raced = self._checkin_row(group, member, day)
            assert raced is not None
            return raced
        return CheckInResult(new=True, day=day, streak=streak, rank=rank, points=points, at=at)

    def _checkin_row(self, group: str, member: str, day: date) -> CheckInResult | None:
        row = self._c.execute(_Q_CHECKIN, {"g": group, "m": member, "day": day}).first()
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
        """Append to the ledger and return the new balance (the cached sum of the ledger)."""
        self._c.execute(
            _Q_INSERT_LEDGER,
            {
                "group_id": group,
                "member_id": member,
                "delta": delta,
                "reason": reason,
                "actor_id": actor,
                "at": at,
            },
        )
        balance = self._c.execute(_Q_ADD_POINTS, {"g": group, "m": member, "delta": delta})
        return int(balance.scalar_one())

    def balance(self, group: str, member: str) -> int:
        found = self._c.execute(_Q_BALANCE, {"g": group, "m": member}).scalar_one_or_none()
        return int(found or 0)

    def standing(self, group: str, member: str, today: date) -> Standing:
        """Balance, rank among current members, running streak and check-in count."""
        balance = self.balance(group, member)
        ahead = self._c.execute(_Q_AHEAD, {"g": group, "points": balance}).scalar_one()
        last = self._c.execute(_Q_LAST_CHECKIN, {"g": group, "m": member}).first()
        streak = int(last[1]) if last and last[0] >= today - timedelta(days=1) else 0
        checkins = int(last[2]) if last else 0
        return Standing(balance=balance, rank=int(ahead) + 1, streak=streak, checkins=checkins)

    def leaderboard(self, group: str, since: datetime | None, limit: int) -> list[LeaderboardRow]:
        """Top members by points: all-time from the cached balances, else from the ledger."""
        if since is None:
            rows = self._c.execute(_Q_BOARD_ALL, {"g": group, "limit": limit})
        else:
            rows = self._c.execute(_Q_BOARD_SINCE, {"g": group, "since": since, "limit": limit})
        return [
            LeaderboardRow(rank=i, member=r[0], name=r[1] or r[0], points=int(r[2]))
            for i, r in enumerate(rows, start=1)
        ]

    # --- questions --------------------------------------------------------------------

    def record_unanswered(self, group: str, member: str, text: str, at: datetime) -> None:
        self._c.execute(
            _Q_INSERT_UNANSWERED, {"group_id": group, "member_id": member, "text": text, "at": at}
        )

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
            for r in self._c.execute(query)
        ]

    # --- outbox -----------------------------------------------------------------------

    def enqueue(self, messages: Sequence[Outgoing]) -> int:
        """Store messages to send; one whose key is already stored is dropped. Returns how many."""
        if not messages:
            return 0
        rows = [
            {
                "key": m.key,
                "group_id": m.group,
                "text": m.text,
                "mentions": json.dumps(list(m.mentions), ensure_ascii=False),
                "priority": m.priority,
                "rule": m.rule,
                "status": "pending",
                "attempts": 0,
                "account": "default",
                "decided_at": m.decided_at,
                "not_before": m.decided_at,
            }
            for m in messages
        ]
        statement = (
            self._upsert(OUTBOX)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(OUTBOX.c.id)
        )
        return len(self._c.execute(statement, rows).all())

    def due_messages(
        self, now: datetime, limit: int, max_priority: int | None = None
    ) -> list[OutboxRow]:
        """Pending messages whose time has come: replies before broadcasts, oldest first."""
        query = select(OUTBOX).where(OUTBOX.c.status == "pending", OUTBOX.c.not_before <= now)
        if max_priority is not None:
            query = query.where(OUTBOX.c.priority <= max_priority)
        rows = self._c.execute(
            query.order_by(OUTBOX.c.priority, OUTBOX.c.id).limit(limit)
        ).mappings()
        return [
            OutboxRow(
                id=r["id"],
                message=Outgoing(
                    group=r["group_id"],
                    text=r["text"],
                    decided_at=r["decided_at"],
                    mentions=tuple(json.loads(r["mentions"])),
                    key=r["key"],
                    priority=r["priority"],
                    rule=r["rule"],
                ),
                attempts=r["attempts"],
                not_before=r["not_before"],
            )
            for r in rows
        ]

    def next_message_due(self) -> datetime | None:
        due = self._c.execute(
            select(func.min(OUTBOX.c.not_before)).where(OUTBOX.c.status == "pending")
        ).scalar_one()
        return cast(datetime | None, due)

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self._c.execute(_Q_MARK_SENT, {"mid": message_id, "at": at})

    def retry_later(self, message_id: int, not_before: datetime, error: str) -> None:
        self._c.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(not_before=not_before, attempts=OUTBOX.c.attempts + 1, error=error)
        )

    def mark_failed(self, message_id: int, error: str) -> None:
        self._c.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(status="failed", attempts=OUTBOX.c.attempts + 1, error=error)
        )

    def outbox_counts(self, key_prefix: str | None = None) -> OutboxCounts:
        query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
        if key_prefix is not None:
            query = query.where(OUTBOX.c.key.startswith(key_prefix, autoescape=True))
        counts = {str(status): int(n) for status, n in self._c.execute(query)}
        return OutboxCounts(
            counts.get("pending", 0), counts.get("sent", 0), counts.get("failed", 0)
        )

    def deliveries(self, key_prefix: str) -> list[Delivery]:
        """Per-group delivery state of the messages whose key starts with ``key_prefix``."""
        rows = self._c.execute(
            select(OUTBOX.c.group_id, OUTBOX.c.status, OUTBOX.c.sent_at, OUTBOX.c.error)
            .where(OUTBOX.c.key.startswith(key_prefix, autoescape=True))
            .order_by(OUTBOX.c.group_id, OUTBOX.c.id)
        )
        return [Delivery(r[0], r[1], r[2], r[3]) for r in rows]

    def withdraw(self, key_prefix: str) -> int:
        """Stop the unsent messages under ``key_prefix`` (a cancelled broadcast)."""
        result = self._c.execute(
            update(OUTBOX)
            .where(
                OUTBOX.c.key.startswith(key_prefix, autoescape=True), OUTBOX.c.status == "pending"
            )
            .values(status="cancelled")
        )
        return int(result.rowcount)

    # --- broadcasts and audit -----------------------------------------------------------

    def create_broadcast(
        self,
        text: str,
        groups: Sequence[str] | None,
        at: datetime | None,
        cron: str | None,
        timezone: str,
        created_by: str,
        now: datetime,
    ) -> int:
        inserted = self._c.execute(
            insert(BROADCASTS)
            .values(
                text=text,
                groups=None if groups is None else json.dumps(list(groups), ensure_ascii=False),
                at=at,
                cron=cron,
                timezone=timezone,
                status="scheduled",
                created_by=created_by,
                created_at=now,
            )
            .returning(BROADCASTS.c.id)
        )
        return int(inserted.scalar_one())

    def broadcast(self, broadcast_id: int) -> BroadcastRow | None:
        row = self._c.execute(select(BROADCASTS).where(BROADCASTS.c.id == broadcast_id)).mappings()
        found = row.first()
        return _broadcast_row(found) if found is not None else None

    def broadcasts(self) -> list[BroadcastRow]:
        rows = self._c.execute(select(BROADCASTS).order_by(BROADCASTS.c.id)).mappings()
        return [_broadcast_row(r) for r in rows]

    def set_broadcast_status(self, broadcast_id: int, status: str, at: datetime) -> None:
        values: dict[str, Any] = {"status": status}
        if status == "cancelled":
            values["cancelled_at"] = at
        self._c.execute(update(BROADCASTS).where(BROADCASTS.c.id == broadcast_id).values(**values))

    def audit(
        self,
        at: datetime,
        actor: str,
        role: str,
        action: str,
        group: str | None,
        detail: str,
        outcome: str,
    ) -> None:
        self._c.execute(
            insert(AUDIT).values(
                at=at,
                actor=actor,
                role=role,
                action=action,
                group_id=group,
                detail=detail,
                outcome=outcome,
            )
        )

    def audit_log(self, limit: int = 100) -> list[AuditRow]:
        rows = self._c.execute(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)).mappings()
        return [
            AuditRow(
                r["at"],
                r["actor"],
                r["role"],
                r["action"],
                r["group_id"],
                r["detail"],
                r["outcome"],
            )
            for r in rows
        ]

    def group_bindings(self) -> dict[str, str]:
        """Topic (as the config names it) → the room id it was bound to."""
        return {
            str(t): str(g)
            for t, g in self._c.execute(select(BINDINGS.c.topic, BINDINGS.c.group_id))
        }

    def bind_group(self, topic: str, group: str, at: datetime) -> None:
        self._c.execute(
            self._upsert(BINDINGS)
            .values(topic=topic, group_id=group, bound_at=at)
            .on_conflict_do_nothing(index_elements=["topic"])
        )

    def known_groups(self) -> list[str]:
        return [str(g) for (g,) in self._c.execute(select(GROUPS.c.id).order_by(GROUPS.c.id))]

    # --- reports ----------------------------------------------------------------------

    def day_stats(
        self, group: str, day: date, start: datetime, end: datetime, first: int
    ) -> DayStats:
        """Counts for [start, end), the group's local ``day``; the ``first`` check-ins by name."""
        self.flush()
        window = {"g": group, "start": start, "end": end}
        kinds: dict[str, int] = {}
        active = 0
        for kind, count, distinct in self._c.execute(_Q_DAY_KINDS, window):
            kinds[str(kind)] = int(count)
            if kind == "message":
                active = int(distinct)
        checked = self._c.execute(_Q_DAY_CHECKINS, {"g": group, "day": day}).all()
        return DayStats(
            joins=kinds.get("join", 0),
            leaves=kinds.get("leave", 0),
            messages=kinds.get("message", 0),
            active_members=active,
            checkins=len(checked),
            first_checkins=tuple(name or member for name, member in checked[:first]),
        )

    def summaries(self) -> list[GroupSummary]:
        """Per-group totals, for the demo and for operators' first look at a database."""
        self.flush()

        def counts(table: Table, *where: Any) -> dict[str, int]:
            query = select(table.c.group_id, func.count()).where(*where).group_by(table.c.group_id)
            return {str(g): int(n) for g, n in self._c.execute(query)}

        kinds = {
            kind: counts(INTERACTIONS, INTERACTIONS.c.kind == kind)
            for kind in ("message", "join", "leave")
        }
        members = counts(MEMBERSHIPS, MEMBERSHIPS.c.left_at.is_(None))
        checkins = counts(CHECKINS)
        unanswered = counts(UNANSWERED, UNANSWERED.c.answered_at.is_(None))
        granted = {
            str(g): int(n)
            for g, n in self._c.execute(
                select(LEDGER.c.group_id, func.sum(LEDGER.c.delta)).group_by(LEDGER.c.group_id)
            )
        }
        return [
            GroupSummary(
                group=gid,
                name=name or gid,
                members=members.get(gid, 0),
                messages=kinds["message"].get(gid, 0),
                joins=kinds["join"].get(gid, 0),
                leaves=kinds["leave"].get(gid, 0),
                checkins=checkins.get(gid, 0),
                points_granted=granted.get(gid, 0),
                unanswered=unanswered.get(gid, 0),
            )
            for gid, name in self._c.execute(
                select(GROUPS.c.id, GROUPS.c.name).order_by(GROUPS.c.id)
            )
        ]

    def ledger_total(self, group: str, member: str) -> int:
        """The balance recomputed from the ledger: what the cached balance must equal."""
        total = self._c.execute(
            select(func.coalesce(func.sum(LEDGER.c.delta), 0)).where(
                LEDGER.c.group_id == group, LEDGER.c.member_id == member
            )
        ).scalar_one()
        return int(total)


def _broadcast_row(r: Any) -> BroadcastRow:
    return BroadcastRow(
        id=r["id"],
        text=r["text"],
        groups=tuple(json.loads(r["groups"])) if r["groups"] is not None else None,
        at=r["at"],
        cron=r["cron"],
        timezone=r["timezone"],
        status=r["status"],
        created_by=r["created_by"],
        created_at=r["created_at"],
    )
