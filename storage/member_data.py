"""One member's data, everywhere the store keeps it: exported for them, or erased.

:data:`MEMBER_COLUMNS` names every column that holds a member's id; a test reads the
schema and fails when a table gains such a column that is not listed here, so export and
erasure cannot silently miss one. Erasure replaces the id with a pseudonymous tombstone
(random, not derived from the id) and blanks what they wrote and what names them, so group
totals, rankings and other members' ledgers stay as they were.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, update
from sqlmodel import SQLModel

from storage.encryption import keys_of
from storage.tables import MEMBERS
from storage.unit_of_work import TxBase

# table -> the columns that hold a member's id (outbox.mentions: a JSON list of ids).
MEMBER_COLUMNS: dict[str, tuple[str, ...]] = {
    "members": ("id",),
    "memberships": ("member_id", "inviter_id"),
    "interactions": ("member_id",),
    "checkins": ("member_id",),
    "points_ledger": ("member_id", "actor_id"),
    "unanswered_questions": ("member_id", "answered_by", "helped_by"),
    "faq_suggestions": ("member_id",),
    "faq_learned": ("learned_by",),
    "member_tags": ("member_id", "set_by"),
    "strikes": ("member_id", "pardoned_by"),
    "layer_changes": ("member_id",),
    "role_grants": ("member_id", "granted_by", "revoked_by"),
    "outbox": ("member", "requester", "mentions"),
    "alerts": ("subject",),
    "audit_log": ("actor",),
    "broadcasts": ("created_by",),
    "pending_operations": ("requested_by", "done_by"),
}
# What they wrote or what names them, blanked on erasure (table -> column -> blank value),
# in the rows their id is in.
_PERSONAL: dict[str, dict[str, Any]] = {
    "members": {"name": ""},
    "interactions": {"text": None},
    "unanswered_questions": {"text": "", "answer": None},
    "faq_suggestions": {"asked": ""},
    "strikes": {"evidence": ""},
    "outbox": {"text": ""},
    "alerts": {"text": ""},
}
# Free text anyone wrote, where their id or @name may stand.
_NAMING_TEXTS = (
    ("interactions", "text"),
    ("outbox", "text"),
    ("alerts", "text"),
    ("unanswered_questions", "text"),
    ("audit_log", "detail"),
    ("pending_operations", "payload"),
)
# What the bot wrote from templates with members' names in them.
_BOT_TEXTS = (("outbox", "text"), ("alerts", "text"))
# Rows that are about nobody but them: deleted on erasure.
_DELETED = ("member_tags",)
TOMBSTONE_PREFIX = "deleted-"
_CHUNK = 1_000


def _tables() -> dict[str, Table]:
    return {name: SQLModel.metadata.tables[name] for name in MEMBER_COLUMNS}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


class MemberDataTx(TxBase):
    def member_data(self, member: str) -> dict[str, list[dict[str, Any]]]:
        """Every row, in every table, that holds the member's id: human-readable JSON."""
        self.flush()
        found: dict[str, list[dict[str, Any]]] = {}
        for name, table in _tables().items():
            rows: list[dict[str, Any]] = []
            for column in MEMBER_COLUMNS[name]:
                for row in self._execute(select(table).where(_holds(table, column, member))):
                    record = {key: _plain(value) for key, value in row._mapping.items()}
                    if record not in rows:
                        rows.append(record)
            if rows:
                found[name] = rows
        return found

    def erase_member(self, member: str, at: datetime) -> str:
        """Replace the member's id everywhere with a tombstone, blank what they wrote and
        their name, drop their tags; the tombstone."""
        self.flush()
        tombstone = TOMBSTONE_PREFIX + secrets.token_hex(8)
        first = self._execute(
            select(MEMBERS.c.first_seen_at, MEMBERS.c.name).where(MEMBERS.c.id == member)
        ).first()
        if first is not None:  # the new id first, so rows that point at it stay valid
            self._execute(
                insert(MEMBERS).values(id=tombstone, name="", first_seen_at=first[0] or at)
            )
        tables = _tables()
        for name in _DELETED:
            table = tables[name]
            self._execute(delete(table).where(table.c.member_id == member))
        self._memo.clear()  # what this transaction read about them is gone
        for name, table in tables.items():
            if name == "members":
                continue
            blanks = _PERSONAL.get(name, {})
            for column in MEMBER_COLUMNS[name]:
                held = _holds(table, column, member)
                if blanks:
                    self._execute(update(table).where(held).values(blanks))
                if column == "mentions":
                    self._replace_mentions(table, member, tombstone)
                else:
                    self._execute(update(table).where(held).values({column: tombstone}))
        # Texts that name them by id (an admin's "/tag bob VIP", an audit detail) or by an
        # @mention of their name, whoever wrote them.
        name = first[1] if first is not None else ""
        for table_name, column in _NAMING_TEXTS:
            table = tables[table_name]
            self._renamed(table, column, member, tombstone)
            if name:
                self._renamed(table, column, f"@{name}", f"@{tombstone}")
        # What the bot itself wrote names them by their display name ("已为 Bob 加上标签").
        if len(name) >= 2:
            for table_name, column in _BOT_TEXTS:
                self._renamed(tables[table_name], column, name, tombstone)
        self._execute(delete(MEMBERS).where(MEMBERS.c.id == member))
        self._known.clear()
        self._staged.clear()
        return tombstone

    def _renamed(self, table: Table, column: str, old: str, new: str) -> None:
        target = table.c[column]
        if keys_of(self._c.dialect) is None:
            self._execute(
                update(table)
                .where(target.contains(old))
                .values({column: func.replace(target, old, new)})
            )
            return
        # Sealed text can only be searched opened: a pass over the column, a chunk at a time.
        (key,) = table.primary_key.columns
        after: Any = None
        while True:
            query = select(key, target).where(target.is_not(None)).order_by(key).limit(_CHUNK)
            rows = self._execute(query if after is None else query.where(key > after)).all()
            changed = [
                {"row_key": row[0], "text": row[1].replace(old, new)}
                for row in rows
                if old in row[1]
            ]
            if changed:
                self._execute(
                    update(table)
                    .where(key == bindparam("row_key"))
                    .values({column: bindparam("text")}),
                    changed,
                )
            if len(rows) < _CHUNK:
                return
            after = rows[-1][0]

    def _replace_mentions(self, table: Table, member: str, tombstone: str) -> None:
        rows = self._execute(
            select(table.c.id, table.c.mentions).where(_holds(table, "mentions", member))
        ).all()
        for row_id, mentions in rows:
            ids = [tombstone if m == member else m for m in json.loads(mentions)]
            self._execute(
                update(table)
                .where(table.c.id == row_id)
                .values(mentions=json.dumps(ids, ensure_ascii=False))
            )


def _holds(table: Table, column: str, member: str) -> Any:
    if column == "mentions":  # a JSON list of ids: the quoted id is in it
        return table.c.mentions.contains(json.dumps(member, ensure_ascii=False))
    return table.c[column] == member
