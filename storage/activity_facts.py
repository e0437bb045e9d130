"""Each membership's activity facts, kept up to date incrementally.

A layer needs two facts per membership: the last interaction that shows the member active,
and how many such interactions fall in the counted window (the last 365 local days by
default). Aggregating a year of interactions for every group each day cost seconds at
50,000 memberships; here the facts live on the membership rows and each refresh touches
only what changed since the last one:

- **fold**: interactions written since the watermark (one id range, for every group at
  once) raise the members' counts and last-active times;
- **move**: when a group's window start moves (a new day, another zone, another window
  length) the interactions between the old and new start leave or enter the count;
- **build**: a group asked for the first time is aggregated in full, once.

Interaction ids only grow and the dispatcher alone writes interactions, so "id above the
watermark" is exactly "not folded yet". The watermark row is locked while a refresh runs
(PostgreSQL; SQLite writers are serialised anyway), so two processes never fold twice.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, bindparam, case, func, insert, or_, select, update

from storage.tables import (
    ACTIVITY_WATERMARK,
    ACTIVITY_WINDOWS,
    INTERACTIONS,
    MEMBERSHIPS,
    G,
    M,
)
from storage.unit_of_work import TxBase

# Kinds that say nothing about a member's activity: the platform's own notices.
NOT_ACTIVITY = ("join", "leave", "topic")

_I = INTERACTIONS.c
_AT = _I.at.type
# An interaction that shows activity, as plain comparisons, not NOT IN: an IN list cannot be
# a prepared statement's parameter.
ACTIVE = tuple(_I.kind != kind for kind in NOT_ACTIVITY)
_THROUGH = bindparam("through", type_=Integer)

_Q_WATERMARK = select(ACTIVITY_WATERMARK.c.through_id).with_for_update()
_Q_NEWEST = select(func.max(_I.id))
_Q_ANY_WINDOW = select(ACTIVITY_WINDOWS.c.group_id).limit(1)
_Q_WINDOW = select(ACTIVITY_WINDOWS.c.counted_from).where(ACTIVITY_WINDOWS.c.group_id == G)

_SET_WATERMARK = update(ACTIVITY_WATERMARK).values(through_id=_THROUGH)
_NEW_WATERMARK = insert(ACTIVITY_WATERMARK).values(id=1, through_id=_THROUGH)
_SET_WINDOW = (
    update(ACTIVITY_WINDOWS)
    .where(ACTIVITY_WINDOWS.c.group_id == G)
    .values(counted_from=bindparam("start", type_=_AT))
)
_NEW_WINDOW = insert(ACTIVITY_WINDOWS).values(
    group_id=G, counted_from=bindparam("start", type_=_AT)
)

# New interactions of every group with a window, counted against that group's window.
_FOLDED = (
    select(
        _I.group_id.label("g"),
        _I.member_id.label("m"),
        func.max(_I.at).label("at"),
        func.sum(case((_I.at >= ACTIVITY_WINDOWS.c.counted_from, 1), else_=0)).label("n"),
    )
    .join_from(INTERACTIONS, ACTIVITY_WINDOWS, ACTIVITY_WINDOWS.c.group_id == _I.group_id)
    .where(_I.id > bindparam("after", type_=Integer), _I.id <= _THROUGH, *ACTIVE)
    .group_by(_I.group_id, _I.member_id)
    .subquery("folded")
)

# A group's whole history, once: the last active time and the count from the window start.
_BUILT = (
    select(
        _I.group_id.label("g"),
        _I.member_id.label("m"),
        func.max(_I.at).label("at"),
        func.sum(case((_I.at >= bindparam("start", type_=_AT), 1), else_=0)).label("n"),
    )
    .where(_I.group_id == G, _I.id <= _THROUGH, *ACTIVE)
    .group_by(_I.group_id, _I.member_id)
    .subquery("built")
)


def _add_facts(found: Any) -> Any:
    """Each membership in ``found`` (g, m, at, n): n more interactions, the last at ``at``
    if later than what it holds. One statement, the rows never leaving the database."""
    row = MEMBERSHIPS.c
    return (
        update(MEMBERSHIPS)
        .where(row.group_id == found.c.g, row.member_id == found.c.m)
        .values(
            active_count=row.active_count + found.c.n,
            active_at=case(
                (or_(row.active_at.is_(None), row.active_at < found.c.at), found.c.at),
                else_=row.active_at,
            ),
        )
    )


_FOLD = _add_facts(_FOLDED)
_BUILD = _add_facts(_BUILT)

# The interactions between an old and a new window start: they leave or enter the count.
# Counted here, not by GROUP BY, which would make SQLite walk the group's whole history in
# member order instead of the day's range of its (group, time) index.
_Q_BETWEEN = select(_I.member_id).where(
    _I.group_id == G,
    _I.at >= bindparam("low", type_=_AT),
    _I.at < bindparam("high", type_=_AT),
    _I.id <= _THROUGH,
    *ACTIVE,
)

_ADD_COUNT = (
    update(MEMBERSHIPS)
    .where(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == M)
    .values(active_count=MEMBERSHIPS.c.active_count + bindparam("n", type_=Integer))
)
_RESET = (
    update(MEMBERSHIPS).where(MEMBERSHIPS.c.group_id == G).values(active_count=0, active_at=None)
)


class ActivityFactsTx(TxBase):
    """The facts behind layers, refreshed before they are read."""

    def refresh_activity(self, group: str, counted_from: datetime) -> None:
        """Make ``group``'s memberships hold their facts with the window starting at
        ``counted_from``: every interaction written so far included."""
        self.flush()  # the batch's buffered interactions count too
        through = self._fold()
        stored = self._scalar(_Q_WINDOW, g=group)
        if stored is None:
            self._build(group, counted_from, through)
        elif stored != counted_from:
            self._move(group, stored, counted_from, through)

    def _fold(self) -> int:
        """Fold what was written since the watermark into every windowed group; the new
        watermark."""
        stored = self._scalar(_Q_WATERMARK)
        if stored is None:  # migration 0025 made the row; a schema made otherwise lacks it
            self._run(_NEW_WATERMARK, through=0)
        after = int(stored or 0)
        through = int(self._scalar(_Q_NEWEST) or 0)
        if through <= after:
            return after
        if self._first(_Q_ANY_WINDOW) is not None:  # none yet: nothing to fold into
            self._run(_FOLD, after=after, through=through)
        self._run(_SET_WATERMARK, through=through)
        return through

    def _build(self, group: str, start: datetime, through: int) -> None:
        self._run(_RESET, g=group)
        self._run(_BUILD, g=group, start=start, through=through)
        self._run(_NEW_WINDOW, g=group, start=start)

    def _move(self, group: str, old: datetime, new: datetime, through: int) -> None:
        """A later start drops the interactions in [old, new); an earlier one adds [new, old)."""
        low, high, sign = (old, new, -1) if new > old else (new, old, 1)
        rows = self._run(_Q_BETWEEN, g=group, low=low, high=high, through=through)
        counts = Counter(member for (member,) in rows)
        if counts:
            changes = [{"g": group, "m": m, "n": sign * n} for m, n in counts.items()]
            self._run_many(_ADD_COUNT, changes)
        self._run(_SET_WINDOW, g=group, start=new)
