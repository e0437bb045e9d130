"""One local day's layer boundaries, as instants, and the layer's inputs compared with them
in SQL: what the message path's read (``storage.layer_reads``) and the daily job
(``storage.layers``) both judge a membership by, so no dates are parsed per member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case

from core.layers import Idle, LayerThresholds
from storage.tables import INTERACTIONS, MEMBERSHIPS

_AT = INTERACTIONS.c.at.type


def idle_against(column: Any) -> Any:
    """The :class:`Idle` class of a time against the day's boundaries; -1 for none."""
    return case(
        (column.is_(None), -1),
        (column < bindparam("churning_before", type_=_AT), int(Idle.CHURNING)),
        (column < bindparam("quiet_before", type_=_AT), int(Idle.QUIET)),
        else_=int(Idle.RECENT),
    )


def layer_inputs(last_active: Any, counted: Any) -> tuple[Any, ...]:
    """What :func:`core.layers.layer_from` needs, as ints: left, new, the idle class of the
    last activity and of the first sight (against the day's boundaries), the count."""
    return (
        case((MEMBERSHIPS.c.left_at.is_(None), 0), else_=1),
        case((MEMBERSHIPS.c.joined_at >= bindparam("new_from", type_=_AT), 1), else_=0),
        idle_against(last_active),
        idle_against(MEMBERSHIPS.c.first_seen_at),
        counted,
    )


@dataclass(slots=True, eq=False)
class DayBounds:
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
    def of(cls, zone: ZoneInfo, today: date, t: LayerThresholds) -> DayBounds:
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


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``zone`` (a day that starts in a DST gap starts late)."""
    return datetime.combine(day, time(), zone)
