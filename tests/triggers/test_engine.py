"""Rule order and the stop rule: the first rule that fires stops the search unless it says
``continue``; a rule whose conditions fail lets the next candidate try. And what the engine
reads ahead for a batch's rules."""

from __future__ import annotations

from typing import Any

import pytest
from support import message, replay, ruleset_from

from storage.points import _Q_BALANCES_OF
from storage.store import Store, StoreTx

CONFIG = """
roles: [{member: alice, role: admin}]
rules:
  - name: vip
    when: {keywords: [hello]}
    if: {roles: [admin]}
    priority: 10
    do: {action: reply, text: "hello boss"}
  - name: log
    when: {keywords: [hello]}
    priority: 5
    continue: true
    do: {action: points, amount: 1, text: "+1"}
  - name: greet
    when: {keywords: [hello]}
    do: {action: reply, text: "hello"}
  - name: never
    when: {keywords: [hello]}
    do: {action: reply, text: "unreachable"}
  - name: two actions
    when: {command: [both]}
    do:
      - {action: reply, text: "one"}
      - {action: reply, text: "two"}
"""


def test_first_firing_rule_stops_unless_it_continues(store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "alice", "hello"),
            message("2026-11-24T08:00:01", "bob", "hello"),
            message("2026-11-24T08:00:02", "bob", "both"),
        ],
    )
    assert out.texts == ["hello boss", "@Bob +1", "hello", "one", "two"]
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 1
        assert tx.ledger_total("g1", "alice") == 0


def test_reply_mentions_the_sender_only_when_asked(store) -> None:  # type: ignore[no-untyped-def]
    ruleset = ruleset_from(
        "rules:\n"
        "  - {name: a, when: {command: [a]}, do: {action: reply, text: A}}\n"
        "  - {name: b, when: {command: [b]}, do: {action: reply, text: B, mention: true}}\n"
    )
    out = replay(
        ruleset,
        store,
        [message("2026-11-24T08:00:00", "bob", "a"), message("2026-11-24T08:00:01", "bob", "b")],
    )
    assert [line["mentions"] for line in out.said] == [[], ["bob"]]


POINTS = """
rules:
  - {name: 签到, when: {command: [签到]}, do: {action: checkin}}
  - {name: 积分, when: {command: [积分]}, do: {action: my_points}}
  - {name: 天气, when: {keywords: [天气]}, do: {action: reply, text: 晴}}
"""


def test_a_batch_reads_ahead_the_points_of_those_whose_rules_need_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read for the batch's check-in and points askers, none for the rest: chatter
    and a plain reply need no balance."""
    ruleset = ruleset_from(POINTS)
    people = ["amy", "bob", "cat", "dan"]
    replay(ruleset, store, [message("2026-11-23T09:00", m, "大家好") for m in people])
    reads: list[int] = []
    run_for_pairs = StoreTx._run_for_pairs

    def counted(self: StoreTx, statement: Any, pairs: Any, **values: Any) -> Any:
        if statement is _Q_BALANCES_OF:
            reads.append(len(pairs))
        return run_for_pairs(self, statement, pairs, **values)

    monkeypatch.setattr(StoreTx, "_run_for_pairs", counted)
    texts = ["你好", "签到", "积分", "天气不错"]
    batch = [message("2026-11-24T09:00", m, t) for m, t in zip(people, texts, strict=True)]
    out = replay(ruleset, store, batch)
    assert [s["text"] for s in out.said][-1] == "晴"
    assert reads == [2]  # bob's and cat's, together
