"""Members' layers on the message path (rules with ``if: {layers: …}``): their facts read
straight from the interaction log, which must not wait on a refresh of the group's stored
facts, for the members a batch's rules will ask about together, and the batch's own
interactions counted in memory instead of being flushed early."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, bindparam, case, func, select

from core.layers import Idle, Layer, LayerThresholds, layer_from
from storage.activity_facts import ACTIVE, NOT_ACTIVITY
from storage.layer_bounds import DayBounds, layer_inputs
from storage.tables import INTERACTIONS, MEMBERSHIPS
from storage.unit_of_work import INTERACTIONS_BUFFER, WANTED, TxBase

_AT = INTERACTIONS.c.at.type


# The members a batch's rules will ask about, read together (``expect_layers``), or one the
# batch did not foresee: the same statement.
_ASKED = select(WANTED.c.g, WANTED.c.m).distinct().subquery("asked")
_SPOKE = INTERACTIONS.c
_Q_MEMBER_LAYERS = (
    select(
        MEMBERSHIPS.c.group_id,
        MEMBERSHIPS.c.member_id,
        *layer_inputs(
            func.max(_SPOKE.at),
            func.sum(
                case((_SPOKE.at >= bindparam("counted_from", type_=_AT), 1), else_=0),
                type_=Integer,
            ),
        ),
    )
    .select_from(
        _ASKED.join(
            MEMBERSHIPS,
            (MEMBERSHIPS.c.group_id == _ASKED.c.g) & (MEMBERSHIPS.c.member_id == _ASKED.c.m),
        ).outerjoin(
            INTERACTIONS,
            (_SPOKE.group_id == MEMBERSHIPS.c.group_id)
            & (_SPOKE.member_id == MEMBERSHIPS.c.member_id)
            & (_SPOKE.at >= bindparam("scanned_from", type_=_AT))
            & and_(*ACTIVE),
        )
    )
    .group_by(
        MEMBERSHIPS.c.group_id,
        MEMBERSHIPS.c.member_id,
        MEMBERSHIPS.c.left_at,
        MEMBERSHIPS.c.joined_at,
        MEMBERSHIPS.c.first_seen_at,
    )
)


_BY_MEMBER = "interactions by member"


class _ByMember:
    """The batch's buffered interactions by (group, member), each indexed once: a layer
    asked for many speakers of one batch would otherwise rescan the buffer for each.

    It checks itself against the buffer by identity: a rolled-back event cuts the buffer
    short, and the index then starts again (so it needs no undo entry of its own).
    """

    __slots__ = ("last", "positions", "upto")

    def __init__(self) -> None:
        self.positions: dict[tuple[str, str], list[int]] = {}
        self.upto = 0
        self.last: object = None

    def since(
        self, rows: list[dict[str, Any]], group: str, member: str, start: int
    ) -> list[dict[str, Any]]:
        """The member's rows at positions ``start`` and later."""
        if self.upto > len(rows) or (self.upto and rows[self.upto - 1] is not self.last):
            self.positions.clear()
            self.upto = 0
        positions = self.positions
        for at in range(self.upto, len(rows)):
            row = rows[at]
            positions.setdefault((row["group_id"], row["member_id"]), []).append(at)
        if rows:
            self.upto, self.last = len(rows), rows[-1]
        return [rows[at] for at in positions.get((group, member), ()) if at >= start]


class LayerReadsTx(TxBase):
    """The message path's layer reads: per batch, together, kept for the batch."""

    def expect_layers(
        self, asks: Iterable[tuple[str, str, ZoneInfo, date]], thresholds: LayerThresholds
    ) -> None:
        """Read together the layers a batch's rules will ask about ((group, member, zone,
        local day) each): one read per chunk of members instead of one per message."""
        by_day: dict[DayBounds, set[tuple[str, str]]] = {}
        for group, member, zone, today in asks:
            bounds = self._bounds(zone, today, thresholds)
            if bounds not in self._memo.get(("layer", group, member), {}):
                by_day.setdefault(bounds, set()).add((group, member))
        for bounds, pairs in by_day.items():
            self._read_layers(bounds, sorted(pairs - self.new_memberships.keys()))
            seen = self._written(INTERACTIONS_BUFFER)
            for pair in pairs & self.new_memberships.keys():
                # What the read would find: present, not joined by an event, never spoken,
                # first seen now.
                facts = (0, 0, -1, int(bounds.idle(self.new_memberships[pair])), 0)
                key = ("layer", *pair)
                self._remember(self._memo, key, {**self._memo.get(key, {}), bounds: (facts, seen)})

    def layer_now(
        self, group: str, member: str, zone: ZoneInfo, today: date, thresholds: LayerThresholds
    ) -> Layer | None:
        """One member's layer as of ``today``; None when they are no member of the group.

        Asked on the message path (rules with ``if: {layers: …}``), so it is kept cheap: the
        member's facts are read once per batch (with the others the batch expects, see
        :meth:`expect_layers`) and compared with the day's boundaries in SQL (no dates
        parsed), and the batch's own interactions are counted in memory instead of being
        flushed early.
        """
        bounds = self._bounds(zone, today, thresholds)
        cached = self._memo.get(("layer", group, member), {}).get(bounds)
        if cached is None:
            cached = self._read_layers(bounds, [(group, member)])[group, member]
        row, seen = cached
        if row is None:
            return None
        left, new, last_idle, first_idle, counted = row
        idle = None if last_idle < 0 else Idle(last_idle)
        counted = int(counted or 0)
        index = self._memo.get(_BY_MEMBER)
        if index is None:
            index = self._memo[_BY_MEMBER] = _ByMember()
        for r in index.since(self._buffered(INTERACTIONS_BUFFER), group, member, seen):
            at = r["at"]
            if r["kind"] not in NOT_ACTIVITY and at >= bounds.scanned_from:
                idle = min(idle, bounds.idle(at)) if idle is not None else bounds.idle(at)
                counted += at >= bounds.counted_from
        if idle is None:  # never active in the scanned span: idle since first seen
            idle = Idle(first_idle)
        return layer_from(bool(left), bool(new), idle, counted, thresholds)

    def _bounds(self, zone: ZoneInfo, today: date, thresholds: LayerThresholds) -> DayBounds:
        """The day's boundaries, one object per day and zone in a transaction (a key)."""
        key = ("layer bounds", zone, today, thresholds)
        bounds = self._memo.get(key)
        if bounds is None:  # a pure function of the key: no undo entry needed
            bounds = self._memo[key] = DayBounds.of(zone, today, thresholds)
        return bounds

    def _read_layers(
        self, bounds: DayBounds, pairs: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[tuple[Any, ...] | None, int]]:
        """Read ``pairs``' facts against one day's boundaries into the memo, each with how
        many buffered interactions the read included (a join or leave drops the entry)."""
        found = {
            (g, m): tuple(facts)
            for g, m, *facts in self._run_for_pairs(_Q_MEMBER_LAYERS, pairs, **bounds.parameters())
        }
        seen = self._written(INTERACTIONS_BUFFER)
        read = {pair: (found.get(pair), seen) for pair in pairs}
        for pair, cached in read.items():
            key = ("layer", *pair)
            self._remember(self._memo, key, {**self._memo.get(key, {}), bounds: cached})
        return read
