"""The per-member counts behind system tags, alerts and reports, on both backends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from storage.points import CheckinPoints
from storage.store import Store

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
# More FAQ rules than one read's IN list holds: the counts of both reads add up.
RULES = [f"faq{i:03d}" for i in range(150)]


def test_questions_are_counted_per_member_across_every_faq_rule(store: Store) -> None:
    with store.transaction() as tx:
        tx.observe("g1", "amy", T0)
        tx.observe("g1", "bob", T0)
        for n, rule in enumerate(RULES):
            tx.record_interaction("g1", "amy", "message", T0 + timedelta(minutes=n), "?", rule)
        tx.record_interaction("g1", "bob", "message", T0, "?", RULES[-1])
        tx.record_interaction("g1", "bob", "message", T0, "hi", "greeting")  # not an FAQ rule
        tx.record_interaction("g1", "bob", "message", T0 - timedelta(days=1), "?", RULES[0])
    with store.transaction() as tx:
        asked = tx.questions_asked("g1", T0, T0 + timedelta(days=1), RULES)
        assert asked == {"amy": 150, "bob": 1}
        assert tx.questions_asked("g1", T0, T0 + timedelta(days=1), RULES[:1]) == {"amy": 1}
        assert tx.questions_asked("g1", T0, T0 + timedelta(days=1), []) == {}
        assert tx.questions_asked("g2", T0, T0 + timedelta(days=1), RULES) == {}


def test_streaks_weeks_and_invitations_are_counted_in_their_windows(store: Store) -> None:
    points = CheckinPoints(base=1)
    with store.transaction() as tx:
        for member in ("amy", "bob", "cat"):
            tx.observe("g1", member, T0)
        for offset in range(3):  # amy: the 2nd, 3rd and 4th of November
            at = T0 + timedelta(days=offset)
            tx.check_in("g1", "amy", at.date(), at, points)
        tx.check_in("g1", "bob", T0.date(), T0, points)
        tx.record_join("g1", "cat", T0 + timedelta(hours=1), "amy")
        now = T0 + timedelta(days=21)
        for days_ago, count in ((1, 2), (10, 1), (20, 3)):  # this week, last week, before
            for _ in range(count):
                tx.record_interaction("g1", "bob", "message", now - timedelta(days=days_ago))
        tx.record_interaction("g1", "bob", "join", now - timedelta(days=1))  # not activity
    with store.transaction() as tx:
        assert tx.running_streaks("g1", date(2026, 11, 1)) == {"amy": 3, "bob": 1}
        assert tx.running_streaks("g1", date(2026, 11, 1), date(2026, 11, 3)) == {
            "amy": 2,
            "bob": 1,
        }
        assert tx.running_streaks("g1", date(2026, 11, 3)) == {"amy": 3}
        assert tx.members_invited("g1", T0, T0 + timedelta(days=1)) == {"amy": 1}
        assert tx.members_invited("g1", T0 + timedelta(hours=2), now) == {}
        assert tx.weekly_activity("g1", now, weeks=4)["bob"] == (2, 1, 3)
