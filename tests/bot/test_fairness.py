"""One member flooding cannot monopolise the bot: reply budgets, no repeats, turns in the outbox."""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support import at, message, replay, ruleset_from

from bot.adapters.base import AlwaysOnline
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from core.effects import Effect
from core.events import Event, EventKind
from storage.store import Store
from triggers.engine import Engine

T0 = at("2026-11-24T20:00:00")

CONFIG = """
roles: [{{member: alice, role: admin}}]
sending: {{min_gap: 3s, jitter: 0s, per_minute: 40, login_quiet: 0s,
           member_budget: {budget}, member_window: 1m}}
faq:
  entries:
    - {{id: refund, questions: [怎么申请退款], keywords: [退款], answer: "退款说明"}}
rules:
  - {{name: 复述, when: {{command: [说]}}, do: {{action: reply, text: "收到：{{{{ match.args }}}}"}}}}
  - {{name: 签到, when: {{command: [签到]}}, do: {{action: checkin}}}}
  - {{name: ping, when: {{command: [ping]}}, do: {{action: reply, text: pong}}}}
  - {{name: 答疑, when: {{question: true}}, priority: -10, do: {{action: faq}}}}
"""


class Recorder(AlwaysOnline):
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, Effect]] = []

    async def events(self) -> AsyncIterator[Event]:  # pragma: no cover - never read
        return
        yield

    async def perform(self, effect: Effect) -> None:
        self.sent.append((self.clock.now(), effect))


class ArrivingClock(FakeClock):
    """While the outbox waits for its next slot, the messages due in that time arrive."""

    def __init__(self, arrivals: list[Event], dispatcher: Dispatcher) -> None:
        super().__init__(T0)
        self.arrivals = deque(sorted(arrivals, key=lambda e: e.at))
        self.dispatcher = dispatcher

    async def sleep(self, seconds: float) -> None:
        until = self.now() + timedelta(seconds=max(seconds, 0.0))
        while self.arrivals and self.arrivals[0].at <= until:
            self.arrive()
        self.set(until)
        await asyncio.sleep(0)

    def arrive(self) -> None:
        event = self.arrivals.popleft()
        self.set(max(self.now(), event.at))
        self.dispatcher.process([event])


def said(member: str, text: str, when: datetime) -> Event:
    return Event(EventKind.MESSAGE, "g1", when, member=member, name=member.title(), text=text)


def simulate(store: Store, budget: int, arrivals: list[Event]) -> list[tuple[datetime, Effect]]:
    ruleset = ruleset_from(CONFIG.format(budget=budget))
    dispatcher = Dispatcher(store, Engine(ruleset))
    dispatcher.restore(T0)
    clock = ArrivingClock(arrivals, dispatcher)
    adapter = Recorder(clock)
    pacing = Pacing.from_config(ruleset.config.sending)
    outbox = Outbox(store, adapter, clock, pacing, lambda group: ZoneInfo("Asia/Shanghai"))

    async def run() -> None:
        while True:
            await outbox.send_due()
            if not clock.arrivals:
                return
            clock.arrive()

    asyncio.run(run())
    dispatcher.close()
    return adapter.sent


def flood_and_questions() -> tuple[list[Event], dict[str, datetime]]:
    """The flooder says 600 different things in 60 s; 15 others ask once each meanwhile."""
    flood = [said("spam", f"说 第{i}条", T0 + timedelta(seconds=i / 10)) for i in range(600)]
    asked = {f"m{k:02d}": T0 + timedelta(seconds=1.7 + 3.9 * k) for k in range(15)}
    questions = [
        said(member, "怎么申请退款？" if k % 2 else "ping", when)
        for k, (member, when) in enumerate(asked.items())
    ]
    return flood + questions, asked


@pytest.mark.parametrize("budget", [6, 1_000])
def test_a_flooder_gets_at_most_the_budget_and_everyone_else_is_answered_within_two_slots(
    store: Store, budget: int
) -> None:
    arrivals, asked = flood_and_questions()
    sent = simulate(store, budget, arrivals)
    to_flooder = [effect for _, effect in sent if effect.requester == "spam"]
    assert len(to_flooder) == min(budget, 600)
    for member, when in asked.items():
        [(answered, _)] = [(t, e) for t, e in sent if e.requester == member]
        slots = [t for t, e in sent if when < t < answered]
        assert len(slots) <= 2, (member, when, answered, len(slots))
    gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 3.0  # the account's pace held throughout


def test_the_same_reply_to_the_same_member_goes_out_once_a_window(store: Store) -> None:
    lines = [
        message("2026-11-24T08:00:00", "bob", "签到"),
        message("2026-11-24T08:00:05", "bob", "签到"),
        message("2026-11-24T08:00:10", "bob", "签到"),  # "already checked in" once, not twice
        message("2026-11-24T08:00:20", "bob", "ping"),
        message("2026-11-24T08:00:30", "bob", "ping"),
        message("2026-11-24T08:00:31", "carol", "ping"),  # another member: answered
        message("2026-11-24T08:01:21", "bob", "ping"),  # a minute after bob's first pong
        message("2026-11-24T08:02:00", "alice", "ping"),
        message("2026-11-24T08:02:01", "alice", "ping"),  # staff are not held back
    ]
    out = replay(ruleset_from(CONFIG.format(budget=6)), store, lines)
    who = [(line["text"], line["mentions"]) for line in out.said]
    assert [text for text, _ in who].count("pong") == 5
    assert sum("签到成功" in text for text, _ in who) == 1
    assert sum("已经签到" in text or "已签到" in text for text, _ in who) == 1, who
    with store.transaction() as tx:
        assert tx.balance("g1", "bob") > 0  # what the rules decided still happened


def test_a_budget_spent_in_one_window_is_back_in_the_next(store: Store) -> None:
    lines = [message(f"2026-11-24T08:00:{s:02d}", "bob", f"说 {s}") for s in range(0, 20, 2)]
    lines += [message("2026-11-24T08:01:30", "bob", "说 again")]
    out = replay(ruleset_from(CONFIG.format(budget=3)), store, lines)
    assert out.texts == ["收到：0", "收到：2", "收到：4", "收到：again"]


def test_a_member_over_budget_is_logged_once_a_window_not_once_a_reply(
    store: Store, warnings: list[str]
) -> None:
    lines = [message(f"2026-11-24T08:00:{s:02d}", "bob", f"说 {s}") for s in range(10)]
    lines += [message("2026-11-24T08:01:30", "bob", f"说 第{n}次") for n in range(3)]
    out = replay(ruleset_from(CONFIG.format(budget=2)), store, lines)
    assert out.texts == ["收到：0", "收到：1", "收到：第0次", "收到：第1次"]
    held = [w for w in warnings if "held back" in w]
    assert len(held) == 2, held  # one for each window in which bob went over
    assert "'member': 'bob'" in held[0] and "'group': 'g1'" in held[0]
