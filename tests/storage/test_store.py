"""The store's domain operations, on SQLite always and on PostgreSQL when configured."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import at

from core.effects import Effect
from storage.points import CheckinPoints, InsufficientPoints
from storage.store import Store
from storage.tables import CHECKINS, INTERACTIONS, LEDGER

ten = CheckinPoints(10)


def test_observe_creates_group_member_and_membership_once(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"), group_name="群", name="Bob")
        tx.observe("g1", "bob", at("2026-11-24T09:00"), group_name="群", name="Bob")
        tx.observe("g1", "bob", at("2026-11-24T10:00"), name="Bobby")
    with store.transaction() as tx:
        assert tx.name_of("bob") == "Bobby"
        assert tx.group_name("g1") == "群"
        assert tx.active_members("g1") == 1


def test_check_in_once_per_local_day(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
        first = tx.check_in("g1", "bob", date(2026, 11, 24), at("2026-11-24T08:00"), ten)
        again = tx.check_in("g1", "bob", date(2026, 11, 24), at("2026-11-24T09:00"), ten)
    assert first.new and first.rank == 1 and first.streak == 1
    assert not again.new and again.at == first.at
    with store.transaction() as tx:
        rows = tx._c.execute(select(CHECKINS.c.id)).all()
    assert len(rows) == 1


def test_check_in_uniqueness_is_a_database_constraint(store: Store) -> None:
    """A second process inserting the same day must be stopped by the database itself."""
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
        tx.check_in("g1", "bob", date(2026, 11, 24), at("2026-11-24T08:00"), ten)
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), store.transaction() as tx:
        tx._c.execute(
            insert(CHECKINS).values(
                group_id="g1",
                member_id="bob",
                day=date(2026, 11, 24),
                streak=1,
                rank=2,
                points=10,
                at=at("2026-11-24T09:00"),
            )
        )


def test_streak_counts_consecutive_days_and_resets_after_a_gap(store: Store) -> None:
    start = date(2026, 11, 1)
    streaks = []
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-01T08:00"))
        for offset in (0, 1, 2, 4, 5):
            day = start + timedelta(days=offset)
            result = tx.check_in("g1", "bob", day, at(f"{day.isoformat()}T08:00"), ten)
            streaks.append(result.streak)
    assert streaks == [1, 2, 3, 1, 2]


def test_rank_of_the_day_counts_earlier_check_ins(store: Store) -> None:
    with store.transaction() as tx:
        ranks = []
        for member in ("a", "b", "c"):
            tx.observe("g1", member, at("2026-11-24T08:00"))
            ranks.append(
                tx.check_in("g1", member, date(2026, 11, 24), at("2026-11-24T08:00"), ten).rank
            )
        tx.observe("g2", "z", at("2026-11-24T08:00"))
        other = tx.check_in("g2", "z", date(2026, 11, 24), at("2026-11-24T08:00"), ten)
    assert ranks == [1, 2, 3]
    assert other.rank == 1


def test_points_ledger_and_cached_balance_agree(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
        assert tx.grant_points("g1", "bob", 10, "checkin", at("2026-11-24T08:00")) == 10
        assert (
            tx.grant_points("g1", "bob", -3, "penalty", at("2026-11-24T09:00"), actor="alice") == 7
        )
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 7
        assert tx.standing("g1", "bob", date(2026, 11, 24)).balance == 7
        reasons = [r[0] for r in tx._c.execute(select(LEDGER.c.reason).order_by(LEDGER.c.id))]
    assert reasons == ["checkin", "penalty"]


def test_leaderboard_periods(store: Store) -> None:
    with store.transaction() as tx:
        for member in ("a", "b", "c"):
            tx.observe("g1", member, at("2026-11-20T08:00"))
        tx.grant_points("g1", "a", 50, "old", at("2026-11-20T08:00"))
        tx.grant_points("g1", "b", 20, "today", at("2026-11-24T08:00"))
        tx.grant_points("g1", "c", 5, "today", at("2026-11-24T09:00"))
    with store.transaction() as tx:
        all_time = tx.leaderboard("g1", None, 10)
        today = tx.leaderboard("g1", at("2026-11-24T00:00"), 10)
        top1 = tx.leaderboard("g1", None, 1)
    assert [(r.rank, r.member, r.points) for r in all_time] == [
        (1, "a", 50),
        (2, "b", 20),
        (3, "c", 5),
    ]
    assert [(r.member, r.points) for r in today] == [("b", 20), ("c", 5)]
    assert [r.member for r in top1] == ["a"]


def test_mid_batch_reads_see_the_batch_s_own_writes(store: Store) -> None:
    """A standing or a board in the middle of a batch counts the batch's own check-ins and
    points, which are buffered until something reads them."""
    day = date(2026, 11, 24)
    with store.transaction() as tx:
        for member in ("a", "b"):
            tx.observe("g1", member, at("2026-11-24T08:00"))
            tx.record_interaction("g1", member, "message", at("2026-11-24T08:00"), "签到")
        tx.check_in("g1", "a", day, at("2026-11-24T08:00"), ten)
        tx.grant_points("g1", "a", 10, "checkin", at("2026-11-24T08:00"))
        tx.grant_points("g1", "b", 3, "gift", at("2026-11-24T08:01"))
        standing = tx.standing("g1", "a", day)
        board = tx.leaderboard("g1", at("2026-11-24T00:00"), 10)
    assert (standing.balance, standing.rank, standing.streak, standing.checkins) == (10, 1, 1, 1)
    assert [(r.member, r.points) for r in board] == [("a", 10), ("b", 3)]
    with store.transaction() as tx:
        assert tx._c.execute(select(func.count()).select_from(INTERACTIONS)).scalar_one() == 2


def test_a_failed_savepoint_keeps_the_rest_of_the_batch(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.grant_points("g1", "bob", 100, "lost", at("2026-11-24T08:00"))
            raise RuntimeError("action failed")
        tx.grant_points("g1", "bob", 1, "kept", at("2026-11-24T08:01"))
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 1
        assert tx.standing("g1", "bob", date(2026, 11, 24)).balance == 1


def test_welcome_queue_batches_a_burst_and_survives_reopening(db_url: str) -> None:
    window = timedelta(seconds=30)
    first = Store(db_url)
    with first.transaction() as tx:
        for i, member in enumerate(("a", "b", "c")):
            when = at("2026-11-24T08:00:00") + timedelta(seconds=10 * i)
            tx.observe("g1", member, when)
            tx.record_join("g1", member, when, inviter=None)
            due = tx.queue_welcome("g1", member, "welcome", window)
            assert due == at("2026-11-24T08:00:30")
    first.close()
    reopened = Store(db_url)
    with reopened.transaction() as tx:
        assert tx.next_welcome_due() == at("2026-11-24T08:00:30")
        assert tx.due_welcomes(at("2026-11-24T08:00:29")) == []
        pending = tx.due_welcomes(at("2026-11-24T08:00:30"))
        assert [p.member for p in pending] == ["a", "b", "c"]
        tx.mark_welcomed("g1", ["a", "b", "c"], at("2026-11-24T08:00:30"))
        assert tx.next_welcome_due() is None
    reopened.close()


def test_leaving_before_the_welcome_cancels_it(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "a", at("2026-11-24T08:00"))
        tx.record_join("g1", "a", at("2026-11-24T08:00"), inviter=None)
        tx.queue_welcome("g1", "a", "welcome", timedelta(seconds=30))
        tx.record_leave("g1", "a", at("2026-11-24T08:00:10"))
        assert tx.next_welcome_due() is None
        assert tx.active_members("g1") == 0


def test_reopening_an_existing_database_does_not_touch_data(db_url: str) -> None:
    first = Store(db_url)
    with first.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
        tx.grant_points("g1", "bob", 10, "checkin", at("2026-11-24T08:00"))
    first.close()
    second = Store(db_url)
    with second.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 10
    second.close()


def test_concurrent_check_ins_from_two_processes_count_once(db_url: str) -> None:
    """Two bot processes on one database: the constraint, not Python, decides who was first."""
    import threading

    setup = Store(db_url)
    with setup.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
    setup.close()
    stores = [Store(db_url), Store(db_url)]
    # PostgreSQL: both transactions are open before either inserts, so both see no row and
    # race on the unique constraint. SQLite: BEGIN IMMEDIATE serialises whole transactions,
    # so the race is on who begins first.
    race_inside = stores[0].engine.dialect.name != "sqlite"
    barrier = threading.Barrier(2)
    results = []

    def check_in(store: Store) -> None:
        if not race_inside:
            barrier.wait()
        with store.transaction() as tx:
            if race_inside:
                barrier.wait()
            results.append(
                tx.check_in("g1", "bob", date(2026, 11, 24), at("2026-11-24T08:00"), ten)
            )

    threads = [threading.Thread(target=check_in, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r.new for r in results) == [False, True]
    with stores[0].transaction() as tx:
        assert len(tx._c.execute(select(CHECKINS.c.id)).all()) == 1
    for store in stores:
        store.close()


def test_confirm_sent_is_read_back_exactly(store: Store) -> None:
    from core.effects import Effect

    sent_at = at("2026-11-24T08:00:01.123456")
    with store.transaction() as tx:
        tx.enqueue(
            [Effect("g1", "hi", at("2026-11-24T08:00"), key="broadcast:7@x:g1", broadcast=7)]
        )
        [row] = tx.due_messages(sent_at, 10)
    store.confirm_sent(row.id, sent_at)
    store.fold_sent()
    with store.transaction() as tx:
        [delivery] = tx.deliveries(7)
        assert (delivery.status, delivery.sent_at) == ("sent", sent_at)
        assert tx.due_messages(sent_at, 10) == []
        assert tx.outbox_counts().sent == 1


def test_a_balance_never_goes_below_zero(store: Store) -> None:
    when = at("2026-11-24T08:00")
    with store.transaction() as tx:
        tx.observe("g1", "bob", when)
        assert tx.grant_points("g1", "bob", 5, "gift", when) == 5
        with pytest.raises(InsufficientPoints) as refused:
            tx.grant_points("g1", "bob", -6, "fine", when)
        assert (refused.value.balance, refused.value.delta) == (5, -6)
        assert tx.grant_points("g1", "bob", -5, "fine", when) == 0
    with store.transaction() as tx:
        assert tx.balance("g1", "bob") == tx.ledger_total("g1", "bob") == 0
        assert len(tx._c.execute(select(LEDGER.c.id)).all()) == 2


def test_a_join_starts_a_membership_once_and_a_leave_ends_it_once(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"), present=False)
        assert tx.record_join("g1", "bob", at("2026-11-24T08:00"), None)
        assert not tx.record_join("g1", "bob", at("2026-11-24T08:05"), None)
        assert tx.record_leave("g1", "bob", at("2026-11-24T09:00"))
        assert not tx.record_leave("g1", "bob", at("2026-11-24T09:05"))
        assert tx.active_members("g1") == 0
        tx.observe("g1", "bob", at("2026-11-24T10:00"))  # bob speaks: he is back
        assert tx.active_members("g1") == 1
        assert not tx.record_join("g1", "bob", at("2026-11-24T10:01"), None)


def test_a_member_seen_again_after_leaving_in_an_earlier_batch_is_current(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T08:00"))
    with store.transaction() as tx:
        tx.record_leave("g1", "bob", at("2026-11-24T09:00"))
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-24T09:30"), present=False)  # a leave's own look
        assert tx.active_members("g1") == 0
        tx.observe("g1", "bob", at("2026-11-24T10:00"))
        assert tx.active_members("g1") == 1


def test_day_stats_count_members_who_joined_not_joins(store: Store) -> None:
    with store.transaction() as tx:
        for when, kind in [("08:00", "join"), ("09:00", "leave"), ("10:00", "join")]:
            tx.observe("g1", "bob", at(f"2026-11-24T{when}"), present=False)
            tx.record_interaction("g1", "bob", kind, at(f"2026-11-24T{when}"))
        stats = tx.day_stats(
            "g1", date(2026, 11, 24), at("2026-11-24T00:00"), at("2026-11-25T00:00"), 3
        )
    assert (stats.joins, stats.leaves) == (1, 1)


def test_journaled_marks_outlive_the_process_and_a_torn_line_is_ignored(tmp_path: Path) -> None:
    """A SQLite file's marks wait in ``<db>-sent`` until folded; the next run folds them."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    first = Store(url)
    when = at("2026-11-24T08:00")
    with first.transaction() as tx:
        tx.enqueue([Effect("g1", f"m{n}", when) for n in range(3)])
        ids = [row.id for row in tx.due_messages(when, 10)]
    first.confirm_sent(ids[0], when)
    first.confirm_sent(ids[1], when)
    with first.transaction() as tx:
        assert tx.outbox_counts().sent == 0  # journaled, not folded: the process dies here
    journal = tmp_path / "q.db-sent"
    with journal.open("ab") as torn:
        torn.write(f"{ids[2]} 2026-11-24T08:0".encode())  # killed mid-write
    second = Store(url)
    assert second.fold_sent() == 2
    assert journal.read_bytes() == b""
    with second.transaction() as tx:
        assert [row.effect.text for row in tx.due_messages(when, 10)] == ["m2"]
        assert tx.outbox_counts().sent == 2
    second.close()
    first.close()


def test_a_mark_for_a_message_withdrawn_meanwhile_still_says_sent(store: Store) -> None:
    when = at("2026-11-24T08:00")
    with store.transaction() as tx:
        tx.enqueue([Effect("g1", "hi", when, key="broadcast:3@x:g1", broadcast=3)])
        [row] = tx.due_messages(when, 10)
    store.confirm_sent(row.id, when)
    with store.transaction() as tx:
        tx.withdraw(3)  # the operator cancels while the mark waits in the journal
    store.fold_sent()
    with store.transaction() as tx:
        assert [d.status for d in tx.deliveries(3)] == ["sent"]


def test_rows_of_earlier_events_survive_a_rollback_after_a_mid_event_write(store: Store) -> None:
    """A leaderboard inside an event writes what is pending, the whole batch's rows among
    them; if that event then fails, the earlier events' rows must still be written."""
    when = at("2026-11-24T08:00")
    with store.transaction() as tx:
        with tx.savepoint():
            tx.observe("g1", "bob", when)
            tx.record_interaction("g1", "bob", "message", when, "签到")
            tx.check_in("g1", "bob", date(2026, 11, 24), when, ten)
            tx.grant_points("g1", "bob", 10, "checkin", when)
        with pytest.raises(RuntimeError), tx.savepoint():
            tx.observe("g1", "amy", when)
            tx.check_in("g1", "amy", date(2026, 11, 24), when, ten)
            tx.grant_points("g1", "amy", 10, "checkin", when)
            assert [r.member for r in tx.leaderboard("g1", when, 5)] == ["amy", "bob"]
            raise RuntimeError("the rules failed after the board")
        # The failed check-in's rank is free again; the balances are as before it.
        tx.observe("g1", "cat", when)
        again = tx.check_in("g1", "cat", date(2026, 11, 24), when, ten)
        assert again.rank == 2
        assert tx.balance("g1", "amy") == 0 and tx.balance("g1", "bob") == 10
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 10
        assert tx.ledger_total("g1", "amy") == 0
        assert tx.standing("g1", "bob", date(2026, 11, 24)).balance == 10
        assert [s.messages for s in tx.summaries()] == [1]
        days = tx._c.execute(select(CHECKINS.c.member_id, CHECKINS.c.rank)).all()
        assert sorted(tuple(d) for d in days) == [("bob", 1), ("cat", 2)]


def test_streaks_continue_across_transactions_and_midnight_within_one(store: Store) -> None:
    bonus = CheckinPoints(10, ((2, 5),))
    with store.transaction() as tx:
        tx.observe("g1", "bob", at("2026-11-23T23:59"))
        first = tx.check_in("g1", "bob", date(2026, 11, 23), at("2026-11-23T23:59"), bonus)
        second = tx.check_in("g1", "bob", date(2026, 11, 24), at("2026-11-24T00:01"), bonus)
    with store.transaction() as tx:
        third = tx.check_in("g1", "bob", date(2026, 11, 25), at("2026-11-25T08:00"), bonus)
        repeat = tx.check_in("g1", "bob", date(2026, 11, 25), at("2026-11-25T09:00"), bonus)
        gap = tx.check_in("g1", "bob", date(2026, 11, 27), at("2026-11-27T08:00"), bonus)
    assert [(r.streak, r.points, r.rank) for r in (first, second, third)] == [
        (1, 10, 1),
        (2, 15, 1),
        (3, 10, 1),
    ]
    assert not repeat.new and repeat.streak == 3 and repeat.at == at("2026-11-25T08:00")
    assert gap.streak == 1


def test_a_batch_of_speakers_is_created_in_bulk_without_reviving_former_members(
    store: Store,
) -> None:
    from storage.members import Speaker

    with store.transaction() as tx:
        tx.observe("g1", "gone", at("2026-11-24T07:00"))
        tx.record_leave("g1", "gone", at("2026-11-24T07:30"))
    with store.transaction() as tx:
        tx.expect_speakers(
            [
                Speaker("g1", "new", at("2026-11-24T08:00"), "New", "群"),
                Speaker("g1", "gone", at("2026-11-24T08:00"), "Gone", "群"),
            ]
        )
        assert tx.active_members("g1") == 1  # only the newcomer so far
        assert tx.name_of("new") == "New"
        tx.observe("g1", "gone", at("2026-11-24T08:00"), name="Gone")  # their message
        assert tx.active_members("g1") == 2
