"""The layer rule: each boundary, one day either side."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.layers import Layer, LayerThresholds, MembershipFacts, layer_of

T = LayerThresholds()
TODAY = date(2026, 12, 4)


def facts(
    joined: int | None = None,
    idle: int = 0,
    interactions: int = 0,
    left: bool = False,
    first_seen: int = 400,
) -> MembershipFacts:
    return MembershipFacts(
        joined=TODAY - timedelta(days=joined) if joined is not None else None,
        first_seen=TODAY - timedelta(days=first_seen),
        left=left,
        last_active=TODAY - timedelta(days=idle),
        interactions=interactions,
    )


@pytest.mark.parametrize(
    ("member", "layer"),
    [
        (facts(joined=7), Layer.NEW),
        (facts(joined=8), Layer.ACTIVE),
        (facts(joined=0, idle=0), Layer.NEW),
        (facts(idle=29), Layer.ACTIVE),
        (facts(idle=30), Layer.QUIET),
        (facts(idle=89), Layer.QUIET),
        (facts(idle=90), Layer.CHURNING),
        (facts(interactions=49), Layer.ACTIVE),
        (facts(interactions=50), Layer.CORE),
        (facts(interactions=500, idle=30), Layer.QUIET),  # a core member gone quiet
        (facts(joined=2, left=True), Layer.LEFT),
        (facts(joined=3, idle=100), Layer.NEW),  # new members are new, whatever they did
    ],
)
def test_each_boundary_one_day_either_side(member: MembershipFacts, layer: Layer) -> None:
    assert layer_of(member, TODAY, T) is layer


def test_a_member_who_never_spoke_is_idle_since_first_seen() -> None:
    never = MembershipFacts(None, TODAY - timedelta(days=31), False, None, 0)
    assert layer_of(never, TODAY, T) is Layer.QUIET


@given(
    idle=st.integers(0, 1000),
    interactions=st.integers(0, 200),
    extra=st.integers(1, 30),
)
def test_more_idle_days_never_make_a_member_more_active(
    idle: int, interactions: int, extra: int
) -> None:
    order = [Layer.CORE, Layer.ACTIVE, Layer.QUIET, Layer.CHURNING]
    before = layer_of(facts(idle=idle, interactions=interactions), TODAY, T)
    after = layer_of(facts(idle=idle + extra, interactions=interactions), TODAY, T)
    assert order.index(after) >= order.index(before)
