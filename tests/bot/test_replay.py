"""The replay format: events in, JSON lines out; bad lines reported with their number and skipped."""

from __future__ import annotations

import json

from support import message, replay, ruleset_from

from bot.adapters.replay import ReplayLineError, parse_line
from bot.events import EventKind

ECHO = "rules:\n  - name: echo\n    when: {command: [ping]}\n    do: {action: reply, text: pong}\n"


def test_parse_each_kind() -> None:
    msg = parse_line(
        '{"at": "2026-11-24T08:00:05+08:00", "kind": "message", "group": "g1", '
        '"sender": "alice", "name": "Alice", "text": "签到", "group_name": "群"}'
    )
    assert (msg.kind, msg.member, msg.name, msg.text, msg.group_name) == (
        EventKind.MESSAGE,
        "alice",
        "Alice",
        "签到",
        "群",
    )
    joined = parse_line(
        '{"at": "2026-11-24T08:00:05+08:00", "kind": "join", "group": "g1", '
        '"member": "bob", "name": "Bob", "inviter": "alice"}'
    )
    assert (joined.kind, joined.member, joined.inviter) == (EventKind.JOIN, "bob", "alice")
    left = parse_line(
        '{"at": "2026-11-24T08:00:05+08:00", "kind": "leave", "group": "g1", "member": "bob"}'
    )
    assert (left.kind, left.member) == (EventKind.LEAVE, "bob")


def test_bad_lines_say_what_is_wrong() -> None:
    cases = {
        "not json": "Invalid JSON",
        '{"at": "2026-11-24T08:00:05", "kind": "message", "group": "g1", "sender": "a", "text": "x"}': "timezone",
        '{"at": "2026-11-24T08:00:05+08:00", "kind": "shout", "group": "g1"}': "kind",
        '{"at": "2026-11-24T08:00:05+08:00", "kind": "message", "group": "g1", "text": "x"}': "sender",
        '{"at": "2026-11-24T08:00:05+08:00", "kind": "join", "group": "g1", "member": "b", "colour": 1}': "colour",
    }
    for line, fragment in cases.items():
        try:
            parse_line(line)
        except ReplayLineError as error:
            assert fragment.lower() in str(error).lower(), (line, str(error))
        else:
            raise AssertionError(f"accepted: {line}")


def test_a_bad_line_is_reported_with_its_number_and_the_run_goes_on(store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        ruleset_from(ECHO),
        store,
        [
            message("2026-11-24T08:00:00", "bob", "ping"),
            "{broken",
            "",
            message("2026-11-24T07:00:00", "bob", "ping"),
            message("2026-11-24T08:00:02", "bob", "ping"),
        ],
    )
    assert out.texts == ["pong", "pong"]
    complaints = out.stderr.splitlines()
    assert complaints[0].startswith("line 2: ") and complaints[0].endswith("; skipped")
    assert complaints[1].startswith("line 4: time goes backwards")
    assert len(complaints) == 2


def test_output_lines_are_json_in_order_with_the_fixed_keys(store) -> None:  # type: ignore[no-untyped-def]
    out = replay(ruleset_from(ECHO), store, [message("2026-11-24T08:00:00", "bob", "ping")])
    assert out.said == [
        {"at": "2026-11-24T08:00:00+08:00", "group": "g1", "text": "pong", "mentions": []}
    ]
    assert set(json.loads(json.dumps(out.said[0]))) == {"at", "group", "text", "mentions"}
