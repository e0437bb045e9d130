"""Member layers (用户分层): the vocabulary and the rule that sorts a membership into one.

Pure and clock-free: the store supplies each membership's dates and counts, the config the
thresholds, the caller today's date in the group's zone. Days are local calendar days, so a
boundary moves at the group's midnight, daylight saving or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Layer(StrEnum):
    NEW = "new"
    CORE = "core"
    ACTIVE = "active"
    QUIET = "quiet"
    CHURNING = "churning"
    LEFT = "left"


@dataclass(frozen=True, slots=True)
class LayerThresholds:
    """The domain defaults: new ≤ 7 days after joining; core ≥ 50 interactions in 365 days;
    quiet after 30 days without one; churning after 90."""

    new_days: int = 7
    core_interactions: int = 50
    core_window_days: int = 365
    quiet_days: int = 30
    churning_days: int = 90


@dataclass(frozen=True, slots=True)
class MembershipFacts:
    """What the layer of one membership depends on, in the group's local days."""

    joined: date | None  # None: first seen speaking, joined before the bot
    first_seen: date
    left: bool
    last_active: date | None  # the last day with an interaction (message, picture …)
    interactions: int  # within the core window


def layer_of(facts: MembershipFacts, today: date, t: LayerThresholds) -> Layer:
    """Left, then new, then churning and quiet (a core member gone quiet is quiet: that is
    the transition churn alerts watch), then core, else active."""
    if facts.left:
        return Layer.LEFT
    if facts.joined is not None and (today - facts.joined).days <= t.new_days:
        return Layer.NEW
    idle = (today - (facts.last_active or facts.first_seen)).days
    if idle >= t.churning_days:
        return Layer.CHURNING
    if idle >= t.quiet_days:
        return Layer.QUIET
    if facts.interactions >= t.core_interactions:
        return Layer.CORE
    return Layer.ACTIVE
