"""Groups the bot knows, and the config's topics bound to room ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    select,
)

from storage.tables import (
    BINDINGS,
    GROUPS,
)
from storage.unit_of_work import TxBase


class GroupsTx(TxBase):
    """Known groups and topic bindings."""

    def group_bindings(self) -> dict[str, str]:
        """Topic (as the config names it) → the room id it was bound to."""
        return {
            str(t): str(g) for t, g in self._execute(select(BINDINGS.c.topic, BINDINGS.c.group_id))
        }

    def bind_group(self, topic: str, group: str, at: datetime) -> None:
        self._execute(
            self._upsert(BINDINGS)
            .values(topic=topic, group_id=group, bound_at=at)
            .on_conflict_do_nothing(index_elements=["topic"])
        )

    def known_groups(self) -> list[str]:
        return [str(g) for (g,) in self._execute(select(GROUPS.c.id).order_by(GROUPS.c.id))]
