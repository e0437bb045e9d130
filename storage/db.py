"""Database engines: SQLite in WAL mode by default, PostgreSQL by URL, one code path for both."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from storage.checkpoints import BACKSTOP_PAGES

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
_EXAMPLES = "e.g. sqlite:///qunbot.db or postgresql+psycopg://user@host/db"
# Hides the password of a string SQLAlchemy cannot parse: scheme://user:PASSWORD@...
_RAW_PASSWORD = re.compile(r"^([^:/]*://[^:/@]*):[^/]*@")


class DatabaseUrlError(ValueError):
    """A database URL the bot cannot open: the message names the URL (password masked),
    says what is wrong and how to fix it, in one line for the person who gave it."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"database URL {masked_url(url)!r}: {problem}")


def masked_url(url: str) -> str:
    """The database URL with its password hidden: URLs end up in logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _RAW_PASSWORD.sub(r"\1:***@", url)


def create_db_engine(url: str, *, durable: bool = True) -> Engine:
    """Build an engine tuned for the bot's single-writer, group-commit workload.

    ``durable=False`` (SQLite) commits without waiting for the disk: such a commit survives
    a crash of the process but maybe not a power cut. Only bookkeeping whose loss is
    harmless uses it (see ``Store.transaction``). A URL that cannot work raises
    :class:`DatabaseUrlError` before any connection is tried.
    """
    parsed = _checked_url(url)
    try:
        if parsed.get_backend_name() != "sqlite":
            return create_engine(parsed, pool_pre_ping=True)
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
    except (ImportError, NoSuchModuleError) as error:
        raise DatabaseUrlError(
            url, f"cannot load driver {parsed.drivername!r} ({error}); {_EXAMPLES}"
        ) from None
    except (ArgumentError, TypeError) as error:
        reason = str(error).splitlines()[0]
        raise DatabaseUrlError(url, f"{reason}; {_EXAMPLES}") from None
    in_memory = parsed.database in (None, "", ":memory:")
    _make_sqlite_transactional(engine, in_memory=in_memory, durable=durable)
    return engine


def create_marks_engine(url: URL) -> Engine:
    """PostgreSQL connections on which each statement commits by itself, without waiting for
    the disk (``synchronous_commit=off``): one round trip to mark a message sent instead of a
    transaction's five. Such a commit survives a crash of the bot, maybe not of the server."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SET synchronous_commit TO OFF")
        cursor.close()

    return engine


def _checked_url(url: str) -> URL:
    """The parsed URL, or a :class:`DatabaseUrlError` for what can be told without connecting."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseUrlError(url, f"not a database URL; {_EXAMPLES}") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseUrlError(
            url,
            f"unsupported database {backend!r}: qunbot runs on SQLite or PostgreSQL, {_EXAMPLES}",
        )
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise DatabaseUrlError(
                url,
                f"the directory {str(folder)!r} does not exist; create it or choose another path",
            )
    return parsed


def check_connection(engine: Engine, url: str) -> None:
    """Connect once, so an unreachable server or a missing database is one clear error."""
    try:
        with engine.connect():
            pass
    except (DBAPIError, ValueError) as error:  # ValueError: a NUL in a SQLite path
        cause = error.orig if isinstance(error, DBAPIError) else error
        reason = (str(cause).strip().splitlines() or ["no reason given"])[-1].strip()
        hint = "check the host, port, user and database name"
        if is_sqlite(engine):
            hint = "check that the path names a file this user may write"
        elif "does not exist" in reason and engine.url.database:
            hint = f"create it (createdb {engine.url.database}) or fix the URL"
        raise DatabaseUrlError(url, f"cannot connect: {reason}; {hint}") from None


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
            # The store's checkpoint thread copies the WAL; a commit does only as a backstop.
            cursor.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
        # FULL: a committed batch survives power loss too; group commit pays one fsync a batch.
        cursor.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        # A year of a busy group outgrows the default 2 MB page cache; statement journals
        # (a savepoint's undo for one statement) in memory, not in temporary files.
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
