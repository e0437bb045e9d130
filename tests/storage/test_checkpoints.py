"""The WAL is copied into the database file by the checkpoint thread, not by the commits."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.checkpoints import BACKSTOP_PAGES, WalCheckpointer
from storage.store import Store

WAIT = 10.0  # seconds: a bound for a stuck thread, never slept


def file_alone_holds(path: Path, tmp_path: Path) -> int:
    """How many rows of ``t`` the database file holds by itself, the WAL left out."""
    copy = tmp_path / "copy" / "alone.db"
    copy.parent.mkdir(exist_ok=True)
    shutil.copy(path, copy)
    connection = sqlite3.connect(copy)
    try:
        return int(connection.execute("SELECT count(*) FROM t").fetchone()[0])
    finally:
        connection.close()  # its -wal and -shm go with it, before the next copy


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A WAL database whose writer checkpoints only at the backstop, as the store's do."""
    path = tmp_path / "q.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    writer.execute("CREATE TABLE t (n INTEGER)")
    writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the file alone holds the table
    yield path, writer
    writer.close()


def write(writer: sqlite3.Connection, rows: int) -> None:
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(rows)])
    writer.execute("COMMIT")


def test_a_poke_copies_the_commits_into_the_file(
    database: tuple[Path, sqlite3.Connection], tmp_path: Path
) -> None:
    path, writer = database
    checkpoints = WalCheckpointer(str(path))
    try:
        write(writer, 100)
        assert file_alone_holds(path, tmp_path) == 0  # in the WAL only: SQLite did not copy
        checkpoints.poke()
        assert checkpoints.wait(WAIT)
        assert file_alone_holds(path, tmp_path) == 100
    finally:
        checkpoints.close()


def test_a_reader_keeps_its_snapshot_and_the_rest_is_copied_after_it(
    database: tuple[Path, sqlite3.Connection], tmp_path: Path
) -> None:
    path, writer = database
    checkpoints = WalCheckpointer(str(path))
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        write(writer, 10)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 10
        write(writer, 5)  # the writer is not held up by the reader or by the checkpoint
        checkpoints.poke()
        assert checkpoints.wait(WAIT)
        # The later commit stays in the WAL while the reader's snapshot predates it (SQLite
        # copies a page's latest version only, so the earlier one may stay there too).
        assert file_alone_holds(path, tmp_path) < 15
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == 10
        reader.execute("COMMIT")
        checkpoints.poke()
        assert checkpoints.wait(WAIT)
        assert file_alone_holds(path, tmp_path) == 15
    finally:
        reader.close()
        checkpoints.close()


def test_a_database_it_cannot_open_is_logged_and_the_thread_carries_on(
    tmp_path: Path, warnings: list[str]
) -> None:
    checkpoints = WalCheckpointer(str(tmp_path / "missing" / "q.db"))
    try:
        for _ in range(2):
            checkpoints.poke()
            assert checkpoints.wait(WAIT)
    finally:
        checkpoints.close()
    assert len(warnings) == 2
    assert all("cannot open the database" in line and "missing" in line for line in warnings)


def test_close_stops_the_thread(database: tuple[Path, sqlite3.Connection]) -> None:
    path, _ = database
    before = {t.ident for t in threading.enumerate() if t.name == "qunbot-checkpoint"}
    checkpoints = WalCheckpointer(str(path))
    checkpoints.poke()
    checkpoints.close()
    after = {t.ident for t in threading.enumerate() if t.name == "qunbot-checkpoint"}
    assert after == before


def test_the_store_commits_reach_the_file_through_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "qunbot.db"
    store = Store(f"sqlite:///{path}")
    try:
        with store.engine.connect() as connection:
            backstop = connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert backstop == BACKSTOP_PAGES
        with store.transaction() as tx:
            tx.audit(
                datetime(2026, 12, 4, tzinfo=UTC), "owner", "owner", "checkpoint", None, "", "ok"
            )
        checkpoints = store._checkpoints
        assert checkpoints is not None and checkpoints.wait(WAIT)
        copy = tmp_path / "copy.db"
        shutil.copy(path, copy)
        connection = sqlite3.connect(copy)
        actions = connection.execute("SELECT action FROM audit_log").fetchall()
        connection.close()
        assert actions == [("checkpoint",)]
    finally:
        store.close()
