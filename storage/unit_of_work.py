"""The unit of work under every domain module.

Prepared statements on the driver cursor (see storage.prepared), a savepoint per event
issued only when the event writes, buffered interaction rows, and the upserts both
dialects share.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    insert,
)
from sqlalchemy.dialects import postgresql, sqlite

from storage.prepared import Statements
from storage.tables import CHECKINS, INTERACTIONS, LEDGER, MEMBERSHIPS, OUTBOX, SEEN

INSERT_INTERACTION = insert(INTERACTIONS)

INTERACTION_KEYS = ("group_id", "member_id", "kind", "text", "rule", "at")

INSERT_LEDGER = insert(LEDGER)

LEDGER_KEYS = ("group_id", "member_id", "delta", "reason", "actor_id", "at")

_UPSERTS: dict[tuple[str, str, str], Any] = {}

_NATURAL_KEYS = {
    MEMBERSHIPS.name: ["group_id", "member_id"],
    OUTBOX.name: ["key"],
    CHECKINS.name: ["group_id", "member_id", "day"],
    SEEN.name: ["message_id"],
}


class KnownRows:
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
        self._interactions: list[dict[str, Any]] = []
        self._ledger: list[dict[str, Any]] = []  # points ledger rows, written like interactions
        self._savepoints: list[str] = []  # declared, innermost last
        self._opened = 0  # how many of them have been issued

    def close(self) -> None:
        self._cursor.close()

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
        buffered = len(self._interactions), len(self._ledger)
        try:
            yield
        except BaseException:
            if self._opened == len(self._savepoints):
                self._cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self._cursor.execute(f"RELEASE SAVEPOINT {name}")
            del self._interactions[buffered[0] :]
            del self._ledger[buffered[1] :]
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
        """Write the buffered interaction and ledger rows: one statement each for the batch.

        Nothing reads them on the message path; whatever does (reports, leaderboards over
        a period, the ledger total) flushes first.
        """
        if self._interactions:
            self._insert(INSERT_INTERACTION, INTERACTION_KEYS, self._interactions)
            self._interactions = []
        if self._ledger:
            self._insert(INSERT_LEDGER, LEDGER_KEYS, self._ledger)
            self._ledger = []

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
