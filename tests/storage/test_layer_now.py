"""``layer_now`` (the message path's: facts read once per batch, the batch's own interactions
counted in memory) agrees with ``member_layers`` (flush, then one query), whatever the batch
did before the question and whether its rows were written yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.layers import LayerThresholds
from storage.store import Store

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 1, tzinfo=UTC)
THRESHOLDS = LayerThresholds(new_days=2, core_interactions=3, quiet_days=3, churning_days=6)
MEMBERS = ("a", "b", "c")

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("say"),
            st.sampled_from(MEMBERS),
            st.integers(0, 12),
            st.sampled_from(["message", "message", "join"]),
        ),
        st.tuples(st.just("flush"), st.none(), st.none(), st.none()),
        st.tuples(st.just("ask"), st.sampled_from(MEMBERS), st.integers(0, 14), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(before=steps, batch=steps)
def test_layer_now_agrees_with_member_layers(
    before: list[tuple[str, str | None, int | None, str | None]],
    batch: list[tuple[str, str | None, int | None, str | None]],
) -> None:
    store = Store("sqlite://")
    try:
        with store.transaction() as tx:  # an earlier, committed batch
            for member in MEMBERS:
                tx.observe("g1", member, START)
            for op, member, day, kind in before:
                if op == "say":
                    assert member is not None and day is not None and kind is not None
                    tx.record_interaction("g1", member, kind, START + timedelta(days=day))
        with store.transaction() as tx:
            for op, member, day, kind in batch:
                if op == "say":
                    assert member is not None and day is not None and kind is not None
                    tx.record_interaction("g1", member, kind, START + timedelta(days=day))
                elif op == "flush":
                    tx.flush()
                else:
                    assert member is not None and day is not None
                    today = date(2026, 1, 1) + timedelta(days=day)
                    fast = tx.layer_now("g1", member, ZONE, today, THRESHOLDS)
                    (slow,) = tx.member_layers("g1", ZONE, today, THRESHOLDS, member)
                    assert fast == slow.layer, (member, today)
    finally:
        store.close()
