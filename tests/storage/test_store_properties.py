"""Store invariants under any sequence of joins, leaves, messages, check-ins and grants.

Driven through the real dispatcher and rules, so the event edge, the membership rules and
the points rule are exercised together: a balance is the sum of its ledger and never
negative, one check-in per member and local day, and the current members are exactly
those whose last word (join, message, leave) said they are in the group.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select
from support import at, make_event, ruleset_from

from bot.dispatcher import Dispatcher
from storage.store import Store
from storage.tables import CHECKINS, MEMBERSHIPS
from triggers.engine import Engine

CONFIG = """
roles: [{member: alice, role: admin}]
rules:
  - {name: checkin, when: {command: [签到]}, do: {action: checkin, points: 3}}
  - {name: ad, when: {keywords: [广告]}, do: {action: points, amount: -5}}
  - {name: grant, when: {command: [/grant]}, do: {action: admin, command: grant}}
"""
MEMBERS = ("alice", "bob", "carol")
TEXTS = ("签到", "簽到！", "广告", "hi\x00", "@bot 签到")


class StoreMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._dir = tempfile.TemporaryDirectory()
        self.store = Store(f"sqlite:///{Path(self._dir.name) / 'qunbot.db'}")
        self.dispatcher = Dispatcher(self.store, Engine(ruleset_from(CONFIG)))
        self.when = at("2026-11-24T07:00:00")
        self.current: set[str] = set()

    def _send(self, kind: str, member: str, text: str = "") -> None:
        self.when += timedelta(hours=5)  # several local days over a run
        event = make_event(kind, when=self.when.isoformat(), member=member, text_=text)
        self.dispatcher.process([event])

    @rule(member=st.sampled_from(MEMBERS))
    def join(self, member: str) -> None:
        self._send("join", member)
        self.current.add(member)

    @rule(member=st.sampled_from(MEMBERS))
    def leave(self, member: str) -> None:
        self._send("leave", member)
        self.current.discard(member)

    @rule(member=st.sampled_from(MEMBERS), text=st.sampled_from(TEXTS))
    def speak(self, member: str, text: str) -> None:
        self._send("message", member, text)
        self.current.add(member)

    @precondition(lambda self: "alice" in self.current)
    @rule(whom=st.sampled_from(MEMBERS), amount=st.integers(-20, 20))
    def grant(self, whom: str, amount: int) -> None:
        self._send("message", "alice", f"/grant {whom} {amount}")

    @invariant()
    def balances_are_their_ledgers_and_never_negative(self) -> None:
        with self.store.transaction() as tx:
            for member in MEMBERS:
                balance = tx.balance("g1", member)
                assert balance == tx.ledger_total("g1", member)
                assert balance >= 0

    @invariant()
    def one_check_in_per_member_and_day(self) -> None:
        with self.store.transaction() as tx:
            per_day = (
                select(func.count())
                .select_from(CHECKINS)
                .group_by(CHECKINS.c.group_id, CHECKINS.c.member_id, CHECKINS.c.day)
            )
            assert all(n == 1 for (n,) in tx._c.execute(per_day))

    @invariant()
    def current_members_are_the_last_word(self) -> None:
        with self.store.transaction() as tx:
            rows = tx._c.execute(
                select(MEMBERSHIPS.c.member_id).where(MEMBERSHIPS.c.left_at.is_(None))
            )
            assert {r[0] for r in rows} == self.current

    def teardown(self) -> None:
        self.store.close()
        self._dir.cleanup()


StoreMachine.TestCase.settings = settings(
    derandomize=True, max_examples=15, stateful_step_count=12, deadline=None
)
test_store_invariants = StoreMachine.TestCase
