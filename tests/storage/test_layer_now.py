"""``layer_now`` (the message path's: facts read once per batch, alone or together with the
others the batch expects, the batch's own interactions counted in memory) agrees with ``member_layers`` (flush, then the stored facts), whatever
the batch did before the question, whether its rows were written yet, and whatever events
it rolled back."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from support import store_with_members

from core.layers import Layer, LayerThresholds
from storage.store import Store, StoreTx

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 1, 1, tzinfo=UTC)
THRESHOLDS = LayerThresholds(new_days=2, core_interactions=3, quiet_days=3, churning_days=6)
MEMBERS = ("a", "b", "c")
# The property test's speakers: in two groups, one judged by New York's days.
ZONES = {"g1": ZONE, "g2": ZoneInfo("America/New_York")}
SPEAKERS = ("g1/a", "g1/b", "g1/c", "g2/a", "g2/b")

steps = st.lists(
    st.one_of(
        st.tuples(  # steps of 8 hours from START: 16 is a Shanghai midnight
            st.just("say"),
            st.sampled_from(SPEAKERS),
            st.integers(0, 36),
            st.sampled_from(["message", "message", "join"]),
        ),
        st.tuples(
            st.sampled_from(["joins", "leaves"]),
            st.sampled_from(SPEAKERS),
            st.integers(0, 36),
            st.none(),
        ),
        st.tuples(st.just("flush"), st.none(), st.none(), st.none()),
        st.tuples(  # an event that says something, asks, and fails: rolled back
            st.just("fail"), st.sampled_from(SPEAKERS), st.integers(0, 36), st.just("message")
        ),
        st.tuples(st.just("ask"), st.sampled_from(SPEAKERS), st.integers(0, 14), st.none()),
        # the batch's layers read together ahead of the questions (Engine.expect)
        st.tuples(st.just("expect"), st.none(), st.integers(0, 14), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(before=steps, batch=steps, judged=st.integers(0, 14))
def test_layer_now_agrees_with_member_layers(
    before: list[tuple[str, str | None, int | None, str | None]],
    batch: list[tuple[str, str | None, int | None, str | None]],
    judged: int,
) -> None:
    """And the daily job (``recompute_layers``, from the stored facts compared in SQL)
    stores what ``member_layers`` says, after the batch."""
    store = Store("sqlite://")

    def apply(
        tx: StoreTx, op: str, speaker: str | None, step: int | None, kind: str | None
    ) -> None:
        assert speaker is not None and step is not None
        group, member = speaker.split("/")
        at = START + timedelta(hours=8 * step)
        if op == "say":
            assert kind is not None
            tx.record_interaction(group, member, kind, at)
        elif op == "joins":
            tx.record_join(group, member, at, None)
        elif op == "leaves":
            tx.record_leave(group, member, at)
        else:  # fail
            zone = ZONES[group]
            with contextlib.suppress(RuntimeError), tx.savepoint():
                tx.record_interaction(group, member, "message", at)
                tx.layer_now(group, member, zone, at.astimezone(zone).date(), THRESHOLDS)
                raise RuntimeError

    try:
        with store.transaction() as tx:  # an earlier, committed batch
            for speaker in SPEAKERS:
                tx.observe(*speaker.split("/"), START)
            for op, member, step, kind in before:
                if op not in ("flush", "ask", "fail", "expect"):
                    apply(tx, op, member, step, kind)
        with store.transaction() as tx:
            for op, member, step, kind in batch:
                if op == "flush":
                    tx.flush()
                elif op == "expect":
                    assert step is not None
                    day = date(2026, 1, 1) + timedelta(days=step)
                    asked = [*SPEAKERS, "g2/c"]  # g2/c never spoke: no member
                    tx.expect_layers(
                        [(*s.split("/"), ZONES[s[:2]], day) for s in asked], THRESHOLDS
                    )
                    assert tx.layer_now("g2", "c", ZONES["g2"], day, THRESHOLDS) is None
                elif op == "ask":
                    assert member is not None and step is not None
                    group, who = member.split("/")
                    zone, today = ZONES[group], date(2026, 1, 1) + timedelta(days=step)
                    fast = tx.layer_now(group, who, zone, today, THRESHOLDS)
                    (slow,) = tx.member_layers(group, zone, today, THRESHOLDS, who)
                    assert fast == slow.layer, (member, today)
                else:
                    apply(tx, op, member, step, kind)
            for group, zone in ZONES.items():
                now = datetime.combine(date(2026, 1, 1) + timedelta(days=judged), time(4), zone)
                tx.recompute_layers(group, zone, now, THRESHOLDS)
                # Every membership was first seen at START: a run before it stores none.
                for m in tx.member_layers(group, zone, now.date(), THRESHOLDS):
                    assert m.stored == (m.layer if now >= START else None), (group, m.member, now)
    finally:
        store.close()


def test_layer_now_agrees_at_every_boundary_to_the_midnight() -> None:
    """Joins and last words exactly at a local midnight, asked each day around the new,
    quiet and churning boundaries: compared in SQL with instants (committed rows) and in
    memory (the batch's own rows)."""
    midnight = datetime(2026, 1, 3, tzinfo=ZONE)
    seen = set()

    def record(tx: StoreTx) -> None:
        tx.record_interaction("g1", "b", "message", midnight)
        tx.record_interaction("g1", "c", "message", midnight - timedelta(microseconds=1))

    for committed in (True, False):
        for day in range(10):
            today = midnight.date() + timedelta(days=day)
            store = Store("sqlite://")
            try:
                with store.transaction() as tx:
                    for member in MEMBERS:
                        tx.observe("g1", member, START)
                    tx.record_join("g1", "a", midnight, None)
                    if committed:
                        record(tx)
                with store.transaction() as tx:
                    if not committed:
                        record(tx)  # buffered: layer_now counts them in memory
                    fast = {m: tx.layer_now("g1", m, ZONE, today, THRESHOLDS) for m in MEMBERS}
                    slow = {
                        m.member: m.layer for m in tx.member_layers("g1", ZONE, today, THRESHOLDS)
                    }
                    assert fast == slow, (today, committed)
                    seen |= set(fast.values())
            finally:
                store.close()
    assert {Layer.NEW, Layer.ACTIVE, Layer.QUIET, Layer.CHURNING} <= seen


def test_rows_written_before_the_read_count_once() -> None:
    """The batch's rows flushed before the facts are read are in the read: counted in SQL,
    not again from the buffer (read alone, and read ahead with the batch's others)."""
    today = date(2026, 1, 20)
    words = [datetime(2026, 1, 19, 10, tzinfo=ZONE), datetime(2026, 1, 19, 11, tzinfo=ZONE)]
    for ahead in (False, True):
        with store_with_members(MEMBERS, START) as store, store.transaction() as tx:
            for at in words:
                tx.record_interaction("g1", "a", "message", at)
            tx.flush()  # as a leaderboard's read would
            tx.record_interaction("g1", "b", "message", words[0])  # still buffered
            if ahead:
                tx.expect_layers([("g1", m, ZONE, today) for m in MEMBERS], THRESHOLDS)
            fast = {m: tx.layer_now("g1", m, ZONE, today, THRESHOLDS) for m in MEMBERS}
            # two words are fewer than the three a core member needs
            assert fast == {"a": Layer.ACTIVE, "b": Layer.ACTIVE, "c": Layer.CHURNING}
