"""Sensitive operations waiting for a confirmation: asked, then done once, or expired."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from storage.tables import PENDING
from storage.unit_of_work import TxBase


@dataclass(frozen=True, slots=True)
class PendingRow:
    id: int
    kind: str
    group: str
    payload: dict[str, Any]
    requested_by: str
    at: datetime
    expires_at: datetime
    done_at: datetime | None


class PendingTx(TxBase):
    def ask(
        self,
        kind: str,
        group: str,
        payload: dict[str, Any],
        by: str,
        at: datetime,
        expires_at: datetime,
    ) -> int:
        """Record an operation that waits for its confirmation; its number."""
        row = self._execute(
            insert(PENDING)
            .values(
                kind=kind,
                group_id=group,
                payload=json.dumps(payload, ensure_ascii=False),
                requested_by=by,
                at=at,
                expires_at=expires_at,
            )
            .returning(PENDING.c.id)
        ).first()
        assert row is not None
        return int(row[0])

    def pending(self, number: int) -> PendingRow | None:
        row = self._execute(
            select(
                PENDING.c.id,
                PENDING.c.kind,
                PENDING.c.group_id,
                PENDING.c.payload,
                PENDING.c.requested_by,
                PENDING.c.at,
                PENDING.c.expires_at,
                PENDING.c.done_at,
            ).where(PENDING.c.id == number)
        ).first()
        if row is None:
            return None
        return PendingRow(
            row[0], row[1], row[2], json.loads(row[3]), row[4], row[5], row[6], row[7]
        )

    def settle(self, number: int, by: str, at: datetime) -> bool:
        """Mark it done; False when it was done already."""
        done = self._execute(
            update(PENDING)
            .where(PENDING.c.id == number, PENDING.c.done_at.is_(None))
            .values(done_by=by, done_at=at)
        )
        return bool(done.rowcount)
