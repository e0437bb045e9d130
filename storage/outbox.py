"""The outbox: every effect (a message, a removal) is a row first, performed and confirmed later."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    bindparam,
    case,
    func,
    or_,
    select,
    update,
)

from core.effects import Effect, EffectKind
from core.statuses import OutboxStatus
from storage.tables import (
    OUTBOX,
)
from storage.unit_of_work import TxBase

SENT_AT_GRAIN = timedelta(seconds=1)
"""How far apart in time marks folded as one run may be: their sent_at is the run's last."""

# A journaled mark may find its message withdrawn meanwhile (a cancelled broadcast): it went.
# Marks come as runs of consecutive ids (a batch's replies have consecutive ids and leave in
# order): one row per run, which costs SQLite half of one per message.
MARK_SENT = (
    update(OUTBOX)
    .where(
        OUTBOX.c.id.between(bindparam("low"), bindparam("high")),
        or_(OUTBOX.c.status == OutboxStatus.PENDING, OUTBOX.c.status == OutboxStatus.CANCELLED),
    )
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("at"),
        attempts=OUTBOX.c.attempts + 1,
        error=None,
    )
)

_OUTBOX_KEYS = (
    "key",
    "kind",
    "group_id",
    "text",
    "member",
    "requester",
    "mentions",
    "priority",
    "rule",
    "broadcast_id",
    "status",
    "attempts",
    "account",
    "decided_at",
    "not_before",
)
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps makes one per call


def _mentions_json(mentions: tuple[str, ...]) -> str:
    return _ENCODE(list(mentions)) if mentions else "[]"


_DUE_COLUMNS = (
    OUTBOX.c.id,
    OUTBOX.c.group_id,
    OUTBOX.c.text,
    OUTBOX.c.decided_at,
    OUTBOX.c.mentions,
    OUTBOX.c.key,
    OUTBOX.c.priority,
    OUTBOX.c.rule,
    OUTBOX.c.attempts,
    OUTBOX.c.kind,
    OUTBOX.c.member,
    OUTBOX.c.account,
    OUTBOX.c.broadcast_id,
    OUTBOX.c.requester,
)

# Each requester's pending effects numbered oldest first: effects are taken turn by turn,
# so a member's tenth pending answer waits behind everyone else's first. Effects that answer
# nobody (scheduled posts) are each a requester of their own.
_TURN = (
    func.row_number()
    .over(
        partition_by=[OUTBOX.c.requester, case((OUTBOX.c.requester.is_(None), OUTBOX.c.id))],
        order_by=OUTBOX.c.id,
    )
    .label("turn")
)


# What the outbox needs of a row whose effect this process enqueued and still remembers
# (its time is not read back: parsing 256 of them was two thirds of a chunk's read).
_DUE_STATE = (OUTBOX.c.id, OUTBOX.c.attempts)


def _due(columns: tuple[Any, ...], max_priority: bool, by_turns: bool) -> Any:
    ordered = [OUTBOX.c.priority, _TURN] if by_turns else []
    pending = select(*dict.fromkeys([*columns, *ordered])).where(
        OUTBOX.c.status == OutboxStatus.PENDING, OUTBOX.c.not_before <= bindparam("now")
    )
    if max_priority:
        pending = pending.where(OUTBOX.c.priority <= bindparam("max_priority"))
    if not by_turns:
        return pending.order_by(OUTBOX.c.priority, OUTBOX.c.id).limit(bindparam("limit"))
    due = pending.subquery("due")
    return (
        select(*(due.c[column.name] for column in columns))
        .order_by(due.c.priority, due.c.turn, due.c.id)
        .limit(bindparam("limit"))
    )


_Q_OUTBOX_DUE: dict[tuple[bool, int, int], Any] = {
    (state, capped, turns): _due(_DUE_STATE if state else _DUE_COLUMNS, bool(capped), bool(turns))
    for state in (False, True)
    for capped in (0, 1)
    for turns in (0, 1)
}


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A stored effect due now; ``effect.at`` is when it was decided, in UTC."""

    id: int
    effect: Effect
    attempts: int


@dataclass(frozen=True, slots=True)
class FailedMessage:
    """A message the platform refused for good, or that ran out of attempts."""

    id: int
    group: str
    text: str
    rule: str | None
    attempts: int
    error: str | None
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    sent: int
    failed: int


@dataclass(frozen=True, slots=True)
class Delivery:
    group: str
    status: str
    sent_at: datetime | None
    error: str | None


class OutboxTx(TxBase):
    """Enqueue (idempotent by key), claim what is due, record what became of each effect."""

    def enqueue(self, effects: Sequence[Effect]) -> int:
        """Store effects to perform; one whose key is stored already is dropped. How many?"""
        if not effects:
            return 0
        rows = [
            {
                "key": e.key,
                "kind": e.kind,
                "group_id": e.group,
                "text": e.text,
                "member": e.member,
                "requester": e.requester,
                "mentions": _mentions_json(e.mentions),
                "priority": e.priority,
                "rule": e.rule,
                "broadcast_id": e.broadcast,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "account": e.account,
                "decided_at": e.at,
                "not_before": e.at,
            }
            for e in effects
        ]
        inserted = self._insert(self._prebuilt("once", OUTBOX), _OUTBOX_KEYS, rows)
        if inserted == len(rows) and self._c.dialect.name == "sqlite":
            # Every row went in, so they took the ids after the table's highest, in order
            # (SQLite's rowids; the batch holds the write lock): the outbox need not read
            # back what it is handed here.
            last = self._cursor.execute("SELECT last_insert_rowid()").fetchone()[0]
            ids = range(last - inserted + 1, last + 1)
            self._staged.effects.update(zip(ids, effects, strict=True))
        return inserted

    def due_messages(
        self, now: datetime, limit: int, max_priority: int | None = None, by_turns: bool = False
    ) -> list[OutboxRow]:
        """Pending effects whose time has come: replies before broadcasts, oldest first; or,
        ``by_turns``, each requester's oldest before anyone's second (paced sending).

        Effects this process enqueued come from memory, with only their state read; if
        any due row is not remembered (a previous run's, another process's), all are read.
        """
        shape = (int(max_priority is not None), int(by_turns))
        values = {"now": now, "limit": limit, "max_priority": max_priority}
        known = self._known.effects
        if known:
            state = self._run(_Q_OUTBOX_DUE[(True, *shape)], **values)
            effects = [known.get(r[0]) for r in state]
            if None not in effects:
                return [
                    OutboxRow(r[0], effect, r[1])
                    for r, effect in zip(state, cast(list[Effect], effects), strict=True)
                ]
        rows = self._run(_Q_OUTBOX_DUE[(False, *shape)], **values)
        return [
            OutboxRow(
                id=r[0],
                effect=Effect(
                    group=r[1],
                    text=r[2],
                    at=r[3],
                    mentions=tuple(json.loads(r[4])),
                    key=r[5],
                    priority=r[6],
                    rule=r[7],
                    kind=EffectKind(r[9]),
                    member=r[10],
                    account=r[11],
                    broadcast=r[12],
                    requester=r[13],
                ),
                attempts=r[8],
            )
            for r in rows
        ]

    def next_message_due(self) -> datetime | None:
        due = self._execute(
            select(func.min(OUTBOX.c.not_before)).where(OUTBOX.c.status == OutboxStatus.PENDING)
        ).scalar_one()
        return cast(datetime | None, due)

    def mark_sent(self, marks: Sequence[tuple[int, datetime]]) -> None:
        """Effects performed: ``(id, when)`` pairs, in one statement.

        A run of consecutive ids sent within :data:`SENT_AT_GRAIN` of its first is marked
        at once, sent at the run's last time (shown to the second, as delivery reports do).
        """
        runs: list[dict[str, Any]] = []
        for mid, at in marks:
            run = runs[-1] if runs else None
            if run is not None and mid == run["high"] + 1 and at - run["since"] <= SENT_AT_GRAIN:
                run["high"], run["at"] = mid, max(run["at"], at)
            else:
                runs.append({"low": mid, "high": mid, "at": at, "since": at})
        self._run_many(MARK_SENT, runs)

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
            .values(status=OutboxStatus.FAILED, attempts=OUTBOX.c.attempts + 1, error=error)
        )

    def outbox_counts(self, broadcast: int | None = None) -> OutboxCounts:
        """Messages by status: all of them, or one broadcast's."""
        query = select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status)
        if broadcast is not None:
            query = query.where(OUTBOX.c.broadcast_id == broadcast)
        counts = {str(status): int(n) for status, n in self._execute(query)}
        return OutboxCounts(
            counts.get(OutboxStatus.PENDING, 0),
            counts.get(OutboxStatus.SENT, 0),
            counts.get(OutboxStatus.FAILED, 0),
        )

    def deliveries(self, broadcast: int) -> list[Delivery]:
        """Per-group delivery state of one broadcast's messages."""
        rows = self._execute(
            select(OUTBOX.c.group_id, OUTBOX.c.status, OUTBOX.c.sent_at, OUTBOX.c.error)
            .where(OUTBOX.c.broadcast_id == broadcast)
            .order_by(OUTBOX.c.group_id, OUTBOX.c.id)
        )
        return [Delivery(r[0], r[1], r[2], r[3]) for r in rows]

    def withdraw(self, broadcast: int) -> int:
        """Stop a cancelled broadcast's unsent messages; how many."""
        result = self._execute(
            update(OUTBOX)
            .where(OUTBOX.c.broadcast_id == broadcast, OUTBOX.c.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.CANCELLED)
        )
        return int(result.rowcount)

    def failed_messages(self, limit: int = 100) -> list[FailedMessage]:
        """Failed effects, newest first; ``text`` says what a removal was to do."""
        rows = self._execute(
            select(
                OUTBOX.c.id,
                OUTBOX.c.group_id,
                OUTBOX.c.text,
                OUTBOX.c.rule,
                OUTBOX.c.attempts,
                OUTBOX.c.error,
                OUTBOX.c.decided_at,
                OUTBOX.c.kind,
                OUTBOX.c.member,
            )
            .where(OUTBOX.c.status == OutboxStatus.FAILED)
            .order_by(OUTBOX.c.id.desc())
            .limit(limit)
        )
        return [
            FailedMessage(
                id=row[0],
                group=row[1],
                text=Effect(
                    row[1], row[2], row[6], kind=EffectKind(row[7]), member=row[8]
                ).describe(),
                rule=row[3],
                attempts=row[4],
                error=row[5],
                decided_at=row[6],
            )
            for row in rows
        ]

    def requeue(self, ids: Sequence[int] | None, now: datetime) -> list[int]:
        """Failed messages (all, or these) pending again with fresh attempts; their ids."""
        query = update(OUTBOX).where(OUTBOX.c.status == OutboxStatus.FAILED)
        if ids is not None:
            query = query.where(OUTBOX.c.id.in_(list(ids)))
        result = self._execute(
            query.values(
                status=OutboxStatus.PENDING, attempts=0, error=None, not_before=now
            ).returning(OUTBOX.c.id)
        )
        return sorted(int(row[0]) for row in result)
