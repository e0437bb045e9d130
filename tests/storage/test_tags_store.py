"""Member tags in the store: set again takes the new expiry; expired tags are gone."""

from __future__ import annotations

from datetime import timedelta

from support import at

from storage.store import Store
from storage.tags import TagSource


def test_tags_expire_by_the_callers_clock_and_set_again_takes_the_new_expiry(
    store: Store,
) -> None:
    now = at("2026-11-24T08:00")
    with store.transaction() as tx:
        tx.observe("g1", "bob", now)
        tx.tag("g1", "bob", "意向:瓷砖", TagSource.RULE, now, now + timedelta(days=30), "瓷砖")
        tx.tag("g1", "bob", "VIP", TagSource.ADMIN, now, None, "alice")
        assert tx.tags_of("g1", "bob", now) == ["VIP", "意向:瓷砖"]
        assert tx.tags_of("g1", "bob", now + timedelta(days=30)) == ["VIP"]
        tx.tag("g1", "bob", "意向:瓷砖", TagSource.ADMIN, now, None, "alice")  # for good now
        assert tx.tags_of("g1", "bob", now + timedelta(days=300)) == ["VIP", "意向:瓷砖"]
        rows = tx.tag_rows("g1", now, "意向:瓷砖")
        assert [(r.member, r.source, r.set_by, r.expires_at) for r in rows] == [
            ("bob", TagSource.ADMIN, "alice", None)
        ]
        assert tx.untag("g1", "bob", "VIP") and not tx.untag("g1", "bob", "VIP")
        assert tx.tags_of("g1", "bob", now) == ["意向:瓷砖"]
        assert tx.tags_of("g2", "bob", now) == []  # per group
