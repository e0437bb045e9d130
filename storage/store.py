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
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import BindParameter

from storage.db import check_connection, create_db_engine, is_sqlite
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
from storage.prepared import Statements


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
# A member's check-ins of ``day`` and the day before: is this a repeat, and the streak.
_Q_RECENT_CHECKINS = select(
    CHECKINS.c.day, CHECKINS.c.streak, CHECKINS.c.rank, CHECKINS.c.points, CHECKINS.c.at
).where(
    CHECKINS.c.group_id == _G,
    CHECKINS.c.member_id == _M,
    CHECKINS.c.day <= _DAY,
    CHECKINS.c.day >= bindparam("yesterday"),
)
_Q_INSERT_LEDGER = insert(LEDGER)
# No row comes back when the change would take the balance below zero (see grant_points).
_Q_ADD_POINTS = (
    update(MEMBERSHIPS)
    .where(
        MEMBERSHIPS.c.group_id == _G,
        MEMBERSHIPS.c.member_id == _M,
        MEMBERSHIPS.c.points + bindparam("delta") >= 0,
    )
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
_Q_INSERT_INTERACTION = insert(INTERACTIONS)
_INTERACTION_KEYS = ("group_id", "member_id", "kind", "text", "rule", "at")
_IDENTITY_KEYS = ("id", "name", "first_seen_at")
_MEMBERSHIP_KEYS = ("group_id", "member_id", "first_seen_at", "points")
_CHECKIN_KEYS = ("group_id", "member_id", "day", "streak", "rank", "points", "at")
_LEDGER_KEYS = ("group_id", "member_id", "delta", "reason", "actor_id", "at")
_UNANSWERED_KEYS = ("group_id", "member_id", "text", "at")
_Q_NAME = {table.name: select(table.c.name).where(table.c.id == _M) for table in (GROUPS, MEMBERS)}
_MEMBERSHIP = and_(MEMBERSHIPS.c.group_id == _G, MEMBERSHIPS.c.member_id == _M)
# Only a join that starts a membership: a current member's repeated join changes nothing.
_Q_JOIN = (
    update(MEMBERSHIPS)
    .where(
        _MEMBERSHIP,
        or_(MEMBERSHIPS.c.joined_at.is_(None), MEMBERSHIPS.c.left_at.is_not(None)),
    )
    .values(
        joined_at=bindparam("at"),
        inviter_id=bindparam("inviter"),
        left_at=None,
        welcome_rule=None,
        welcome_due=None,
        welcomed_at=None,
    )
)
_Q_LEAVE = (
    update(MEMBERSHIPS)
    .where(_MEMBERSHIP, MEMBERSHIPS.c.left_at.is_(None))
    .values(left_at=bindparam("at"), welcome_due=None)
)
_Q_QUEUE_WELCOME = (
    update(MEMBERSHIPS)
    .where(_MEMBERSHIP)
    .values(welcome_rule=bindparam("rule"), welcome_due=bindparam("due"))
)
_Q_MARK_WELCOMED = (
    update(MEMBERSHIPS).where(_MEMBERSHIP).values(welcomed_at=bindparam("at"), welcome_due=None)
)
_Q_PENDING_WELCOME = select(func.min(MEMBERSHIPS.c.welcome_due)).where(
    MEMBERSHIPS.c.group_id == _G,
    MEMBERSHIPS.c.welcome_due.is_not(None),
    MEMBERSHIPS.c.welcomed_at.is_(None),
    MEMBERSHIPS.c.left_at.is_(None),
)
_Q_JOINED_AT = select(MEMBERSHIPS.c.joined_at).where(_MEMBERSHIP)
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
_OUTBOX_KEYS = (
    "key",
    "group_id",
    "text",
    "mentions",
    "priority",
    "rule",
    "status",
    "attempts",
    "account",
    "decided_at",
    "not_before",
)
_OUTBOX_DUE = (
    select(
        OUTBOX.c.id,
        OUTBOX.c.group_id,
        OUTBOX.c.text,
        OUTBOX.c.decided_at,
        OUTBOX.c.mentions,
        OUTBOX.c.key,
        OUTBOX.c.priority,
        OUTBOX.c.rule,
        OUTBOX.c.attempts,
        OUTBOX.c.not_before,
    )
    .where(OUTBOX.c.status == "pending", OUTBOX.c.not_before <= bindparam("now"))
    .order_by(OUTBOX.c.priority, OUTBOX.c.id)
    .limit(bindparam("limit"))
)
_Q_OUTBOX_DUE = {
    False: _OUTBOX_DUE,
    True: _OUTBOX_DUE.where(OUTBOX.c.priority <= bindparam("max_priority")),
}
_UPSERTS: dict[tuple[str, str, str], Any] = {}
_NATURAL_KEYS = {
    MEMBERSHIPS.name: ["group_id", "member_id"],
    OUTBOX.name: ["key"],
    CHECKINS.name: ["group_id", "member_id", "day"],
}
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


class InsufficientPoints(Exception):
    """A deduction that would take a balance below zero: refused, nothing written."""

    def __init__(self, balance: int, delta: int) -> None:
        super().__init__(f"balance {balance} cannot take {delta}")
        self.balance = balance
        self.delta = delta


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
        check_connection(self.engine, url)
        upgrade_to_head(self.engine)
        self._light = create_db_engine(url, durable=False) if is_sqlite(self.engine) else None
        self._marker: Any = None  # a driver connection kept for confirming sends (SQLite)
        self._known = _KnownRows()
        self._statements = Statements(self.engine.dialect)

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
            tx = StoreTx(connection, self._known, staged, self._statements)
            try:
                yield tx
                tx.flush()
            finally:
                tx.close()
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
        mark = self._statements(_Q_MARK_SENT)
        cursor = self._marker.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(mark.sql, mark.parameters({"mid": message_id, "at": at}))
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

    def __init__(
        self, connection: Connection, known: _KnownRows, staged: _KnownRows, statements: Statements
    ) -> None:
        self._c = connection
        self._known = known
        self._staged = staged
        self._sql = statements
        driver = connection.connection.driver_connection
        assert driver is not None
        self._cursor: Any = driver.cursor()
        self._interactions: list[dict[str, Any]] = []
        self._savepoints: list[str] = []  # declared, innermost last
        self._opened = 0  # how many of them have been issued

    def close(self) -> None:
        self._cursor.close()

    # The hot statements run prepared, on the driver's cursor (see storage.prepared).

    def _run(self, statement: Any, **values: Any) -> list[tuple[Any, ...]]:
        """Execute a prebuilt statement; the rows it returns, if any."""
        prepared = self._sql(statement)
        self._open_savepoints()
        self._cursor.execute(prepared.sql, prepared.parameters(values))
        return prepared.rows(self._cursor) if prepared.readers else []

    def _first(self, statement: Any, **values: Any) -> tuple[Any, ...] | None:
        rows = self._run(statement, **values)
        return rows[0] if rows else None

    def _scalar(self, statement: Any, **values: Any) -> Any:
        row = self._first(statement, **values)
        return row[0] if row is not None else None

    def _insert(self, statement: Any, keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> int:
        """Insert many rows with one prepared statement; how many rows it wrote."""
        prepared = self._sql(statement, keys)
        self._open_savepoints()
        if len(rows) == 1:  # the usual case; a one-row executemany costs five times more
            self._cursor.execute(prepared.sql, prepared.parameters(rows[0]))
        else:
            self._cursor.executemany(prepared.sql, [prepared.parameters(row) for row in rows])
        return int(self._cursor.rowcount)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Isolate one event: its writes vanish if it raises, the batch goes on.

        Plain SAVEPOINT statements on the driver connection (both SQLite and PostgreSQL
        take them): SQLAlchemy's nested transactions cost forty times more. And only when
        the event reaches the database at all: most chat messages change nothing but the
        buffered interaction rows, so their savepoints would be empty.
        """
        name = f"qunbot_event_{len(self._savepoints) + 1}"
        self._savepoints.append(name)
        buffered = len(self._interactions)
        try:
            yield
        except BaseException:
            if self._opened == len(self._savepoints):
                self._cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self._cursor.execute(f"RELEASE SAVEPOINT {name}")
            del self._interactions[buffered:]
            self._staged.clear()
            self._known.clear()
            raise
        else:
            if self._opened == len(self._savepoints):
                self._cursor.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._savepoints.pop()
            self._opened = min(self._opened, len(self._savepoints))

    def _open_savepoints(self) -> None:
        """Issue the savepoints declared so far: a statement is about to run inside them."""
        while self._opened < len(self._savepoints):
            self._cursor.execute(f"SAVEPOINT {self._savepoints[self._opened]}")
            self._opened += 1

    def _execute(self, statement: Any, *args: Any) -> Any:
        """A statement through SQLAlchemy: for the rarer, dynamic ones."""
        self._open_savepoints()
        return self._c.execute(statement, *args)

    def flush(self) -> None:
        """Write the buffered interaction rows: one statement for the whole batch."""
        if self._interactions:
            self._insert(_Q_INSERT_INTERACTION, _INTERACTION_KEYS, self._interactions)
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
        present: bool = True,
    ) -> None:
        """Make sure the group, member and membership rows exist and names are current.

        ``group_name`` is the platform's name and replaces the stored one; ``new_group_name``
        (the config's label) only names a group the store has never seen. ``present`` says
        the member is in the group now (they speak or invite: only members can), so one
        recorded as gone is a current member again (the platform missed their rejoin);
        joins and leaves pass False and decide membership themselves.
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
        self._insert(
            self._prebuilt("revive" if present else "once", MEMBERSHIPS),
            _MEMBERSHIP_KEYS,
            [{"group_id": group, "member_id": member, "first_seen_at": at, "points": 0}],
        )
        if present:  # the cache holds current memberships only
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
        row = {"id": key, "name": name or fallback, "first_seen_at": at}
        self._insert(self._prebuilt("rename" if name else "first", table), _IDENTITY_KEYS, [row])
        staged[key] = name or str(self._scalar(_Q_NAME[table.name], m=key) or "")

    def _upsert(self, table: Table) -> Any:
        dialect = sqlite if self._c.dialect.name == "sqlite" else postgresql
        return dialect.insert(table)

    def _prebuilt(self, kind: str, table: Table) -> Any:
        """Inserts that tolerate an existing row, built once per dialect.

        ``once`` inserts unless the table's natural key is taken (a membership, an outbox
        key, a member's check-in of the day); ``revive`` inserts a membership or makes a
        former member current again; ``first`` inserts a row by id unless present;
        ``rename`` inserts or updates its name.
        """
        key = (self._c.dialect.name, kind, table.name)
        statement = _UPSERTS.get(key)
        if statement is None:
            upsert = self._upsert(table)
            if kind == "once":
                statement = upsert.on_conflict_do_nothing(index_elements=_NATURAL_KEYS[table.name])
            elif kind == "revive":
                statement = upsert.on_conflict_do_update(
                    index_elements=_NATURAL_KEYS[table.name],
                    set_={"left_at": None},
                    where=table.c.left_at.is_not(None),
                )
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
        return str(self._scalar(_Q_NAME[table.name], m=key) or key)

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

    def record_join(self, group: str, member: str, at: datetime, inviter: str | None) -> bool:
        """A (re)join starts the membership afresh: new join time, inviter, welcome state.

        False for a member who joined and has not left since (the platform repeated the
        join): nothing changes, and the join is no news.
        """
        self._run(_Q_JOIN, g=group, m=member, at=at, inviter=inviter)
        started = bool(self._cursor.rowcount)
        self._staged.memberships.add((group, member))  # current now, either way
        return started

    def record_leave(self, group: str, member: str, at: datetime) -> bool:
        """End a membership; False when it had already ended (a repeated leave)."""
        self._run(_Q_LEAVE, g=group, m=member, at=at)
        # Forget the membership as current, so the member's next message revives it.
        self._known.memberships.discard((group, member))
        self._staged.memberships.discard((group, member))
        return bool(self._cursor.rowcount)

    def current_members(self, group: str, key: str) -> list[tuple[str, str]]:
        """(id, name) of the group's current members whose id or display name is ``key``."""
        rows = self._execute(
            select(MEMBERSHIPS.c.member_id, MEMBERS.c.name)
            .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
            .where(
                MEMBERSHIPS.c.group_id == group,
                MEMBERSHIPS.c.left_at.is_(None),
                or_(MEMBERSHIPS.c.member_id == key, MEMBERS.c.name == key),
            )
            .order_by(MEMBERSHIPS.c.member_id)
        )
        return [(str(member), str(name or member)) for member, name in rows]

    def active_members(self, group: str) -> int:
        return int(
            self._execute(
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
        yesterday = day - timedelta(days=1)
        recent = {
            row[0]: row[1:]
            for row in self._run(
                _Q_RECENT_CHECKINS, g=group, m=member, day=day, yesterday=yesterday
            )
        }
        if day in recent:
            streak, rank, points, first_at = recent[day]
            return CheckInResult(
                new=False, day=day, streak=streak, rank=rank, points=points, at=first_at
            )
        streak = recent[yesterday][0] + 1 if yesterday in recent else 1
        rank = 1 + int(self._scalar(_Q_CHECKINS_ON_DAY, g=group, day=day))
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
        if not self._insert(self._prebuilt("once", CHECKINS), _CHECKIN_KEYS, [row]):
            # Another process checked this member in first; the constraint decided.
            raced = self._checkin_row(group, member, day)
            assert raced is not None
            return raced
        return CheckInResult(new=True, day=day, streak=streak, rank=rank, points=points, at=at)

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
        entry = {
            "group_id": group,
            "member_id": member,
            "delta": delta,
            "reason": reason,
            "actor_id": actor,
            "at": at,
        }
        self._insert(_Q_INSERT_LEDGER, _LEDGER_KEYS, [entry])
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
            rows = self._run(_Q_BOARD_SINCE, g=group, since=since, limit=limit)
        return [
            LeaderboardRow(rank=i, member=r[0], name=r[1] or r[0], points=int(r[2]))
            for i, r in enumerate(rows, start=1)
        ]

    # --- questions --------------------------------------------------------------------

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
        return self._insert(self._prebuilt("once", OUTBOX), _OUTBOX_KEYS, rows)

    def due_messages(
        self, now: datetime, limit: int, max_priority: int | None = None
    ) -> list[OutboxRow]:
        """Pending messages whose time has come: replies before broadcasts, oldest first."""
        rows = self._run(
            _Q_OUTBOX_DUE[max_priority is not None],
            now=now,
            limit=limit,
            max_priority=max_priority,
        )
        return [
            OutboxRow(
                id=r[0],
                message=Outgoing(
                    group=r[1],
                    text=r[2],
                    decided_at=r[3],
                    mentions=tuple(json.loads(r[4])),
                    key=r[5],
                    priority=r[6],
                    rule=r[7],
                ),
                attempts=r[8],
                not_before=r[9],
            )
            for r in rows
        ]

    def next_message_due(self) -> datetime | None:
        due = self._execute(
            select(func.min(OUTBOX.c.not_before)).where(OUTBOX.c.status == "pending")
        ).scalar_one()
        return cast(datetime | None, due)

    def mark_sent(self, message_id: int, at: datetime) -> None:
        self._run(_Q_MARK_SENT, mid=message_id, at=at)

    def retry_later(self, message_id: int, not_before: datetime, error: str) -> None:
        self._execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(not_before=not_before, attempts=OUTBOX.c.attempts + 1, error=error)
        )

    def mark_failed(self, message_id: int, error: str) -> None:
        self._execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == message_id)
            .values(status="failed", attempts=OUTBOX.c.attempts + 1, error=error)
        )

    def outbox_counts(self, key_prefix: str | None = None) -> OutboxCounts:
        query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
        if key_prefix is not None:
            query = query.where(OUTBOX.c.key.startswith(key_prefix, autoescape=True))
        counts = {str(status): int(n) for status, n in self._execute(query)}
        return OutboxCounts(
            counts.get("pending", 0), counts.get("sent", 0), counts.get("failed", 0)
        )

    def deliveries(self, key_prefix: str) -> list[Delivery]:
        """Per-group delivery state of the messages whose key starts with ``key_prefix``."""
        rows = self._execute(
            select(OUTBOX.c.group_id, OUTBOX.c.status, OUTBOX.c.sent_at, OUTBOX.c.error)
            .where(OUTBOX.c.key.startswith(key_prefix, autoescape=True))
            .order_by(OUTBOX.c.group_id, OUTBOX.c.id)
        )
        return [Delivery(r[0], r[1], r[2], r[3]) for r in rows]

    def withdraw(self, key_prefix: str) -> int:
        """Stop the unsent messages under ``key_prefix`` (a cancelled broadcast)."""
        result = self._execute(
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
        inserted = self._execute(
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
        row = self._execute(select(BROADCASTS).where(BROADCASTS.c.id == broadcast_id)).mappings()
        found = row.first()
        return _broadcast_row(found) if found is not None else None

    def broadcasts(self) -> list[BroadcastRow]:
        rows = self._execute(select(BROADCASTS).order_by(BROADCASTS.c.id)).mappings()
        return [_broadcast_row(r) for r in rows]

    def set_broadcast_status(self, broadcast_id: int, status: str, at: datetime) -> None:
        values: dict[str, Any] = {"status": status}
        if status == "cancelled":
            values["cancelled_at"] = at
        self._execute(update(BROADCASTS).where(BROADCASTS.c.id == broadcast_id).values(**values))

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
        self._execute(
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
        rows = self._execute(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)).mappings()
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
            str(t): str(g) for t, g in self._execute(select(BINDINGS.c.topic, BINDINGS.c.group_id))
        }

    def bind_group(self, topic: str, group: str, at: datetime) -> None:
        self._execute(
            self._upsert(BINDINGS)
            .values(topic=topic, group_id=group, bound_at=at)
            .on_conflict_do_nothing(index_elements=["topic"])
        )

    def known_groups(self) -> list[str]:
        return [str(g) for (g,) in self._execute(select(GROUPS.c.id).order_by(GROUPS.c.id))]

    # --- reports ----------------------------------------------------------------------

    def day_stats(
        self, group: str, day: date, start: datetime, end: datetime, first: int
    ) -> DayStats:
        """Counts for [start, end), the group's local ``day``; the ``first`` check-ins by name."""
        self.flush()
        window = {"g": group, "start": start, "end": end}
        kinds: dict[str, int] = {}
        active = 0
        for kind, count, distinct in self._run(_Q_DAY_KINDS, **window):
            # Joins and leaves count members: a leave and rejoin is one newcomer of the day.
            kinds[str(kind)] = int(count) if kind == "message" else int(distinct)
            if kind == "message":
                active = int(distinct)
        checked = self._run(_Q_DAY_CHECKINS, g=group, day=day)
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
            return {str(g): int(n) for g, n in self._execute(query)}

        kinds = {
            kind: counts(INTERACTIONS, INTERACTIONS.c.kind == kind)
            for kind in ("message", "join", "leave")
        }
        members = counts(MEMBERSHIPS, MEMBERSHIPS.c.left_at.is_(None))
        checkins = counts(CHECKINS)
        unanswered = counts(UNANSWERED, UNANSWERED.c.answered_at.is_(None))
        granted = {
            str(g): int(n)
            for g, n in self._execute(
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
            for gid, name in self._execute(select(GROUPS.c.id, GROUPS.c.name).order_by(GROUPS.c.id))
        ]

    def ledger_total(self, group: str, member: str) -> int:
        """The balance recomputed from the ledger: what the cached balance must equal."""
        total = self._execute(
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
