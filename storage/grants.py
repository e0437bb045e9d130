"""Roles handed out for a while: who, where, until when, by whom, and what became of each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, or_, select, update

from storage.tables import GRANTS
from storage.unit_of_work import TxBase


@dataclass(frozen=True, slots=True)
class GrantRow:
    id: int
    member: str
    group: str | None  # None: every group
    role: str
    granted_by: str
    at: datetime
    until: datetime


_COLUMNS = (
    GRANTS.c.id,
    GRANTS.c.member_id,
    GRANTS.c.group_id,
    GRANTS.c.role,
    GRANTS.c.granted_by,
    GRANTS.c.at,
    GRANTS.c.until,
)


class GrantsTx(TxBase):
    def grant(
        self,
        member: str,
        group: str | None,
        role: str,
        by: str,
        at: datetime,
        until: datetime,
    ) -> None:
        self._execute(
            insert(GRANTS).values(
                member_id=member,
                group_id=group,
                role=role,
                granted_by=by,
                at=at,
                until=until,
                expiry_audited=False,
            )
        )

    def revoke_grants(self, member: str, group: str | None, by: str, at: datetime) -> int:
        """End the member's grants still running (in ``group``, or all of them); how many."""
        query = update(GRANTS).where(
            GRANTS.c.member_id == member,
            GRANTS.c.revoked_at.is_(None),
            GRANTS.c.until > at,
        )
        if group is not None:
            query = query.where(GRANTS.c.group_id == group)
        done = self._execute(query.values(revoked_at=at, revoked_by=by, until=at))
        return int(done.rowcount)

    def open_grants(self) -> list[GrantRow]:
        """Grants not revoked whose expiry is not audited yet: the running and the just-ended."""
        rows = self._execute(
            select(*_COLUMNS)
            .where(GRANTS.c.revoked_at.is_(None), GRANTS.c.expiry_audited.is_(False))
            .order_by(GRANTS.c.id)
        )
        return [GrantRow(*row) for row in rows]

    def grant_log(self, now: datetime, current_only: bool = True) -> list[GrantRow]:
        query = select(*_COLUMNS).order_by(GRANTS.c.id.desc())
        if current_only:
            query = query.where(GRANTS.c.revoked_at.is_(None), GRANTS.c.until > now)
        return [GrantRow(*row) for row in self._execute(query)]

    def mark_expiry_audited(self, grants: Sequence[int]) -> None:
        if grants:
            self._execute(
                update(GRANTS)
                .where(or_(*(GRANTS.c.id == g for g in grants)))
                .values(expiry_audited=True)
            )
