"""Database engines: SQLite in WAL mode by default, PostgreSQL by URL, one code path for both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def create_db_engine(url: str) -> Engine:
    """Build an engine tuned for the bot's single-writer, group-commit workload."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    _make_sqlite_transactional(engine, in_memory=parsed.database in (None, "", ":memory:"))
    return engine


def _make_sqlite_transactional(engine: Engine, *, in_memory: bool) -> None:
    """Let SQLAlchemy, not the sqlite3 module, issue BEGIN, so savepoints behave.

    The stdlib driver starts transactions lazily and breaks SAVEPOINT; SQLAlchemy's
    documented remedy is autocommit at the driver and an explicit BEGIN on ``begin``.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed batch survives power loss too; group commit pays one fsync a batch.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
