"""Members, groups and memberships: who is in which group, under which name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Table,
    bindparam,
    func,
    or_,
    select,
    update,
)

from storage.tables import (
    GROUPS,
    MEMBERS,
    MEMBERSHIPS,
    THIS_MEMBERSHIP,
    M,
)
from storage.unit_of_work import KEYS, WANTED, TxBase

_IDENTITY_KEYS = ("id", "name", "first_seen_at")

_MEMBERSHIP_KEYS = ("group_id", "member_id", "first_seen_at", "points")

_Q_NAME = {table.name: select(table.c.name).where(table.c.id == M) for table in (GROUPS, MEMBERS)}

# Only a join that starts a membership: a current member's repeated join changes nothing.
_Q_JOIN = (
    update(MEMBERSHIPS)
    .where(
        THIS_MEMBERSHIP,
        or_(MEMBERSHIPS.c.joined_at.is_(None), MEMBERSHIPS.c.left_at.is_not(None)),
    )
    .values(
        joined_at=bindparam("at"),
        inviter_id=bindparam("inviter"),
        left_at=None,
        welcome_rule=None,
        welcome_due=None,
        welcomed_at=None,
    )
)

_Q_JOINED_AT = select(MEMBERSHIPS.c.joined_at).where(
    THIS_MEMBERSHIP, MEMBERSHIPS.c.left_at.is_(None)
)

_Q_MEMBER_NAMES = select(MEMBERS.c.id, MEMBERS.c.name).where(MEMBERS.c.id.in_(KEYS))

_Q_MEMBERSHIPS_OF = select(
    MEMBERSHIPS.c.group_id, MEMBERSHIPS.c.member_id, MEMBERSHIPS.c.left_at
).join_from(
    WANTED,
    MEMBERSHIPS,
    (MEMBERSHIPS.c.group_id == WANTED.c.g) & (MEMBERSHIPS.c.member_id == WANTED.c.m),
)

_Q_LEAVE = (
    update(MEMBERSHIPS)
    .where(THIS_MEMBERSHIP, MEMBERSHIPS.c.left_at.is_(None))
    .values(left_at=bindparam("at"), welcome_due=None)
)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Someone a batch is about to hear in a group, as :meth:`MembersTx.observe` sees them."""

    group: str
    member: str
    at: datetime
    name: str = ""
    group_name: str = ""
    new_group_name: str = ""


class MembersTx(TxBase):
    """First sight of members and groups (cached), names, joins and leaves."""

    def expect_speakers(self, speakers: Sequence[Speaker]) -> None:
        """Prepare for a batch: the members and memberships it will need, read and created in
        bulk, so that each message finds them cached.

        Only rows that do not exist at all are created (exactly what the first message's
        :meth:`observe` would create); a former member's return and a new display name stay
        with that message's own ``observe``.
        """
        known, staged = self._known, self._staged
        first: dict[tuple[str, str], Speaker] = {}
        for s in speakers:
            key = (s.group, s.member)
            if key not in known.memberships and key not in staged.memberships:
                first.setdefault(key, s)
        if not first:
            return
        for s in {s.group: s for s in reversed(first.values())}.values():
            self._ensure_named(
                GROUPS, known.groups, staged.groups, s.group, s.group_name, s.at, s.new_group_name
            )
        members = {s.member: s for s in reversed(first.values())}
        unnamed = [m for m in members if m not in staged.members and m not in known.members]
        for member, name in self._run_for_keys(_Q_MEMBER_NAMES, unnamed):
            staged.members[member] = name or ""
        new_members = [members[m] for m in unnamed if m not in staged.members]
        if new_members:
            rows = [{"id": s.member, "name": s.name, "first_seen_at": s.at} for s in new_members]
            self._insert(self._prebuilt("first", MEMBERS), _IDENTITY_KEYS, rows)
            staged.members.update((s.member, s.name) for s in new_members)
        stored: set[tuple[str, str]] = set()
        created = {s.member for s in new_members}  # no membership can name them yet
        known_members = sorted(pair for pair in first if pair[1] not in created)
        for group, member, left_at in self._run_for_pairs(_Q_MEMBERSHIPS_OF, known_members):
            stored.add((group, member))
            if left_at is None:
                staged.memberships.add((group, member))
        absent = [s for key, s in first.items() if key not in stored]
        if absent:
            self._insert(
                self._prebuilt("once", MEMBERSHIPS),
                _MEMBERSHIP_KEYS,
                [
                    {"group_id": s.group, "member_id": s.member, "first_seen_at": s.at, "points": 0}
                    for s in absent
                ],
            )
            staged.memberships.update((s.group, s.member) for s in absent)
            self.new_memberships.update(((s.group, s.member), s.at) for s in absent)

    def observe(
        self,
        group: str,
        member: str | None,
        at: datetime,
        *,
        group_name: str = "",
        name: str = "",
        new_group_name: str = "",
        present: bool = True,
    ) -> None:
        """Make sure the group, member and membership rows exist and names are current.

        ``group_name`` is the platform's name and replaces the stored one; ``new_group_name``
        (the config's label) only names a group the store has never seen. ``present`` says
        the member is in the group now (they speak or invite: only members can), so one
        recorded as gone is a current member again (the platform missed their rejoin);
        joins and leaves pass False and decide membership themselves.
        """
        self._ensure_named(
            GROUPS, self._known.groups, self._staged.groups, group, group_name, at, new_group_name
        )
        if not member:
            return
        self._ensure_named(MEMBERS, self._known.members, self._staged.members, member, name, at)
        key = (group, member)
        if key in self._known.memberships or key in self._staged.memberships:
            return
        self._forget("layer", group, member)  # a former member may be back
        self._insert(
            self._prebuilt("revive" if present else "once", MEMBERSHIPS),
            _MEMBERSHIP_KEYS,
            [{"group_id": group, "member_id": member, "first_seen_at": at, "points": 0}],
        )
        if present:  # the cache holds current memberships only
            self._staged.memberships.add(key)

    def _ensure_named(
        self,
        table: Table,
        known: dict[str, str],
        staged: dict[str, str],
        key: str,
        name: str,
        at: datetime,
        fallback: str = "",
    ) -> None:
        current = staged.get(key, known.get(key))
        if current is not None and (not name or current == name):
            return
        row = {"id": key, "name": name or fallback, "first_seen_at": at}
        self._insert(self._prebuilt("rename" if name else "first", table), _IDENTITY_KEYS, [row])
        staged[key] = name or str(self._scalar(_Q_NAME[table.name], m=key) or "")

    def name_of(self, member: str) -> str:
        return self._name(MEMBERS, self._staged.members, self._known.members, member)

    def group_name(self, group: str) -> str:
        return self._name(GROUPS, self._staged.groups, self._known.groups, group)

    def _name(self, table: Table, staged: dict[str, str], known: dict[str, str], key: str) -> str:
        """A display name, from the cache when it has one; the id itself when none is known."""
        cached = staged.get(key, known.get(key))
        if cached is not None:
            return cached or key
        return str(self._scalar(_Q_NAME[table.name], m=key) or key)

    def record_join(self, group: str, member: str, at: datetime, inviter: str | None) -> bool:
        """A (re)join starts the membership afresh: new join time, inviter, welcome state.

        False for a member who joined and has not left since (the platform repeated the
        join): nothing changes, and the join is no news.
        """
        self._run(_Q_JOIN, g=group, m=member, at=at, inviter=inviter)
        started = bool(self._cursor.rowcount)
        self._forget("layer", group, member)
        self._staged.memberships.add((group, member))  # current now, either way
        return started

    def joined_at(self, group: str, member: str) -> datetime | None:
        """When the current membership began by a join; None for a member the bot never saw
        join (there before it, or seen only speaking)."""
        joined = self._scalar(_Q_JOINED_AT, g=group, m=member)
        return joined if isinstance(joined, datetime) else None

    def record_leave(self, group: str, member: str, at: datetime) -> bool:
        """End a membership; False when it had already ended (a repeated leave)."""
        self._run(_Q_LEAVE, g=group, m=member, at=at)
        self._forget("layer", group, member)
        # Forget the membership as current, so the member's next message revives it.
        self._known.memberships.discard((group, member))
        self._staged.memberships.discard((group, member))
        return bool(self._cursor.rowcount)

    def current_members(self, group: str, key: str) -> list[tuple[str, str]]:
        """(id, name) of the group's current members whose id or display name is ``key``.

        Names are compared here, not in SQL: sealed at rest, they differ in every row.
        """
        rows = self._execute(
            select(MEMBERSHIPS.c.member_id, MEMBERS.c.name)
            .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
            .where(MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.left_at.is_(None))
            .order_by(MEMBERSHIPS.c.member_id)
        )
        return [
            (str(member), str(name or member))
            for member, name in rows
            if member == key or name == key
        ]

    def active_members(self, group: str) -> int:
        return int(
            self._execute(
                select(func.count())
                .select_from(MEMBERSHIPS)
                .where(MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.left_at.is_(None))
            ).scalar_one()
        )
