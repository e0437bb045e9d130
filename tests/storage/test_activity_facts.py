"""Activity facts kept incrementally (fold, move, build) equal the full aggregate, whatever
order the days are asked in, across groups in other zones, commits, rollbacks and changes
of the window's length."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.layers import LayerThresholds
from storage.layers import local_midnight
from storage.store import Store

ZONES = {"g1": ZoneInfo("Asia/Shanghai"), "g2": ZoneInfo("America/New_York")}
START = datetime(2026, 3, 1, tzinfo=UTC)  # New York changes to summer time on 03-08
MEMBERS = ("a", "b", "c")
Said = tuple[str, str, str, datetime]

steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("say"),
            st.sampled_from(sorted(ZONES)),
            st.sampled_from(MEMBERS),
            st.integers(0, 40 * 24),  # hours after START
            st.sampled_from(["message", "message", "image", "join", "leave"]),
        ),
        st.tuples(
            st.just("ask"),
            st.sampled_from(sorted(ZONES)),
            st.sampled_from([3, 5, 400]),  # the window's length in days
            st.integers(0, 45),  # today, days after START
            st.sampled_from(["keep", "keep", "fail"]),  # fail: the event rolls back
        ),
        st.tuples(st.just("commit"), st.none(), st.none(), st.none(), st.none()),
    ),
    max_size=50,
)


def expected(said: list[Said], group: str, start: datetime) -> dict[str, tuple[int, datetime]]:
    active = [(m, at) for g, m, kind, at in said if g == group and kind not in ("join", "leave")]
    facts = {}
    for member in {m for m, _ in active}:
        times = [at for m, at in active if m == member]
        facts[member] = (sum(at >= start for at in times), max(times))
    return facts


class Rollback(Exception):
    pass


@settings(max_examples=120, deadline=None)
@given(script=steps)
def test_incremental_facts_equal_the_full_aggregate(script: list[tuple]) -> None:  # type: ignore[type-arg]
    store = Store("sqlite://")
    said: list[Said] = []
    with ExitStack() as stack:
        stack.callback(store.close)
        batch = stack.enter_context(ExitStack())
        tx = batch.enter_context(store.transaction())
        for group in ZONES:
            for member in MEMBERS:
                tx.observe(group, member, START)
        for op, group, a, b, c in script:
            if op == "commit":
                batch.close()
                tx = batch.enter_context(store.transaction())
            elif op == "say":
                at = START + timedelta(hours=b)
                tx.record_interaction(group, a, c, at)
                said.append((group, a, c, at))
            else:
                zone = ZONES[group]
                today = START.astimezone(zone).date() + timedelta(days=b)
                thresholds = LayerThresholds(core_window_days=a, churning_days=4)
                if c == "fail":
                    with pytest.raises(Rollback), tx.savepoint():
                        tx.member_layers(group, zone, today, thresholds)
                        raise Rollback
                    continue
                start = local_midnight(today - timedelta(days=a - 1), zone)
                got = {
                    m.member: (m.facts.interactions, m.last_seen)
                    for m in tx.member_layers(group, zone, today, thresholds)
                    if m.last_seen is not None
                }
                assert got == expected(said, group, start), (group, today, a)


def test_a_day_later_only_the_days_at_the_edges_are_read(store: Store) -> None:
    """The daily refresh reads the new interactions and the day leaving the window, not the
    year in between: counted by the rows the store hands back."""
    zone = ZONES["g1"]
    thresholds = LayerThresholds(core_window_days=30)
    first = datetime(2026, 5, 1, 12, tzinfo=zone)
    with store.transaction() as tx:
        for member in MEMBERS:
            tx.observe("g1", member, first)
        for day in range(60):
            for member in MEMBERS:
                tx.record_interaction("g1", member, "message", first + timedelta(days=day))
    today = date(2026, 6, 29)
    with store.transaction() as tx:
        built = {
            m.member: m.facts.interactions for m in tx.member_layers("g1", zone, today, thresholds)
        }
    assert built == dict.fromkeys(MEMBERS, 30)
    with store.transaction() as tx:
        tx.record_interaction("g1", "a", "message", datetime(2026, 6, 30, 9, tzinfo=zone))
    reads: list[int] = []
    with store.transaction() as tx:
        run = tx._run

        def counting(statement, **values):  # type: ignore[no-untyped-def]
            rows = run(statement, **values)
            reads.append(len(rows))
            return rows

        tx._run = counting  # type: ignore[method-assign]
        later = {
            m.member: m.facts.interactions
            for m in tx.member_layers("g1", zone, today + timedelta(days=1), thresholds)
        }
    # a: one new, one old out; b and c: one old out.
    assert later == {"a": 30, "b": 29, "c": 29}
    assert sum(reads) <= 3 * 3 + len(MEMBERS) + 6, reads  # facts rows, not 180 interactions


def test_a_missing_watermark_row_is_made_again_not_folded_twice(store: Store) -> None:
    from sqlalchemy import delete

    from storage.tables import ACTIVITY_WATERMARK

    zone = ZONES["g1"]
    at = datetime(2026, 5, 1, 12, tzinfo=zone)
    with store.transaction() as tx:
        tx.observe("g1", "a", at)
        tx._execute(delete(ACTIVITY_WATERMARK))
        tx.record_interaction("g1", "a", "message", at)
    for _ in range(3):
        with store.transaction() as tx:
            tx.record_interaction("g1", "a", "message", at)
            (a,) = tx.member_layers("g1", zone, at.date(), LayerThresholds())
    assert a.facts.interactions == 4
