"""Layers from the store: boundaries at the group's midnight, changes recorded once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.layers import Layer, LayerThresholds
from storage.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
T = LayerThresholds()


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def layers(store: Store, today: date) -> dict[str, Layer]:
    with store.transaction() as tx:
        return {m.member: m.layer for m in tx.member_layers("g1", SHANGHAI, today, T)}


def test_boundaries_fall_at_the_groups_midnight(store: Store) -> None:
    with store.transaction() as tx:
        # Joined at 23:30 local on 11-01 (15:30 UTC): new through 11-08, not on 11-09.
        joined = local("2026-11-01T23:30")
        tx.observe("g1", "newbie", joined, present=False)
        tx.record_join("g1", "newbie", joined, None)
        # Spoke last at 23:50 local on 10-01 (15:50 UTC): quiet from 10-31.
        spoke = local("2026-10-01T23:50")
        tx.observe("g1", "talker", spoke)
        tx.record_interaction("g1", "talker", "message", spoke, "hi")
    assert layers(store, date(2026, 11, 8))["newbie"] is Layer.NEW
    assert layers(store, date(2026, 11, 9))["newbie"] is Layer.ACTIVE
    assert layers(store, date(2026, 10, 30))["talker"] is Layer.ACTIVE
    assert layers(store, date(2026, 10, 31))["talker"] is Layer.QUIET
    assert layers(store, date(2026, 12, 29))["talker"] is Layer.QUIET
    assert layers(store, date(2026, 12, 30))["talker"] is Layer.CHURNING


def test_core_counts_activity_in_the_window_and_not_joins(store: Store) -> None:
    start = local("2026-01-10T12:00")
    with store.transaction() as tx:
        tx.observe("g1", "fan", start)
        tx.record_interaction("g1", "fan", "join", start)
        for n in range(50):
            tx.record_interaction("g1", "fan", "message", start + timedelta(days=n), "hi")
        tx.record_interaction("g1", "fan", "leave", start + timedelta(days=50))
    # The 50th message fell on 02-28; a year later the first ones leave the window.
    assert layers(store, date(2026, 3, 1))["fan"] is Layer.CORE
    assert layers(store, date(2027, 1, 9))["fan"] is Layer.CHURNING  # idle for 315 days
    with store.transaction() as tx:
        tx.record_interaction("g1", "fan", "message", local("2027-01-09T09:00"), "back")
    assert layers(store, date(2027, 1, 9))["fan"] is Layer.CORE  # 51 in the window
    assert layers(store, date(2027, 1, 10))["fan"] is Layer.CORE  # 01-10's left it: 50
    assert layers(store, date(2027, 1, 11))["fan"] is Layer.ACTIVE  # and 01-11's: 49


def test_the_daily_recomputation_records_each_change_once(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", local("2026-11-01T10:00"))
        tx.record_interaction("g1", "bob", "message", local("2026-11-01T10:00"), "hi")
        tx.observe("g1", "amy", local("2026-11-01T10:00"))
        tx.record_leave("g1", "amy", local("2026-11-02T10:00"))
    runs = [local("2026-11-02T04:00"), local("2026-11-03T04:00"), local("2026-12-02T04:00")]
    counts = []
    for now in runs:
        with store.transaction() as tx:
            counts.append(len(tx.recompute_layers("g1", SHANGHAI, now, T)))
    assert counts == [2, 0, 1]
    with store.transaction() as tx:
        changes = [(m, f, t, when) for m, f, t, when in tx.layer_changes("g1")]
    assert changes == [
        ("amy", None, Layer.LEFT, runs[0]),
        ("bob", None, Layer.ACTIVE, runs[0]),
        ("bob", Layer.ACTIVE, Layer.QUIET, runs[2]),
    ]


def test_message_counts_and_invitations(store: Store) -> None:
    today = date(2026, 12, 4)
    with store.transaction() as tx:
        tx.observe("g1", "bob", local("2026-09-01T10:00"))
        for days_ago in (0, 6, 7, 29, 30, 89, 90):
            when = local("2026-12-04T08:00") - timedelta(days=days_ago)
            tx.record_interaction("g1", "bob", "message", when, "hi")
        tx.record_interaction("g1", "bob", "join", local("2026-12-04T08:00"))
        for guest in ("x", "y"):
            tx.observe("g1", guest, local("2026-12-01T10:00"), present=False)
            tx.record_join("g1", guest, local("2026-12-01T10:00"), "bob")
        counts = tx.message_counts("g1", "bob", SHANGHAI, today, (7, 30, 90))
        assert counts == {7: 2, 30: 4, 90: 6}
        assert tx.invited_count("g1", "bob") == 2
