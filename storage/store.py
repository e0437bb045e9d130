"""The store's narrow interface: domain operations, one transaction per dispatched batch.

Callers never see SQL. :class:`Store` owns the engine and the schema; :class:`StoreTx`
is one unit of work (the dispatcher's batch), with a savepoint per event so that one
failing event does not undo its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Engine,
)

from storage.activity import ActivityTx
from storage.audit import AuditTx
from storage.broadcasts import BroadcastsTx
from storage.db import check_connection, create_db_engine, is_sqlite
from storage.faq_queue import FaqQueueTx
from storage.groups import GroupsTx
from storage.members import MembersTx
from storage.migrate import upgrade_to_head
from storage.outbox import MARK_SENT, OutboxTx
from storage.points import PointsTx
from storage.prepared import Statements
from storage.seen import SeenTx
from storage.unit_of_work import KnownRows
from storage.welcomes import WelcomesTx


class Store:
    """Owns the database: opens it, migrates it to the current schema, hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        check_connection(self.engine, url)
        upgrade_to_head(self.engine)
        self._light = create_db_engine(url, durable=False) if is_sqlite(self.engine) else None
        self._marker: Any = None  # a driver connection kept for confirming sends (SQLite)
        self._known = KnownRows()
        self._statements = Statements(self.engine.dialect)

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[StoreTx]:
        """One unit of work: committed on normal exit, rolled back on an exception.

        ``durable=False`` is for bookkeeping whose loss costs nothing but a repeat (the
        outbox's "sent" marks): it survives a process crash, not necessarily a power cut,
        and spares an fsync per message.
        """
        staged = KnownRows()
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
        mark = self._statements(MARK_SENT)
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


class StoreTx(
    MembersTx,
    WelcomesTx,
    ActivityTx,
    PointsTx,
    FaqQueueTx,
    OutboxTx,
    BroadcastsTx,
    AuditTx,
    GroupsTx,
    SeenTx,
):
    """The domain operations, inside one transaction (each group of them in its own module)."""
