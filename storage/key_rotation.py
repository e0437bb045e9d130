"""``qunbot keys rotate``: seal everything again under the active key, without downtime.

Each batch of rows is its own short transaction, so a bot using the same database keeps
answering between them (it reads old and new seals alike while ``QUNBOT_DATA_KEYS_OLD``
holds the old key). Values stored before a key was set are sealed too. A key is retired
only once no value is sealed with it; a rotation cut short is simply run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from loguru import logger

from storage.data_keys import sealed_columns
from storage.encryption import DataKeyError
from storage.store import Store

BATCH = 500


@dataclass(slots=True)
class Rotation:
    rows: int = 0  # rows read
    values: int = 0  # values sealed again
    retired: list[str] = field(default_factory=list)  # key ids nothing is sealed with now
    left: dict[str, int] = field(default_factory=dict)  # key id -> values still sealed with it


def rotate(
    store: Store, batch: int = BATCH, progress: Callable[[str, int], None] | None = None
) -> Rotation:
    """Re-seal every sealed column of every table; ``progress(table, rows)`` per batch."""
    keys = store.keys
    if keys is None:
        raise DataKeyError("QUNBOT_DATA_KEY is not set: there is no key to seal with")
    done = Rotation()
    for table, columns in sealed_columns():
        after: object = None
        while True:
            with store.transaction() as tx:
                step = tx.reseal(table, columns, keys, after, batch)
            done.rows += step.rows
            done.values += step.values
            if progress is not None:
                progress(table.name, step.rows)
            if step.rows < batch:
                break
            after = step.last
    now = datetime.now(UTC)
    with store.transaction() as tx:
        for key_id in sorted(tx.live_key_ids() - {keys.active_id}):
            left = tx.sealed_with(key_id)
            if left:  # written meanwhile by a bot still sealing with it
                done.left[key_id] = left
            else:
                tx.retire_key(key_id, now)
                done.retired.append(key_id)
    logger.bind(key=keys.active_id).info(
        "keys rotated: {} value(s) in {} row(s) sealed again; retired {}",
        done.values,
        done.rows,
        ", ".join(done.retired) or "none",
    )
    return done
