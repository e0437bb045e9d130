"""Platform message ids already handled, so a redelivered message is handled once.

The id is recorded in the transaction that handles the message: if the bot dies before
that commits, the redelivery is new and handled; if after, it is recognised. Ids are kept
for :data:`KEEP_SEEN` (platforms redeliver within minutes) and pruned at start.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from storage.tables import SEEN
from storage.unit_of_work import TxBase

KEEP_SEEN = timedelta(days=7)
_SEEN_KEYS = ("message_id", "seen_at")


class SeenTx(TxBase):
    """Handled message ids."""

    def first_sight(self, message_id: str, at: datetime) -> bool:
        """Record ``message_id``; False when it was handled before."""
        row = {"message_id": message_id[:128], "seen_at": at}
        return bool(self._insert(self._prebuilt("once", SEEN), _SEEN_KEYS, [row]))

    def forget_seen_before(self, cutoff: datetime) -> int:
        return int(self._execute(delete(SEEN).where(SEEN.c.seen_at < cutoff)).rowcount)
