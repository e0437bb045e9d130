"""Memberships a batch creates before its first event are judged without reading them:
what is known of them must be exactly what the reads would find."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from core.layers import LayerThresholds
from storage.members import Speaker
from storage.points import CheckinPoints
from storage.store import Store, StoreTx

THRESHOLDS = LayerThresholds(new_days=2, core_interactions=3, quiet_days=3, churning_days=6)
ZONES = st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York"), UTC])
TODAY = date(2026, 3, 8)  # New York moves its clocks this day


def truth(tx: StoreTx, zone: ZoneInfo, pair: tuple[str, str]) -> tuple[object, ...]:
    """What the SQL read finds for ``pair`` (bypassing what the batch knows)."""
    bounds = tx._bounds(zone, TODAY, THRESHOLDS)
    return tx._read_layers(bounds, [pair])[pair][0] or ()


@settings(max_examples=30, deadline=None)
@given(ZONES, st.lists(st.integers(-10 * 24 * 60, 24 * 60), min_size=1, max_size=6))
def test_a_first_seen_members_layer_facts_and_tags_are_what_a_read_finds(
    zone: ZoneInfo, minutes: list[int]
) -> None:
    today = datetime.combine(TODAY, datetime.min.time(), zone)
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'q.db'}")
        try:
            with store.transaction() as tx:  # someone already known, for contrast
                tx.observe("g1", "old", today - timedelta(days=30), name="老")
            with store.transaction() as tx:
                speakers = [
                    Speaker("g1", f"m{i}", today + timedelta(minutes=n), f"成员{i}")
                    for i, n in enumerate(minutes)
                ]
                tx.expect_speakers([*speakers, Speaker("g1", "old", today)])
                assert set(tx.new_memberships) == {("g1", s.member) for s in speakers}
                pairs = [("g1", s.member) for s in speakers]
                tx.expect_layers([(*p, zone, TODAY) for p in pairs], THRESHOLDS)
                tx.expect_tags(pairs)
                bounds = tx._bounds(zone, TODAY, THRESHOLDS)
                for pair in pairs:
                    known = tx._memo[("layer", *pair)][bounds][0]
                    assert known == truth(tx, zone, pair)
                    assert tx.tags_of(*pair, today) == []
                    assert tx.balance(*pair) == 0
                result = tx.check_in("g1", "m0", TODAY, today, CheckinPoints(5))
                assert (result.new, result.streak, result.rank) == (True, 1, 1)
        finally:
            store.close()
