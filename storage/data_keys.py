"""Which keys sealed this database's data, the check at start-up, and re-sealing in batches.

``data_keys`` lists every key (by id) that sealed something here and has not been retired.
A store opened without one of them would read sealed values it cannot open, so it refuses
to start instead (before it writes anything). Rotation seals every value again under the
active key, a batch per transaction while the bot keeps running, then retires the keys
nothing is sealed with any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, String, Table, bindparam, func, insert, select, type_coerce, update
from sqlmodel import SQLModel

from storage.encryption import SEALED, DataKeyError, DataKeys, SecretText
from storage.unit_of_work import TxBase

DATA_KEYS = SQLModel.metadata.tables["data_keys"]


def sealed_columns() -> Iterator[tuple[Table, list[Column[str]]]]:
    """Every table with sealed columns, and those columns."""
    for table in SQLModel.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, SecretText)]
        if columns:
            yield table, columns


@dataclass(frozen=True, slots=True)
class Resealed:
    last: object  # the batch's last primary key: the next batch starts after it
    rows: int  # rows read
    values: int  # values sealed again


class DataKeysTx(TxBase):
    def live_key_ids(self) -> set[str]:
        rows = self._execute(select(DATA_KEYS.c.key_id).where(DATA_KEYS.c.retired_at.is_(None)))
        return {str(k) for (k,) in rows}

    def check_keys(self, keys: DataKeys | None, at: datetime) -> None:
        """Refuse keys that cannot open what is sealed here; record the active one's id."""
        live = self.live_key_ids()
        if keys is None:
            if live:
                raise DataKeyError(
                    f"this database holds member data sealed with key {', '.join(sorted(live))}"
                    ": set QUNBOT_DATA_KEY in .env to open it"
                )
            return
        missing = live - keys.ids
        if missing:
            raise DataKeyError(
                f"this database holds member data sealed with key {', '.join(sorted(missing))}"
                f", but QUNBOT_DATA_KEY is key {keys.active_id} and QUNBOT_DATA_KEYS_OLD holds "
                f"{', '.join(sorted(keys.ids - {keys.active_id})) or 'nothing'}: wrong key? "
                "(a new key needs the old one in QUNBOT_DATA_KEYS_OLD until `qunbot keys rotate`)"
            )
        if keys.active_id not in live:
            known = self._execute(
                select(DATA_KEYS.c.key_id).where(DATA_KEYS.c.key_id == keys.active_id)
            ).first()
            if known is None:
                self._execute(insert(DATA_KEYS).values(key_id=keys.active_id, first_used_at=at))
            else:  # a retired key made active again
                self._execute(
                    update(DATA_KEYS)
                    .where(DATA_KEYS.c.key_id == keys.active_id)
                    .values(retired_at=None)
                )

    def reseal(
        self, table: Table, columns: list[Column[str]], keys: DataKeys, after: object, limit: int
    ) -> Resealed:
        """Seal under the active key the values of up to ``limit`` rows after ``after``."""
        (key,) = table.primary_key.columns
        raw = [type_coerce(c, String).label(c.name) for c in columns]
        query = select(key, *raw).order_by(key).limit(limit)
        if after is not None:
            query = query.where(key > after)
        rows = self._execute(query).all()
        values = 0
        for at, column in enumerate(columns, start=1):
            label = column.type.label  # type: ignore[attr-defined]
            changed = [
                {"row_key": row[0], "plain": keys.open(row[at], label)}
                for row in rows
                if row[at] is not None and not keys.is_current(row[at])
            ]
            if changed:
                self._execute(
                    update(table)
                    .where(key == bindparam("row_key"))
                    .values({column.name: bindparam("plain")}),
                    changed,
                )
                values += len(changed)
        return Resealed(rows[-1][0] if rows else after, len(rows), values)

    def sealed_with(self, key_id: str) -> int:
        """How many values are still sealed with ``key_id``."""
        prefix = f"{SEALED}{key_id}$"
        total = 0
        for table, columns in sealed_columns():
            for column in columns:
                total += int(
                    self._execute(
                        select(func.count())
                        .select_from(table)
                        .where(type_coerce(column, String).startswith(prefix, autoescape=True))
                    ).scalar_one()
                )
        return total

    def retire_key(self, key_id: str, at: datetime) -> None:
        self._execute(update(DATA_KEYS).where(DATA_KEYS.c.key_id == key_id).values(retired_at=at))
