"""Roles handed out for a while, as the running bot checks them: on every use, by the
event's clock, never above what a member holds in config.yaml taken away (a grant adds)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.actors import ROLE_RANK
from core.statuses import Outcome
from storage.grants import GrantRow
from storage.store import StoreTx


class GrantRefused(Exception):
    """A grant that cannot be made as asked; the message says why."""


class Grants:
    """The grants the store says are open, by member."""

    def __init__(self, rows: Sequence[GrantRow] = ()) -> None:
        self._by_member: dict[str, list[GrantRow]] = {}
        self._rows: tuple[GrantRow, ...] = ()
        self.load(rows)

    def load(self, rows: Sequence[GrantRow]) -> None:
        by_member: dict[str, list[GrantRow]] = {}
        for row in rows:
            by_member.setdefault(row.member, []).append(row)
        self._by_member, self._rows = by_member, tuple(rows)

    def __bool__(self) -> bool:
        return bool(self._rows)

    def granted(self, group: str, member: str, at: datetime) -> GrantRow | None:
        """The strongest grant the member holds in ``group`` at ``at``, if any."""
        best: GrantRow | None = None
        for row in self._by_member.get(member, ()):
            if row.group not in (None, group) or at >= row.until or at < row.at:
                continue
            if best is None or ROLE_RANK[row.role] > ROLE_RANK[best.role]:
                best = row
        return best

    def ended(self, at: datetime) -> list[GrantRow]:
        """Grants that have run out by ``at`` (their expiry is still to be audited)."""
        return [row for row in self._rows if row.until <= at]

    @property
    def next_end(self) -> datetime | None:
        return min((row.until for row in self._rows), default=None)


def audit_ended(grants: Grants, tx: StoreTx, now: datetime) -> None:
    """Audit each grant that ran out by ``now``, at the time it did, once."""
    end = grants.next_end
    if end is None or end > now:
        return
    ended = grants.ended(now)
    for row in ended:
        detail = f"{row.member} {row.role} (granted by {row.granted_by})"
        tx.audit(row.until, "system", "system", "role.expired", row.group, detail, Outcome.OK)
    tx.mark_expiry_audited([row.id for row in ended])
    grants.load(tx.open_grants())
