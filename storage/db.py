"""Database engines: SQLite in WAL mode by default, PostgreSQL by URL, one code path for both."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def create_db_engine(url: str, *, durable: bool = True) -> Engine:
    """Build an engine tuned for the bot's single-writer, group-commit workload.

    ``durable=False`` (SQLite) commits without waiting for the disk: such a commit survives
    a crash of the process but maybe not a power cut. Only bookkeeping whose loss is
    harmless uses it (see ``Store.transaction``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    in_memory = parsed.database in (None, "", ":memory:")
    _make_sqlite_transactional(engine, in_memory=in_memory, durable=durable)
    return engine


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _make_sqlite_transactional(engine: Engine, *, in_memory: bool, durable: bool) -> None:
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
        cursor.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
