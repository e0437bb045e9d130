"""Member tags: set by rules, by admins or by the system, each with an optional expiry.

An expired tag is simply not there: every read compares with the caller's clock, so
expiry needs no job and a clock that jumps cannot leave a stale tag behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, delete, or_, select

from storage.tables import MEMBER_TAGS
from storage.unit_of_work import WANTED, TxBase

MAX_TAG_CHARS = 64


class TagSource(StrEnum):
    RULE = "rule"
    ADMIN = "admin"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class TagRow:
    member: str
    tag: str
    source: TagSource
    set_by: str | None
    at: datetime
    expires_at: datetime | None


_LIVE = or_(MEMBER_TAGS.c.expires_at.is_(None), MEMBER_TAGS.c.expires_at > bindparam("now"))

# Every tag of the batch's expected speakers, expired or not (each read compares with its
# own clock): rules with tag conditions then cost a dictionary lookup per message.
_Q_TAGS_OF = select(
    MEMBER_TAGS.c.group_id, MEMBER_TAGS.c.member_id, MEMBER_TAGS.c.tag, MEMBER_TAGS.c.expires_at
).join_from(
    WANTED,
    MEMBER_TAGS,
    (MEMBER_TAGS.c.group_id == WANTED.c.g) & (MEMBER_TAGS.c.member_id == WANTED.c.m),
)

_COLUMNS = (
    MEMBER_TAGS.c.member_id,
    MEMBER_TAGS.c.tag,
    MEMBER_TAGS.c.source,
    MEMBER_TAGS.c.set_by,
    MEMBER_TAGS.c.at,
    MEMBER_TAGS.c.expires_at,
)


class TagsTx(TxBase):
    """Tags per member and group; a tag set again takes its new source and expiry."""

    def tag(
        self,
        group: str,
        member: str,
        tag: str,
        source: TagSource,
        at: datetime,
        expires_at: datetime | None = None,
        set_by: str | None = None,
    ) -> None:
        upsert = self._upsert(MEMBER_TAGS).values(
            group_id=group,
            member_id=member,
            tag=tag[:MAX_TAG_CHARS],
            source=source.value,
            set_by=set_by,
            at=at,
            expires_at=expires_at,
        )
        self._forget("tags", group, member)
        self._execute(
            upsert.on_conflict_do_update(
                index_elements=["group_id", "member_id", "tag"],
                set_={
                    "source": upsert.excluded.source,
                    "set_by": upsert.excluded.set_by,
                    "at": upsert.excluded.at,
                    "expires_at": upsert.excluded.expires_at,
                },
            )
        )

    def untag(self, group: str, member: str, tag: str) -> bool:
        """Remove a tag; False when the member did not have it."""
        self._forget("tags", group, member)
        gone = self._execute(
            delete(MEMBER_TAGS).where(
                MEMBER_TAGS.c.group_id == group,
                MEMBER_TAGS.c.member_id == member,
                MEMBER_TAGS.c.tag == tag,
            )
        )
        return bool(gone.rowcount)

    def expect_tags(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Read together the tags of the (group, member) pairs a batch's rules will ask
        about: one read per chunk of members instead of one per message."""
        wanted = sorted({pair for pair in pairs if ("tags", *pair) not in self._memo})
        for pair in self.new_memberships.keys() & wanted:  # none yet: a tag written forgets
            self._remember(self._memo, ("tags", *pair), ())
        wanted = [pair for pair in wanted if pair not in self.new_memberships]
        if wanted:
            self._load_tags(wanted)

    def tags_of(self, group: str, member: str, now: datetime) -> list[str]:
        """The member's tags in the group that have not expired by ``now``, by name."""
        key = ("tags", group, member)
        if key not in self._memo:
            self._load_tags([(group, member)])
        held: tuple[tuple[str, datetime | None], ...] = self._memo[key]
        return sorted(tag for tag, expires in held if expires is None or expires > now)

    def _load_tags(self, wanted: Sequence[tuple[str, str]]) -> None:
        found: dict[tuple[str, str], set[tuple[str, datetime | None]]] = {}
        for g, m, tag, expires in self._run_for_pairs(_Q_TAGS_OF, wanted):
            found.setdefault((g, m), set()).add((tag, expires))
        for pair in wanted:
            self._remember(self._memo, ("tags", *pair), tuple(found.get(pair, ())))

    def tag_rows(self, group: str, now: datetime, tag: str | None = None) -> list[TagRow]:
        """The group's live tags, by member then tag; only ``tag`` when given."""
        query = select(*_COLUMNS).where(MEMBER_TAGS.c.group_id == group, _LIVE)
        if tag is not None:
            query = query.where(MEMBER_TAGS.c.tag == tag)
        rows = self._execute(
            query.order_by(MEMBER_TAGS.c.member_id, MEMBER_TAGS.c.tag), {"now": now}
        )
        return [
            TagRow(member, name, TagSource(source), set_by, at, expires)
            for member, name, source, set_by, at, expires in rows
        ]
