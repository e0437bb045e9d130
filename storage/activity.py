"""Interactions (every message, join and leave) and the counts reports make of them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Table,
    bindparam,
    func,
    select,
)

from storage.tables import (
    CHECKINS,
    DAY,
    GROUPS,
    INTERACTIONS,
    LEDGER,
    MEMBERS,
    MEMBERSHIPS,
    UNANSWERED,
    G,
)
from storage.unit_of_work import INTERACTIONS_BUFFER, TxBase

_Q_DAY_KINDS = (
    select(INTERACTIONS.c.kind, func.count(), func.count(func.distinct(INTERACTIONS.c.member_id)))
    .where(
        INTERACTIONS.c.group_id == G,
        INTERACTIONS.c.at >= bindparam("start"),
        INTERACTIONS.c.at < bindparam("end"),
    )
    .group_by(INTERACTIONS.c.kind)
)

_Q_DAY_CHECKINS = (
    select(MEMBERS.c.name, CHECKINS.c.member_id)
    .join(MEMBERS, MEMBERS.c.id == CHECKINS.c.member_id)
    .where(CHECKINS.c.group_id == G, CHECKINS.c.day == DAY)
    .order_by(CHECKINS.c.rank)
)


@dataclass(frozen=True, slots=True)
class DayStats:
    """One local day in a group: what the morning briefing reports about yesterday."""

    joins: int
    leaves: int
    messages: int
    active_members: int
    checkins: int
    first_checkins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GroupSummary:
    group: str
    name: str
    members: int
    messages: int
    joins: int
    leaves: int
    checkins: int
    points_granted: int
    unanswered: int


class ActivityTx(TxBase):
    """The interaction log (buffered until the batch commits) and what it adds up to."""

    def record_interaction(
        self,
        group: str,
        member: str,
        kind: str,
        at: datetime,
        text: str | None = None,
        rule: str | None = None,
    ) -> None:
        """Buffered until the batch commits (or a read needs it): the hottest write of all."""
        self._buffer(
            INTERACTIONS_BUFFER,
            {
                "group_id": group,
                "member_id": member,
                "kind": kind,
                "text": text,
                "rule": rule,
                "at": at,
            },
        )

    def day_stats(
        self, group: str, day: date, start: datetime, end: datetime, first: int
    ) -> DayStats:
        """Counts for [start, end), the group's local ``day``; the ``first`` check-ins by name."""
        self.flush()
        window = {"g": group, "start": start, "end": end}
        kinds: dict[str, int] = {}
        active = 0
        for kind, count, distinct in self._run(_Q_DAY_KINDS, **window):
            # Joins and leaves count members: a leave and rejoin is one newcomer of the day.
            kinds[str(kind)] = int(count) if kind == "message" else int(distinct)
            if kind == "message":
                active = int(distinct)
        checked = self._run(_Q_DAY_CHECKINS, g=group, day=day)
        return DayStats(
            joins=kinds.get("join", 0),
            leaves=kinds.get("leave", 0),
            messages=kinds.get("message", 0),
            active_members=active,
            checkins=len(checked),
            first_checkins=tuple(name or member for name, member in checked[:first]),
        )

    def summaries(self) -> list[GroupSummary]:
        """Per-group totals, for the demo and for operators' first look at a database."""
        self.flush()

        def counts(table: Table, *where: Any) -> dict[str, int]:
            query = select(table.c.group_id, func.count()).where(*where).group_by(table.c.group_id)
            return {str(g): int(n) for g, n in self._execute(query)}

        kinds = {
            kind: counts(INTERACTIONS, INTERACTIONS.c.kind == kind)
            for kind in ("message", "join", "leave")
        }
        members = counts(MEMBERSHIPS, MEMBERSHIPS.c.left_at.is_(None))
        checkins = counts(CHECKINS)
        unanswered = counts(UNANSWERED, UNANSWERED.c.answered_at.is_(None))
        granted = {
            str(g): int(n)
            for g, n in self._execute(
                select(LEDGER.c.group_id, func.sum(LEDGER.c.delta)).group_by(LEDGER.c.group_id)
            )
        }
        return [
            GroupSummary(
                group=gid,
                name=name or gid,
                members=members.get(gid, 0),
                messages=kinds["message"].get(gid, 0),
                joins=kinds["join"].get(gid, 0),
                leaves=kinds["leave"].get(gid, 0),
                checkins=checkins.get(gid, 0),
                points_granted=granted.get(gid, 0),
                unanswered=unanswered.get(gid, 0),
            )
            for gid, name in self._execute(select(GROUPS.c.id, GROUPS.c.name).order_by(GROUPS.c.id))
        ]
