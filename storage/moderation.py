"""Strikes: each group rule a member broke, the step the ladder took, and pardons.

A strike counts on the ladder while it is younger than the config's ``decay`` and not
pardoned; a mute lasts until its ``until``. Both are read with the caller's clock, so a
mute ends without a job and a clock that jumps cannot leave one behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, update

from storage.tables import MEMBERS, STRIKES, G, M
from storage.unit_of_work import TxBase

_MEMBER = and_(STRIKES.c.group_id == G, STRIKES.c.member_id == M, STRIKES.c.pardoned_at.is_(None))

_Q_WEIGHT_SINCE = select(func.coalesce(func.sum(STRIKES.c.weight), 0)).where(
    _MEMBER, STRIKES.c.at > bindparam("since")
)

_Q_MUTED_UNTIL = select(func.max(STRIKES.c.until)).where(
    _MEMBER, STRIKES.c.until > bindparam("now")
)

_INSERT = insert(STRIKES)

_STRIKE_KEYS = (
    "group_id",
    "member_id",
    "rule",
    "reason",
    "evidence",
    "weight",
    "step",
    "until",
    "at",
)

MAX_EVIDENCE_CHARS = 256


@dataclass(frozen=True, slots=True)
class StrikeRow:
    id: int
    group: str
    member: str
    name: str
    rule: str
    reason: str
    evidence: str
    step: str
    until: datetime | None
    at: datetime
    pardoned_at: datetime | None
    pardoned_by: str | None


class ModerationTx(TxBase):
    """Record strikes, weigh a member's standing on the ladder, mute, pardon."""

    def strike(
        self,
        group: str,
        member: str,
        *,
        rule: str,
        reason: str,
        evidence: str,
        weight: int,
        step: str,
        until: datetime | None,
        at: datetime,
    ) -> None:
        row = {
            "group_id": group,
            "member_id": member,
            "rule": rule[:128],
            "reason": reason[:MAX_EVIDENCE_CHARS],
            "evidence": evidence[:MAX_EVIDENCE_CHARS],
            "weight": weight,
            "step": step,
            "until": until,
            "at": at,
        }
        self._insert(_INSERT, _STRIKE_KEYS, [row])

    def strike_weight(self, group: str, member: str, since: datetime) -> int:
        """The member's strikes after ``since`` that are not pardoned, by weight."""
        return int(self._scalar(_Q_WEIGHT_SINCE, g=group, m=member, since=since) or 0)

    def muted_until(self, group: str, member: str, now: datetime) -> datetime | None:
        """The end of the member's mute in the group, if one holds at ``now``."""
        until = self._scalar(_Q_MUTED_UNTIL, g=group, m=member, now=now)
        return until if isinstance(until, datetime) else None

    def pardon(self, group: str, member: str, by: str, at: datetime) -> int:
        """Forgive every standing strike (and so any mute); how many there were."""
        done = self._execute(
            update(STRIKES)
            .where(
                STRIKES.c.group_id == group,
                STRIKES.c.member_id == member,
                STRIKES.c.pardoned_at.is_(None),
            )
            .values(pardoned_at=at, pardoned_by=by)
        )
        return int(done.rowcount)

    def strike_log(
        self, group: str | None = None, member: str | None = None, limit: int = 50
    ) -> list[StrikeRow]:
        """Strikes newest first, with the member's display name."""
        query = (
            select(
                STRIKES.c.id,
                STRIKES.c.group_id,
                STRIKES.c.member_id,
                func.coalesce(MEMBERS.c.name, STRIKES.c.member_id),
                STRIKES.c.rule,
                STRIKES.c.reason,
                STRIKES.c.evidence,
                STRIKES.c.step,
                STRIKES.c.until,
                STRIKES.c.at,
                STRIKES.c.pardoned_at,
                STRIKES.c.pardoned_by,
            )
            .outerjoin(MEMBERS, MEMBERS.c.id == STRIKES.c.member_id)
            .order_by(STRIKES.c.at.desc(), STRIKES.c.id.desc())
            .limit(limit)
        )
        if group is not None:
            query = query.where(STRIKES.c.group_id == group)
        if member is not None:
            query = query.where(STRIKES.c.member_id == member)
        return [StrikeRow(*row) for row in self._execute(query)]
