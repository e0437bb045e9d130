"""The audit log: every admin and operator action, who, where and with what outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    insert,
    select,
)

from storage.tables import (
    AUDIT,
)
from storage.unit_of_work import TxBase


@dataclass(frozen=True, slots=True)
class AuditRow:
    at: datetime
    actor: str
    role: str
    action: str
    group: str | None
    detail: str
    outcome: str


class AuditTx(TxBase):
    """Append and read the audit log."""

    def audit(
        self,
        at: datetime,
        actor: str,
        role: str,
        action: str,
        group: str | None,
        detail: str,
        outcome: str,
    ) -> None:
        self._execute(
            insert(AUDIT).values(
                at=at,
                actor=actor,
                role=role,
                action=action,
                group_id=group,
                detail=detail,
                outcome=outcome,
            )
        )

    def audit_log(self, limit: int = 100) -> list[AuditRow]:
        rows = self._execute(select(AUDIT).order_by(AUDIT.c.id.desc()).limit(limit)).mappings()
        return [
            AuditRow(
                r["at"],
                r["actor"],
                r["role"],
                r["action"],
                r["group_id"],
                r["detail"],
                r["outcome"],
            )
            for r in rows
        ]
