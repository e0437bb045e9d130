"""Member layers (用户分层): the vocabulary and the rule that sorts a membership into one.

Pure and clock-free: the store supplies each membership's dates and counts, the config the
thresholds, the caller today's date in the group's zone. Days are local calendar days, so a
boundary moves at the group's midnight, daylight saving or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import IntEnum, StrEnum


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


class Idle(IntEnum):
    """How long since a member was last active (or first seen), against the thresholds;
    a later time is never a higher class, so the most recent of several is their minimum."""

    RECENT = 0
    QUIET = 1
    CHURNING = 2


def idle_of(days: int, t: LayerThresholds) -> Idle:
    if days >= t.churning_days:
        return Idle.CHURNING
    if days >= t.quiet_days:
        return Idle.QUIET
    return Idle.RECENT


def layer_from(left: bool, new: bool, idle: Idle, interactions: int, t: LayerThresholds) -> Layer:
    """Left, then new, then churning and quiet (a core member gone quiet is quiet: that is
    the transition churn alerts watch), then core, else active."""
    if left:
        return Layer.LEFT
    if new:
        return Layer.NEW
    if idle is Idle.CHURNING:
        return Layer.CHURNING
    if idle is Idle.QUIET:
        return Layer.QUIET
    if interactions >= t.core_interactions:
        return Layer.CORE
    return Layer.ACTIVE


def layer_of(facts: MembershipFacts, today: date, t: LayerThresholds) -> Layer:
    """The layer as of ``today`` (see :func:`layer_from`)."""
    new = facts.joined is not None and (today - facts.joined).days <= t.new_days
    idle = idle_of((today - (facts.last_active or facts.first_seen)).days, t)
    return layer_from(facts.left, new, idle, facts.interactions, t)
