"""Rule order and the stop rule: the first rule that fires stops the search unless it says
``continue``; a rule whose conditions fail lets the next candidate try."""

from __future__ import annotations

from support import message, replay, ruleset_from

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
