"""Roles handed out for a while, as the running bot checks them: on every use, by the
event's clock, never above what a member holds in config.yaml taken away (a grant adds)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.actors import ROLE_RANK
from storage.grants import GrantRow


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
