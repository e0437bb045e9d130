"""Broadcasts operators scheduled: what, to which groups, when, and their state."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    insert,
    select,
    update,
)

from core.statuses import BroadcastStatus
from storage.tables import (
    BROADCASTS,
)
from storage.unit_of_work import TxBase


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    id: int
    text: str
    groups: tuple[str, ...] | None
    at: datetime | None
    cron: str | None
    timezone: str
    status: str
    created_by: str
    created_at: datetime
    segment: str | None = None  # ``layer=quiet,tag=VIP``: only those members, @mentioned


class BroadcastsTx(TxBase):
    """Broadcast rows; their messages live in the outbox."""

    def create_broadcast(
        self,
        text: str,
        groups: Sequence[str] | None,
        at: datetime | None,
        cron: str | None,
        timezone: str,
        created_by: str,
        now: datetime,
        segment: str | None = None,
    ) -> int:
        inserted = self._execute(
            insert(BROADCASTS)
            .values(
                text=text,
                groups=None if groups is None else json.dumps(list(groups), ensure_ascii=False),
                at=at,
                cron=cron,
                timezone=timezone,
                status=BroadcastStatus.SCHEDULED,
                created_by=created_by,
                created_at=now,
                segment=segment,
            )
            .returning(BROADCASTS.c.id)
        )
        return int(inserted.scalar_one())

    def broadcast(self, broadcast_id: int) -> BroadcastRow | None:
        row = self._execute(select(BROADCASTS).where(BROADCASTS.c.id == broadcast_id)).mappings()
        found = row.first()
        return _broadcast_row(found) if found is not None else None

    def broadcasts(self) -> list[BroadcastRow]:
        rows = self._execute(select(BROADCASTS).order_by(BROADCASTS.c.id)).mappings()
        return [_broadcast_row(r) for r in rows]

    def set_broadcast_status(self, broadcast_id: int, status: str, at: datetime) -> None:
        values: dict[str, Any] = {"status": status}
        if status == BroadcastStatus.CANCELLED:
            values["cancelled_at"] = at
        self._execute(update(BROADCASTS).where(BROADCASTS.c.id == broadcast_id).values(**values))


def _broadcast_row(r: Any) -> BroadcastRow:
    return BroadcastRow(
        id=r["id"],
        text=r["text"],
        groups=tuple(json.loads(r["groups"])) if r["groups"] is not None else None,
        at=r["at"],
        cron=r["cron"],
        timezone=r["timezone"],
        status=r["status"],
        created_by=r["created_by"],
        created_at=r["created_at"],
        segment=r["segment"],
    )
