"""Member layers in the store: judged from each membership's activity facts (kept by
``storage.activity_facts``; on the message path, read straight from the log: see
``storage.layer_reads``), the stored layer, and every change of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, case, func, insert, select, update

from core.layers import Idle, Layer, LayerThresholds, MembershipFacts, layer_from, layer_of
from storage.activity_facts import NOT_ACTIVITY, ActivityFactsTx
from storage.layer_bounds import layer_inputs, local_midnight
from storage.layer_reads import LayerReadsTx
from storage.tables import INTERACTIONS, LAYER_CHANGES, MEMBERS, MEMBERSHIPS, G, M

_AT = INTERACTIONS.c.at.type


# The daily job's inputs from each membership's stored facts, compared in SQL as the
# message path's read is (no dates parsed for 500 members a group): only the changes need
# more than ints.
_RECENTLY = case(
    (MEMBERSHIPS.c.active_at >= bindparam("scanned_from", type_=_AT), MEMBERSHIPS.c.active_at)
)
_Q_LAYER_INPUTS = (
    select(
        MEMBERSHIPS.c.member_id,
        MEMBERSHIPS.c.layer,
        *layer_inputs(_RECENTLY, MEMBERSHIPS.c.active_count),
    )
    # Not those first seen after the run: a batch stores its speakers before its timer
    # work runs, and a member who speaks at 04:01 was not there for the 04:00 run.
    .where(MEMBERSHIPS.c.group_id == G, MEMBERSHIPS.c.first_seen_at <= bindparam("now"))
    .order_by(MEMBERSHIPS.c.member_id)
)


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


class LayersTx(ActivityFactsTx, LayerReadsTx):
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
            _Q_LAYER_INPUTS, g=group, now=now, **bounds.parameters()
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
