"""Prepared statements: the hot path's SQL on the driver cursor must read and write exactly
what SQLAlchemy itself would, on both backends."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import bindparam, column, select, table
from support import at

from storage.points import CheckinPoints
from storage.prepared import prepare
from storage.store import Store, StoreTx
from storage.tables import CHECKINS, LEDGER
from storage.unit_of_work import PAIRS_PER_READ


class CursorSpy:
    """Wraps the transaction's driver cursor and keeps the SQL it ran."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.sql: list[str] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.sql.append(sql)
        return self._cursor.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> Any:
        self.sql.append(sql)
        return self._cursor.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def spy(tx: StoreTx) -> CursorSpy:
    watched = CursorSpy(tx._cursor)
    tx._cursor = watched
    return watched


def test_prepared_writes_read_back_identically_through_sqlalchemy(store: Store) -> None:
    when = at("2026-11-24T08:00:01.250000")
    with store.transaction() as tx:
        tx.observe("g1", "bob", when, name="Bob")
        tx.check_in("g1", "bob", date(2026, 11, 24), when, CheckinPoints(10))
        tx.grant_points("g1", "bob", 5, "gift", when, actor="alice")
    with store.transaction() as tx:
        row = tx._c.execute(select(CHECKINS.c.day, CHECKINS.c.at, CHECKINS.c.points)).one()
        assert tuple(row) == (date(2026, 11, 24), when, 10)
        entry = tx._c.execute(select(LEDGER.c.actor_id, LEDGER.c.at, LEDGER.c.delta)).one()
        assert tuple(entry) == ("alice", when, 5)
        assert tx.balance("g1", "bob") == 5


def test_literals_and_limits_are_bound_from_the_statement(store: Store) -> None:
    """A literal inside the statement (``> 0``) needs no value from the caller."""
    with store.transaction() as tx:
        for member, points in (("a", 30), ("b", 0), ("c", 10)):
            tx.observe("g1", member, at("2026-11-24T08:00"))
            if points:
                tx.grant_points("g1", member, points, "x", at("2026-11-24T08:00"))
        board = tx.leaderboard("g1", at("2026-11-23T00:00"), 5)
        assert [(r.member, r.points) for r in board] == [("a", 30), ("c", 10)]
        assert [r.member for r in tx.leaderboard("g1", None, 1)] == ["a"]


def test_in_lists_are_refused_at_preparation(store: Store) -> None:
    names = table("t", column("id"))
    statement = select(names.c.id).where(names.c.id.in_(bindparam("ids", expanding=True)))
    with pytest.raises(ValueError, match="expanding"):
        prepare(statement, store.engine.dialect)


def test_an_event_that_writes_nothing_issues_no_savepoint(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
        watched = spy(tx)
        with tx.savepoint(), tx.savepoint():
            tx.observe("g1", "bob", at("2026-11-24T08:01"))  # known: no statement
            tx.record_interaction("g1", "bob", "message", at("2026-11-24T08:01"), "hi")
        assert watched.sql == []


def test_savepoints_open_on_the_first_write_and_roll_back_only_their_event(store: Store) -> None:
    when = at("2026-11-24T08:00")
    with store.transaction() as tx:
        watched = spy(tx)
        with tx.savepoint():
            tx.observe("g1", "kept", when)
            tx.record_interaction("g1", "kept", "message", when, "hi")
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.observe("g1", "dropped", when)
            tx.record_interaction("g1", "dropped", "message", when, "hi")
            with tx.savepoint():
                tx.grant_points("g1", "dropped", 5, "x", when)
            raise RuntimeError("the rules failed")
        issued = [sql for sql in watched.sql if "SAVEPOINT" in sql]
        # The inner one only read a balance and buffered the grant: never issued.
        assert [sql.split()[0] for sql in issued] == [
            "SAVEPOINT",
            "RELEASE",
            "SAVEPOINT",
            "ROLLBACK",
            "RELEASE",
        ]
    with store.transaction() as tx:
        assert tx.active_members("g1") == 1
        assert tx.ledger_total("g1", "dropped") == 0
        assert [s.messages for s in tx.summaries()] == [1]


def test_a_batch_of_check_ins_costs_a_constant_number_of_statements(store: Store) -> None:
    """The hot path's reads and writes are per batch: as many members checking in for the
    first time as one bulk read takes cost the same few round trips as ten."""
    from sqlalchemy import event

    from storage.members import Speaker

    def statements(members: int, day: date) -> int:
        count = [0]

        def counted(*_: Any) -> None:
            count[0] += 1

        when = at(f"{day.isoformat()}T08:00")
        with store.transaction() as tx:
            event.listen(tx._c, "before_cursor_execute", counted)
            watched = spy(tx)
            speakers = [Speaker("g1", f"m{day.day}-{n}", when, f"M{n}") for n in range(members)]
            tx.expect_speakers(speakers)
            for s in speakers:
                with tx.savepoint():
                    tx.observe("g1", s.member, when, name=s.name)
                    tx.record_interaction("g1", s.member, "message", when, "签到")
                    done = tx.check_in("g1", s.member, day, when, CheckinPoints(10))
                    tx.grant_points("g1", s.member, done.points, "checkin", when)
            tx.flush()
            event.remove(tx._c, "before_cursor_execute", counted)
            return len(watched.sql) + count[0]

    statements(1, date(2026, 11, 23))  # the group's first sight
    few = statements(10, date(2026, 11, 24))
    many = statements(PAIRS_PER_READ, date(2026, 11, 25))
    assert few == many and many <= 16
