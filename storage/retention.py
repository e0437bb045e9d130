"""Forgetting on schedule: what members wrote, kept no longer than the config allows.

Texts are blanked, not their rows: an interaction still counts for activity, layers and
reports without saying what was written. Rows go in slices, so a year of backlog does not
hold one statement open over millions of rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete, select, update

from storage.tables import AUDIT, INTERACTIONS, STRIKES, SUGGESTIONS, UNANSWERED
from storage.unit_of_work import TxBase

SLICE = 5_000


class RetentionTx(TxBase):
    def forget_old(
        self,
        text_before: datetime | None,
        unanswered_before: datetime | None,
        audit_before: datetime | None,
    ) -> dict[str, int]:
        """Blank or delete what is older than each limit (None: keep); counts by kind."""
        self.flush()  # buffered interactions are rows like the others here
        done: dict[str, int] = {}
        if text_before is not None:
            done["message texts"] = self._blank(INTERACTIONS, "text", text_before)
            done["strike evidence"] = self._blank(STRIKES, "evidence", text_before, "")
            done["did-you-mean offers"] = self._delete(SUGGESTIONS, text_before)
        if unanswered_before is not None:
            done["queued questions"] = self._delete(UNANSWERED, unanswered_before)
        if audit_before is not None:
            done["audit records"] = self._delete(AUDIT, audit_before)
        return done

    def _blank(self, table: Table, column: str, before: datetime, blank: str | None = None) -> int:
        total = 0
        target = table.c[column]
        kept = target.is_not(None) if blank is None else target != blank
        while True:
            ids = select(table.c.id).where(table.c.at < before, kept).limit(SLICE)
            chosen = table.c.id.in_(ids.scalar_subquery())
            done = int(self._execute(update(table).where(chosen).values({column: blank})).rowcount)
            total += done
            if done < SLICE:
                return total

    def _delete(self, table: Table, before: datetime) -> int:
        total = 0
        while True:
            ids = select(table.c.id).where(table.c.at < before).limit(SLICE)
            chosen = table.c.id.in_(ids.scalar_subquery())
            done = int(self._execute(delete(table).where(chosen)).rowcount)
            total += done
            if done < SLICE:
                return total
