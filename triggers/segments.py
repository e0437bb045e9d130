"""Segments: the members an operator picks by layer and tag (``layer=quiet,tag=意向:瓷砖``).

One definition for every reader: ``qunbot members --layer --tag`` lists a segment, and a
segment broadcast @mentions the members of it who are still in each group.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from core.layers import Layer, LayerThresholds
from storage.layers import MemberLayer
from storage.store import StoreTx

# A segment reaches members in the group: one who left cannot be @mentioned.
REACHABLE = tuple(layer for layer in Layer if layer is not Layer.LEFT)


class SegmentError(ValueError):
    """A segment that cannot be read; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class Segment:
    layer: Layer | None = None
    tag: str | None = None

    def __str__(self) -> str:
        parts = [f"layer={self.layer.value}"] if self.layer else []
        return ",".join(parts + ([f"tag={self.tag}"] if self.tag else []))

    def pick(self, members: Iterable[MemberLayer], tagged: set[str] | None) -> list[MemberLayer]:
        """Those of ``members`` in this segment; ``tagged``: who holds its tag (None: any)."""
        return [
            m
            for m in members
            if (self.layer is None or m.layer == self.layer)
            and (tagged is None or m.member in tagged)
        ]

    def members(
        self,
        tx: StoreTx,
        group: str,
        zone: ZoneInfo,
        thresholds: LayerThresholds,
        now: datetime,
        today: date | None = None,
    ) -> list[MemberLayer]:
        """The group's members in this segment as of ``today`` (default: now, in ``zone``)."""
        day = today or now.astimezone(zone).date()
        tagged = {r.member for r in tx.tag_rows(group, now, self.tag)} if self.tag else None
        return self.pick(tx.member_layers(group, zone, day, thresholds), tagged)

    def reachable(
        self, tx: StoreTx, group: str, zone: ZoneInfo, thresholds: LayerThresholds, now: datetime
    ) -> list[MemberLayer]:
        """The members a broadcast to this segment can @mention: those still in the group."""
        return [
            m for m in self.members(tx, group, zone, thresholds, now) if m.layer is not Layer.LEFT
        ]


def parse_segment(text: str) -> Segment:
    """``layer=quiet``, ``tag=VIP`` or both, comma-separated."""
    values: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in ("layer", "tag") or not value:
            raise SegmentError(
                f"cannot read {part.strip()!r}: a segment is layer=<layer> and/or tag=<tag>, "
                "comma-separated (e.g. layer=quiet,tag=VIP)"
            )
        if key in values:
            raise SegmentError(f"{key} given twice in {text!r}")
        values[key] = value
    layer = values.get("layer")
    if layer is not None and layer not in {r.value for r in REACHABLE}:
        raise SegmentError(
            f"unknown layer {layer!r}: one of {', '.join(r.value for r in REACHABLE)}"
        )
    return Segment(Layer(layer) if layer else None, values.get("tag"))
