"""The unit of work under every domain module.

Prepared statements on the driver cursor (see storage.prepared), a savepoint per event
issued only when the event writes, buffered writes with an undo log for the domain
modules' in-transaction caches, and the upserts both dialects share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    Table,
    bindparam,
    column,
    insert,
    values,
)
from sqlalchemy.dialects import postgresql, sqlite

from core.effects import Effect
from storage.prepared import Prepared, Statements
from storage.tables import CHECKINS, INTERACTIONS, MEMBERSHIPS, OUTBOX, SEEN


@dataclass(frozen=True, slots=True, eq=False)
class BufferSpec:
    """A statement whose rows a transaction collects and writes together.

    ``combine`` folds the pending rows into the ones to run (e.g. one balance change per
    member instead of one per grant).
    """

    statement: Any
    keys: tuple[str, ...]
    combine: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None


class _Buffer:
    """One spec's rows in this transaction; the first ``written`` are in the database.

    Rows stay listed until the transaction ends, so that a savepoint rolled back after a
    mid-event write (a leaderboard reads, so it writes what is pending) can write again
    the rows of earlier events that it took with it.
    """

    __slots__ = ("rows", "spec", "written")

    def __init__(self, spec: BufferSpec) -> None:
        self.spec = spec
        self.rows: list[dict[str, Any]] = []
        self.written = 0


INTERACTIONS_BUFFER = BufferSpec(
    insert(INTERACTIONS), ("group_id", "member_id", "kind", "text", "rule", "at")
)

_MISSING = object()


PAIRS_PER_READ = 64

# Single keys as a fixed IN list, bound and padded like WANTED's pairs: prepared once.
KEYS = [bindparam(f"k{i}", type_=String) for i in range(PAIRS_PER_READ)]

EFFECTS_KEPT = 4096  # enqueued effects remembered for the outbox: a few batches' worth

# (group, member) pairs as a table to join, ``g0, m0, g1, m1 …`` bound: both databases look
# each pair up by its index (SQLite scans the table for a row-value IN list), and the
# statement is prepared once (SQLAlchemy compiles a VALUES list anew for every call).
WANTED = (
    values(column("g", String), column("m", String), name="wanted")
    .data(
        [
            (bindparam(f"g{i}", type_=String), bindparam(f"m{i}", type_=String))
            for i in range(PAIRS_PER_READ)
        ]
    )
    .cte("wanted")
)


_UPSERTS: dict[tuple[str, str, str], Any] = {}

_NATURAL_KEYS = {
    MEMBERSHIPS.name: ["group_id", "member_id"],
    OUTBOX.name: ["key"],
    CHECKINS.name: ["group_id", "member_id", "day"],
    SEEN.name: ["message_id"],
}


class KnownRows:
    """Which groups, members and memberships already exist, with their names; and the
    effects this process enqueued, by outbox id, until they are confirmed.

    Saves an upsert per message, and the outbox a reread of what it was just handed; only
    this store's transactions write these, so the cache is exact once its transaction
    commits (entries of a rolled-back transaction are dropped).
    """

    def __init__(self) -> None:
        self.groups: dict[str, str] = {}
        self.members: dict[str, str] = {}
        self.memberships: set[tuple[str, str]] = set()
        self.effects: dict[int, Effect] = {}

    def merge(self, staged: KnownRows) -> None:
        """A transaction committed: what it staged is known now."""
        self.groups.update(staged.groups)
        self.members.update(staged.members)
        self.memberships.update(staged.memberships)
        self.effects.update(staged.effects)
        if len(self.effects) > EFFECTS_KEPT:  # never confirmed here (another process sent)
            for stale in list(islice(self.effects, len(self.effects) - EFFECTS_KEPT // 2)):
                del self.effects[stale]

    def clear(self) -> None:
        self.groups.clear()
        self.members.clear()
        self.memberships.clear()
        self.effects.clear()


class TxBase:
    """One transaction's plumbing; the domain modules add their operations on top."""

    def __init__(
        self, connection: Connection, known: KnownRows, staged: KnownRows, statements: Statements
    ) -> None:
        self._c = connection
        self._known = known
        self._staged = staged
        self._sql = statements
        driver = connection.connection.driver_connection
        assert driver is not None
        self._cursor: Any = driver.cursor()
        self.expected: dict[str, set[str]] = {}  # group -> members the batch will hear
        # Memberships the batch created before its first event, with when each was first
        # seen: nothing else of theirs is stored (points, check-ins, interactions and tags
        # are written only while one exists, and an erasure removes them all together), so
        # reads made before the first event are known to find nothing.
        self.new_memberships: dict[tuple[str, str], datetime] = {}
        self._buffers: dict[BufferSpec, _Buffer] = {}
        self._undo: list[tuple[MutableMapping[Any, Any], Any, Any]] = []
        self._memo: dict[Any, Any] = {}  # reads a batch repeats; set with _remember
        self._savepoints: list[str] = []  # declared, innermost last
        self._opened = 0  # how many of them have been issued

    def close(self) -> None:
        self._cursor.close()

    def expect(self, speakers: Iterable[tuple[str, str]]) -> None:
        """(group, member) pairs the batch is about to handle: what a cache that loads in
        bulk loads together (a batch of check-ins reads its balances in one query)."""
        for group, member in speakers:
            self.expected.setdefault(group, set()).add(member)

    def _buffer(self, spec: BufferSpec, row: dict[str, Any]) -> None:
        """Queue a row for ``spec``'s statement: written at commit or before a read needs it."""
        buffer = self._buffers.get(spec)
        if buffer is None:
            buffer = self._buffers[spec] = _Buffer(spec)
        buffer.rows.append(row)

    def _buffered(self, spec: BufferSpec) -> list[dict[str, Any]]:
        """``spec``'s rows in this transaction, written or not (see :meth:`_written`); the
        list itself, to read, never to change."""
        buffer = self._buffers.get(spec)
        return buffer.rows if buffer is not None else []

    def _written(self, spec: BufferSpec) -> int:
        """How many of ``spec``'s rows the database holds now: a read made now sees those."""
        buffer = self._buffers.get(spec)
        return buffer.written if buffer is not None else 0

    def _remember(self, cache: MutableMapping[Any, Any], key: Any, value: Any) -> None:
        """Set ``cache[key]`` so that the event's rollback sets it back."""
        self._undo.append((cache, key, cache.get(key, _MISSING)))
        cache[key] = value

    def _forget(self, *key: Any) -> None:
        """Drop a memo entry: what a write changed is read again (dropping needs no undo
        entry: after a rollback it is only read once more)."""
        self._memo.pop(key, None)

    def _run(self, statement: Any, **values: Any) -> list[tuple[Any, ...]]:
        """Execute a prebuilt statement; the rows it returns, if any."""
        prepared = self._sql(statement)
        return self._run_prepared(prepared, prepared.parameters(values))

    def _run_prepared(self, prepared: Prepared, parameters: Any) -> list[tuple[Any, ...]]:
        """Execute with parameters already in the driver's form."""
        if prepared.writes:
            self._open_savepoints()
        self._cursor.execute(prepared.sql, parameters)
        return prepared.rows(self._cursor) if prepared.readers else []

    def _run_for_pairs(
        self, statement: Any, pairs: Sequence[tuple[str, str]], **values: Any
    ) -> list[tuple[Any, ...]]:
        """Run a statement joined to :data:`WANTED` for every pair, a read per chunk of them
        (the last chunk padded with its last pair: the caller takes repeated rows once)."""
        return self._run_padded(statement, pairs, ("g", "m"), values)

    def _run_for_keys(
        self, statement: Any, keys: Sequence[str], **values: Any
    ) -> list[tuple[Any, ...]]:
        """Run a statement whose IN list is :data:`KEYS` for every key, as above."""
        return self._run_padded(statement, [(key,) for key in keys], ("k",), values)

    def _run_padded(
        self,
        statement: Any,
        items: Sequence[tuple[str, ...]],
        names: tuple[str, ...],
        values: dict[str, Any],
    ) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for first in range(0, len(items), PAIRS_PER_READ):
            chunk = list(items[first : first + PAIRS_PER_READ])
            chunk += [chunk[-1]] * (PAIRS_PER_READ - len(chunk))
            bound = dict(values)
            for i, item in enumerate(chunk):
                bound.update((f"{name}{i}", part) for name, part in zip(names, item, strict=True))
            rows += self._run(statement, **bound)
        return rows

    def _first(self, statement: Any, **values: Any) -> tuple[Any, ...] | None:
        rows = self._run(statement, **values)
        return rows[0] if rows else None

    def _scalar(self, statement: Any, **values: Any) -> Any:
        row = self._first(statement, **values)
        return row[0] if row is not None else None

    def _insert(self, statement: Any, keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> int:
        """Insert many rows with one prepared statement; how many rows it wrote."""
        return self._run_many(statement, rows, keys)

    def _run_many(
        self, statement: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str] = ()
    ) -> int:
        """Run a prebuilt statement once per row of values; how many rows it changed."""
        prepared = self._sql(statement, keys)
        self._open_savepoints()
        if len(rows) == 1:  # the usual case; a one-row executemany costs five times more
            self._cursor.execute(prepared.sql, prepared.parameters(rows[0]))
        else:
            self._cursor.executemany(prepared.sql, [prepared.parameters(row) for row in rows])
        return int(self._cursor.rowcount)

    def savepoint(self) -> _Savepoint:
        """Isolate one event: its writes vanish if it raises, the batch goes on.

        Plain SAVEPOINT statements on the driver connection (both SQLite and PostgreSQL
        take them): SQLAlchemy's nested transactions cost forty times more. And only when
        the event reaches the database at all: most chat messages change nothing but the
        buffered interaction rows, so their savepoints would be empty.
        """
        return _Savepoint(self)

    def _roll_back_memory(self, undo: int, marks: list[tuple[_Buffer, int, int]]) -> None:
        """Undo what an event did to the caches and buffers since its savepoint began."""
        while len(self._undo) > undo:
            cache, key, old = self._undo.pop()
            if old is _MISSING:
                cache.pop(key, None)
            else:
                cache[key] = old
        marked = {id(buffer) for buffer, _, _ in marks}
        for buffer, rows, written in marks:
            del buffer.rows[rows:]
            buffer.written = min(buffer.written, written)  # those went with the savepoint
        for buffer in self._buffers.values():
            if id(buffer) not in marked:  # begun inside the event: all of it was the event's
                buffer.rows.clear()
                buffer.written = 0
        self._staged.clear()
        self._known.clear()

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
        """Write the buffered rows: one statement per buffer for the batch.

        Nothing reads them on the message path; whatever does (reports, leaderboards,
        standings, the ledger total) flushes first.
        """
        for buffer in self._buffers.values():
            pending = buffer.rows[buffer.written :]
            if not pending:
                continue
            spec = buffer.spec
            self._run_many(
                spec.statement, spec.combine(pending) if spec.combine else pending, spec.keys
            )
            buffer.written = len(buffer.rows)

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


class _Savepoint:
    """:meth:`TxBase.savepoint`'s block: a class, not a generator, since every event
    enters one (a generator's context manager costs three times as much)."""

    __slots__ = ("_marks", "_name", "_tx", "_undo")

    def __init__(self, tx: TxBase) -> None:
        self._tx = tx

    def __enter__(self) -> None:
        tx = self._tx
        self._name = f"qunbot_event_{len(tx._savepoints) + 1}"
        tx._savepoints.append(self._name)
        self._undo = len(tx._undo)
        self._marks = [(b, len(b.rows), b.written) for b in tx._buffers.values()]

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        tx = self._tx
        try:
            if tx._opened == len(tx._savepoints):
                if kind is not None:
                    tx._cursor.execute(f"ROLLBACK TO SAVEPOINT {self._name}")
                tx._cursor.execute(f"RELEASE SAVEPOINT {self._name}")
            if kind is not None:
                tx._roll_back_memory(self._undo, self._marks)
        finally:
            tx._savepoints.pop()
            tx._opened = min(tx._opened, len(tx._savepoints))
