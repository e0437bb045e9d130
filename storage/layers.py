"""Member layers in the store: judged from each membership's activity facts (kept by
``storage.activity_facts``; read straight from the log for the members the message
path asks about), the stored layer, and every change of it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Select, and_, bindparam, case, func, insert, select, update

from core.layers import Idle, Layer, LayerThresholds, MembershipFacts, layer_from, layer_of
from storage.activity_facts import ACTIVE, NOT_ACTIVITY, ActivityFactsTx
from storage.tables import INTERACTIONS, LAYER_CHANGES, MEMBERS, MEMBERSHIPS, G, M
from storage.unit_of_work import INTERACTIONS_BUFFER, WANTED

_AT = INTERACTIONS.c.at.type


def _idle(column: Any) -> Any:
    """The :class:`Idle` class of a time against the day's boundaries; -1 for none."""
    return case(
        (column.is_(None), -1),
        (column < bindparam("churning_before", type_=_AT), int(Idle.CHURNING)),
        (column < bindparam("quiet_before", type_=_AT), int(Idle.QUIET)),
        else_=int(Idle.RECENT),
    )


def _layer_inputs(last_active: Any, counted: Any) -> tuple[Any, ...]:
    """What :func:`core.layers.layer_from` needs, as ints: left, new, the idle class of the
    last activity and of the first sight (against the day's boundaries), the count."""
    return (
        case((MEMBERSHIPS.c.left_at.is_(None), 0), else_=1),
        case((MEMBERSHIPS.c.joined_at >= bindparam("new_from", type_=_AT), 1), else_=0),
        _idle(last_active),
        _idle(MEMBERSHIPS.c.first_seen_at),
        counted,
    )


# Members' facts straight from the interaction log, for the message path (``layer_now``),
# which must not wait on a refresh of the group's stored facts: the members a batch's rules
# will ask about, read together (``expect_layers``), or one the batch did not foresee.
# Compared in SQL against the day's boundaries (as instants), so the message path parses no
# dates.
_ASKED = select(WANTED.c.g, WANTED.c.m).distinct().subquery("asked")
_SPOKE = INTERACTIONS.c
_Q_MEMBER_LAYERS = (
    select(
        MEMBERSHIPS.c.group_id,
        MEMBERSHIPS.c.member_id,
        *_layer_inputs(
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


# The daily job's inputs from each membership's stored facts, compared in SQL like the
# above (no dates parsed for 500 members a group): only the changes need more than ints.
_RECENTLY = case(
    (MEMBERSHIPS.c.active_at >= bindparam("scanned_from", type_=_AT), MEMBERSHIPS.c.active_at)
)
_Q_LAYER_INPUTS = (
    select(
        MEMBERSHIPS.c.member_id,
        MEMBERSHIPS.c.layer,
        *_layer_inputs(_RECENTLY, MEMBERSHIPS.c.active_count),
    )
    .where(MEMBERSHIPS.c.group_id == G)
    .order_by(MEMBERSHIPS.c.member_id)
)


@dataclass(slots=True, eq=False)
class _Bounds:
    """One local day's layer boundaries as instants: comparing an instant with them is
    comparing its local date with the day's thresholds (see core.layers.layer_of).

    Made once per day and zone in a transaction (memoised), so it is a key by identity.
    """

    new_from: datetime  # joined at or after: new
    quiet_before: datetime  # last active before: quiet
    churning_before: datetime  # last active before: churning
    counted_from: datetime  # the core window's start
    scanned_from: datetime  # what the full aggregate looks back to

    def parameters(self) -> dict[str, datetime]:
        return {
            "new_from": self.new_from,
            "quiet_before": self.quiet_before,
            "churning_before": self.churning_before,
            "counted_from": self.counted_from,
            "scanned_from": self.scanned_from,
        }

    @classmethod
    def of(cls, zone: ZoneInfo, today: date, t: LayerThresholds) -> _Bounds:
        def start(days_back: int) -> datetime:
            return local_midnight(today - timedelta(days=days_back), zone)

        return cls(
            start(t.new_days),
            start(t.quiet_days - 1),
            start(t.churning_days - 1),
            start(t.core_window_days - 1),
            start(max(t.core_window_days, t.churning_days) - 1),
        )

    def idle(self, at: datetime) -> Idle:
        if at < self.churning_before:
            return Idle.CHURNING
        return Idle.QUIET if at < self.quiet_before else Idle.RECENT


def _stored_facts(one_member: bool) -> Select[Any]:
    """Memberships with the activity facts kept on them (see storage.activity_facts)."""
    return (
        select(
            MEMBERSHIPS.c.member_id,
            MEMBERS.c.name,
            MEMBERSHIPS.c.layer,
            MEMBERSHIPS.c.joined_at,
            MEMBERSHIPS.c.first_seen_at,
            MEMBERSHIPS.c.left_at,
            MEMBERSHIPS.c.active_at,
            MEMBERSHIPS.c.active_count,
            MEMBERSHIPS.c.points,
            MEMBERSHIPS.c.inviter_id,
        )
        .join(MEMBERS, MEMBERS.c.id == MEMBERSHIPS.c.member_id)
        .where(
            MEMBERSHIPS.c.group_id == G,
            *([MEMBERSHIPS.c.member_id == M] if one_member else []),
        )
        .order_by(MEMBERSHIPS.c.member_id)
    )


_Q_FACTS = {False: _stored_facts(False), True: _stored_facts(True)}

_SET_LAYER = (
    update(MEMBERSHIPS)
    .where(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.member_id == M)
    .values(layer=bindparam("layer"))
)

_INSERT_CHANGE = insert(LAYER_CHANGES)

_CHANGE_KEYS = ("group_id", "member_id", "from_layer", "to_layer", "at")


@dataclass(frozen=True, slots=True)
class MemberLayer:
    """One membership with its layer as of ``today`` and the facts it came from."""

    member: str
    name: str
    layer: Layer
    stored: Layer | None  # what the last recomputation stored
    facts: MembershipFacts
    points: int
    inviter: str | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class LayerChangeRow:
    member: str
    before: Layer | None
    after: Layer


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


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``zone`` (a day that starts in a DST gap starts late)."""
    return datetime.combine(day, time(), zone)


class LayersTx(ActivityFactsTx):
    """Layers judged from the activity facts; stored, with their changes, by the daily job."""

    def member_layers(
        self,
        group: str,
        zone: ZoneInfo,
        today: date,
        thresholds: LayerThresholds,
        member: str | None = None,
    ) -> list[MemberLayer]:
        """Every membership of the group (or ``member``'s) with its layer as of ``today``
        (a local date)."""
        counted_from = local_midnight(today - timedelta(days=thresholds.core_window_days - 1), zone)
        scanned = max(thresholds.core_window_days, thresholds.churning_days) - 1
        scanned_from = local_midnight(today - timedelta(days=scanned), zone)
        self.refresh_activity(group, counted_from)
        rows = self._run(_Q_FACTS[member is not None], g=group, m=member)
        found = []
        for member, name, stored, joined, first, left, last_at, counted, points, inviter in rows:
            # The layer looks back as far as the full aggregate did: activity older than
            # the scanned span counts as none (the same layer either way, see layer_of).
            recent = last_at if last_at is not None and last_at >= scanned_from else None
            facts = MembershipFacts(
                joined=joined.astimezone(zone).date() if joined else None,
                first_seen=first.astimezone(zone).date(),
                left=left is not None,
                last_active=recent.astimezone(zone).date() if recent else None,
                interactions=int(counted),
            )
            found.append(
                MemberLayer(
                    member=member,
                    name=name or member,
                    layer=layer_of(facts, today, thresholds),
                    stored=Layer(stored) if stored else None,
                    facts=facts,
                    points=int(points),
                    inviter=inviter,
                    last_seen=last_at,
                )
            )
        return found

    def expect_layers(
        self, asks: Iterable[tuple[str, str, ZoneInfo, date]], thresholds: LayerThresholds
    ) -> None:
        """Read together the layers a batch's rules will ask about ((group, member, zone,
        local day) each): one read per chunk of members instead of one per message."""
        by_day: dict[_Bounds, set[tuple[str, str]]] = {}
        for group, member, zone, today in asks:
            bounds = self._bounds(zone, today, thresholds)
            if bounds not in self._memo.get(("layer", group, member), {}):
                by_day.setdefault(bounds, set()).add((group, member))
        for bounds, pairs in by_day.items():
            self._read_layers(bounds, sorted(pairs))

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

    def _bounds(self, zone: ZoneInfo, today: date, thresholds: LayerThresholds) -> _Bounds:
        """The day's boundaries, one object per day and zone in a transaction (a key)."""
        key = ("layer bounds", zone, today, thresholds)
        bounds = self._memo.get(key)
        if bounds is None:  # a pure function of the key: no undo entry needed
            bounds = self._memo[key] = _Bounds.of(zone, today, thresholds)
        return bounds

    def _read_layers(
        self, bounds: _Bounds, pairs: Sequence[tuple[str, str]]
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

    def recompute_layers(
        self, group: str, zone: ZoneInfo, now: datetime, thresholds: LayerThresholds
    ) -> list[LayerChangeRow]:
        """Store each membership's layer as of ``now``; a row for every one that changed.

        Judged as :meth:`member_layers` judges (the same facts, the same day boundaries as
        :meth:`layer_now`), from ints compared in SQL.
        """
        bounds = self._bounds(zone, now.astimezone(zone).date(), thresholds)
        self.refresh_activity(group, bounds.counted_from)
        changes = []
        for member, stored, left, new, last_idle, first_idle, counted in self._run(
            _Q_LAYER_INPUTS, g=group, **bounds.parameters()
        ):
            # Never active in the scanned span: idle since first seen.
            idle = Idle(last_idle if last_idle >= 0 else first_idle)
            layer = layer_from(bool(left), bool(new), idle, int(counted), thresholds)
            before = Layer(stored) if stored else None
            if layer is not before:
                changes.append(LayerChangeRow(member, before, layer))
        if changes:
            self._run_many(
                _SET_LAYER, [{"g": group, "m": c.member, "layer": c.after.value} for c in changes]
            )
            self._insert(
                _INSERT_CHANGE,
                _CHANGE_KEYS,
                [
                    {
                        "group_id": group,
                        "member_id": c.member,
                        "from_layer": c.before.value if c.before else None,
                        "to_layer": c.after.value,
                        "at": now,
                    }
                    for c in changes
                ],
            )
        return changes

    def message_counts(
        self, group: str, member: str, zone: ZoneInfo, today: date, windows: tuple[int, ...]
    ) -> dict[int, int]:
        """Interactions in the last N local days (today included), for each N in ``windows``."""
        self.flush()
        starts = {n: local_midnight(today - timedelta(days=n - 1), zone) for n in windows}
        row = self._execute(
            select(
                *(
                    func.coalesce(func.sum(case((INTERACTIONS.c.at >= start, 1), else_=0)), 0)
                    for start in starts.values()
                )
            ).where(
                INTERACTIONS.c.group_id == group,
                INTERACTIONS.c.member_id == member,
                INTERACTIONS.c.kind.not_in(NOT_ACTIVITY),
                INTERACTIONS.c.at >= min(starts.values()),
            )
        ).one()
        return {n: int(count) for n, count in zip(windows, row, strict=True)}

    def invited_count(self, group: str, member: str) -> int:
        """How many memberships of the group name this member as their inviter."""
        return int(
            self._execute(
                select(func.count())
                .select_from(MEMBERSHIPS)
                .where(MEMBERSHIPS.c.group_id == group, MEMBERSHIPS.c.inviter_id == member)
            ).scalar_one()
        )

    def layer_changes(self, group: str) -> list[tuple[str, Layer | None, Layer, datetime]]:
        """Every stored change in the group, oldest first: (member, from, to, at)."""
        rows = self._execute(
            select(
                LAYER_CHANGES.c.member_id,
                LAYER_CHANGES.c.from_layer,
                LAYER_CHANGES.c.to_layer,
                LAYER_CHANGES.c.at,
            )
            .where(LAYER_CHANGES.c.group_id == group)
            .order_by(LAYER_CHANGES.c.at, LAYER_CHANGES.c.id)
        )
        return [(m, Layer(f) if f else None, Layer(t), at) for m, f, t, at in rows]
