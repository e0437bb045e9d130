"""The replay format: events in, JSON lines out; bad lines reported with their number and skipped."""

from __future__ import annotations

import json

from support import at, message, replay, ruleset_from

from bot.adapters.replay import ReplayLineError, parse_line
from core.events import EventKind

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
            message("2026-11-24T08:01:02", "bob", "ping"),  # the same reply: a minute apart
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


def test_invalid_utf8_is_reported_with_its_line_and_skipped(store) -> None:  # type: ignore[no-untyped-def]
    good = message("2026-11-24T08:00:00", "bob", "ping").encode()
    bad = message("2026-11-24T08:00:01", "bob", "pingX").encode().replace(b"X", b"\xff")
    out = replay(ruleset_from(ECHO), store, [good, bad, good.replace(b"08:00:00", b"08:01:02")])
    assert out.texts == ["pong", "pong"]
    assert out.stderr.splitlines() == ["line 2: not UTF-8 (byte 0xff at column 116); skipped"]


def test_a_line_past_the_supported_calendar_is_reported_and_skipped(store) -> None:  # type: ignore[no-untyped-def]
    lines = [
        message("2026-11-24T08:00:00", "bob", "ping"),
        message("9999-12-31T23:59:59.999999+00:00", "bob", "ping"),
    ]
    out = replay(ruleset_from(ECHO), store, lines)
    assert out.texts == ["pong"]
    assert out.stderr.startswith("line 2: 9999-12-31T23:59:59.999999+00:00 is past the last")


MORNING = (
    "groups: [{id: g1}]\n"
    + ECHO
    + """\
  - name: 早报
    when: {schedule: {at: '08:00'}}
    do: {action: briefing, text: "早报 {{ date }}"}
"""
)


def test_output_follows_the_time_the_bot_says_it(store) -> None:  # type: ignore[no-untyped-def]
    lines = [
        message("2026-11-24T07:59:00", "bob", "ping"),
        message("2026-11-24T08:01:00", "bob", "ping"),
        message("2026-11-25T09:00:00", "bob", "ping"),
    ]
    out = replay(ruleset_from(MORNING), store, lines)  # one batch spans both mornings
    assert [(s["at"][:16], s["text"]) for s in out.said] == [
        ("2026-11-24T07:59", "pong"),
        ("2026-11-24T08:00", "早报 2026-11-24"),
        ("2026-11-24T08:01", "pong"),
        ("2026-11-25T08:00", "早报 2026-11-25"),
        ("2026-11-25T09:00", "pong"),
    ]


def test_a_mention_shows_as_at_name_in_the_text_unless_the_text_has_it(store) -> None:  # type: ignore[no-untyped-def]
    config = """
rules:
  - name: mention
    when: {command: [ping]}
    do: {action: reply, text: pong, mention: true}
  - name: named
    when: {command: [hi]}
    do: {action: reply, text: "@{{ member.name }} hello", mention: true}
"""
    lines = [
        message("2026-11-24T08:00:00", "bob", "ping", name="Bob"),
        message("2026-11-24T08:00:01", "bob", "hi", name="Bob"),
    ]
    out = replay(ruleset_from(config), store, lines)
    assert [(s["text"], s["mentions"]) for s in out.said] == [
        ("@Bob pong", ["bob"]),
        ("@Bob hello", ["bob"]),
    ]


def test_a_message_delivered_again_after_a_restart_is_handled_once(store) -> None:  # type: ignore[no-untyped-def]
    ruleset = ruleset_from(
        "rules:\n  - {name: 签到, when: {command: [签到]}, do: {action: reply, text: 收到}}\n"
    )
    first = message("2026-11-24T08:00:00", "bob", "签到", id="wx-1")
    assert replay(ruleset, store, [first]).texts == ["收到"]
    again = message("2026-11-24T08:05:00", "bob", "签到", id="wx-1")  # redelivered
    other = message("2026-11-24T08:06:00", "bob", "签到", id="wx-2")
    assert replay(ruleset, store, [again, other]).texts == ["收到"]  # a fresh bot, same store
    with store.transaction() as tx:
        assert tx.forget_seen_before(at("2026-12-30T00:00:00")) == 2
