"""The store's narrow interface: domain operations, one transaction per dispatched batch.

Callers never see SQL. :class:`Store` owns the engine and the schema; :class:`StoreTx`
is one unit of work (the dispatcher's batch), with a savepoint per event so that one
failing event does not undo its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    Engine,
)

from storage.activity import ActivityTx
from storage.alerts import AlertsTx
from storage.audit import AuditTx
from storage.behaviour import BehaviourTx
from storage.broadcasts import BroadcastsTx
from storage.checkpoints import WalCheckpointer
from storage.data_keys import DataKeysTx
from storage.db import check_connection, create_db_engine, create_marks_engine, is_sqlite
from storage.encryption import DataKeyError, DataKeys, use_keys
from storage.faq_queue import FaqQueueTx
from storage.grants import GrantsTx
from storage.groups import GroupsTx
from storage.layers import LayersTx
from storage.member_data import MemberDataTx
from storage.members import MembersTx
from storage.migrate import upgrade_to_head
from storage.moderation import ModerationTx
from storage.outbox import MARK_SENT, OutboxTx
from storage.pending import PendingTx
from storage.points import PointsTx
from storage.prepared import Statements
from storage.reports import ReportsTx
from storage.retention import RetentionTx
from storage.seen import SeenTx
from storage.sent_journal import SentJournal, journal_path
from storage.tags import TagsTx
from storage.unit_of_work import KnownRows
from storage.welcomes import WelcomesTx


class Store:
    """Owns the database: opens it, migrates it to the current schema, hands out units of work."""

    def __init__(self, url: str, keys: DataKeys | None = None) -> None:
        """``keys``: what seals member data at rest (``QUNBOT_DATA_KEY``); None stores it
        as given. Keys that cannot open what the database holds are refused here, before
        anything is written (:class:`storage.encryption.DataKeyError`)."""
        self.url = url
        self.keys = keys
        self.engine = create_db_engine(url)
        check_connection(self.engine, url)
        upgrade_to_head(self.engine)
        self._light = create_db_engine(url, durable=False) if is_sqlite(self.engine) else None
        use_keys([e.dialect for e in (self.engine, self._light) if e is not None], keys)
        self._journal_path = journal_path(self.engine.url.database) if self._light else None
        self._checkpoints = (
            WalCheckpointer(str(self.engine.url.database)) if self._journal_path else None
        )
        self._journal: SentJournal | None = None
        self._marks: Engine | None = None  # PostgreSQL: marks sends (see confirm_sent)
        self._known = KnownRows()
        self._statements = Statements(self.engine.dialect)
        try:
            with self.transaction() as tx:
                tx.check_keys(keys, datetime.now(UTC))
        except DataKeyError:
            self.close()
            raise

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
        self._known.merge(staged)
        if self._checkpoints is not None:
            self._checkpoints.poke()

    @property
    def light_engine(self) -> Engine:
        """The engine for bookkeeping that may skip the fsync (see ``transaction``)."""
        return self._light if self._light is not None else self.engine

    def confirm_sent(self, message_id: int, at: datetime) -> None:
        """Mark one outbox effect performed: once per effect, so it must be cheap.

        A SQLite file gets the mark in its journal (see ``storage.sent_journal``), folded
        in bulk by :meth:`fold_sent`; other databases get it at once, committed without
        waiting for the disk.
        """
        self._known.effects.pop(message_id, None)
        journal = self._sent_journal()
        if journal is not None:
            journal.append(message_id, at)
            return
        if self._light is not None:  # SQLite without a file of its own: nothing to journal
            with self.transaction(durable=False) as tx:
                tx.mark_sent([(message_id, at)])
            return
        if self._marks is None:
            self._marks = create_marks_engine(self.engine.url)
        mark = self._statements(MARK_SENT)
        connection = self._marks.raw_connection()
        try:
            with closing(connection.cursor()) as cursor:
                values = {"low": message_id, "high": message_id, "at": at}
                cursor.execute(mark.sql, mark.parameters(values))
        finally:
            connection.close()

    def fold_sent(self) -> int:
        """Write the journaled marks into the outbox in one transaction; how many.

        The sending worker calls it after each chunk it drains and before its first, which
        also folds what a run that crashed left in the journal.
        """
        journal = self._sent_journal()
        if journal is None or not journal.pending:
            return 0
        marks = journal.pending
        with self.transaction(durable=False) as tx:
            tx.mark_sent(marks)
        journal.folded()
        return len(marks)

    def _sent_journal(self) -> SentJournal | None:
        """Opened by the first confirmation or fold: only the sending process touches it."""
        if self._journal is None and self._journal_path is not None:
            self._journal = SentJournal(self._journal_path)
        return self._journal

    def close(self) -> None:
        if self._journal is not None:
            self.fold_sent()
            self._journal.close()
        if self._checkpoints is not None:
            self._checkpoints.close()
        if self._marks is not None:
            self._marks.dispose()
        self.engine.dispose()
        if self._light is not None:
            self._light.dispose()


class StoreTx(
    MembersTx,
    WelcomesTx,
    ActivityTx,
    LayersTx,
    PointsTx,
    FaqQueueTx,
    OutboxTx,
    BroadcastsTx,
    AuditTx,
    GroupsTx,
    SeenTx,
    TagsTx,
    ReportsTx,
    AlertsTx,
    ModerationTx,
    GrantsTx,
    RetentionTx,
    MemberDataTx,
    PendingTx,
    DataKeysTx,
    BehaviourTx,
):
    """The domain operations, inside one transaction (each group of them in its own module)."""
