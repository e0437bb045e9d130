"""Member tags in the store: set again takes the new expiry; expired tags are gone."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from support import at, store_with_members

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


MEMBERS = ("bob", "amy", "cat")
TAGS = ("VIP", "新人", "意向:瓷砖")
tag_steps = st.lists(
    st.tuples(
        st.sampled_from(["tag", "untag", "ask", "fail", "erase"]),
        st.sampled_from(MEMBERS),
        st.sampled_from(TAGS),
        st.integers(0, 5),  # hours: the clock asked at, or the tag's lifetime (0: for good)
    ),
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(script=tag_steps)
def test_tags_read_for_the_batch_agree_with_the_table(
    script: list[tuple[str, str, str, int]],
) -> None:
    """The batch's tag reads (read ahead for its speakers, kept for the batch) see every
    tag set, removed, rolled back or erased before them in the same transaction."""
    now = at("2026-11-24T08:00")
    with store_with_members(MEMBERS, now) as store, store.transaction() as tx:
        tx.expect_tags(("g1", m) for m in MEMBERS)
        for op, member, tag, hours in script:
            if op == "tag":
                until = now + timedelta(hours=hours) if hours else None
                tx.tag("g1", member, tag, TagSource.ADMIN, now, until)
            elif op == "untag":
                tx.untag("g1", member, tag)
            elif op == "erase":
                tx.erase_member(member, now)
            elif op == "fail":
                with contextlib.suppress(RuntimeError), tx.savepoint():
                    tx.tag("g1", member, tag, TagSource.ADMIN, now)
                    tx.tags_of("g1", member, now)
                    raise RuntimeError
            else:
                when = now + timedelta(hours=hours)
                table = sorted(r.tag for r in tx.tag_rows("g1", when) if r.member == member)
                assert tx.tags_of("g1", member, when) == table, (member, when)


def test_an_erased_members_tags_are_gone_for_the_rest_of_the_batch(store: Store) -> None:
    now = at("2026-11-24T08:00")
    with store.transaction() as tx:
        tx.observe("g1", "bob", now)
    with store.transaction() as tx:
        tx.tag("g1", "bob", "VIP", TagSource.ADMIN, now)
        assert tx.tags_of("g1", "bob", now) == ["VIP"]
        tx.erase_member("bob", now)
        assert tx.tags_of("g1", "bob", now) == []
