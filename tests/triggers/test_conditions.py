"""Conditions: which groups, sender roles, cooldowns per member and per group, hours."""

from __future__ import annotations

from datetime import time

import pytest
from support import make_event, message, replay, ruleset_from

from triggers.conditions import in_window
from triggers.config import Role


def test_hours_window_including_one_that_wraps_midnight() -> None:
    assert in_window(time(8), time(8), time(23))
    assert not in_window(time(23), time(8), time(23))
    assert in_window(time(23, 30), time(22), time(6))
    assert in_window(time(5, 59), time(22), time(6))
    assert not in_window(time(12), time(22), time(6))


CONFIG = """
groups: [{id: g1}, {id: g2}]
roles:
  - {member: alice, role: admin, groups: [g1]}
  - {member: olga, role: owner}
  - {member: oscar, role: operator}
rules:
  - name: admins only
    when: {command: [公告]}
    if: {roles: [admin, owner]}
    do: {action: reply, text: "ok {{ member.id }}"}
  - name: g2 only
    when: {command: [g2]}
    if: {groups: [g2]}
    do: {action: reply, text: g2}
  - name: night
    when: {command: [夜]}
    if: {hours: {from: '22:00', to: '06:00'}}
    do: {action: reply, text: night}
  - name: cool member
    when: {command: [m]}
    if: {cooldown: {member: 60}}
    do: {action: reply, text: "m {{ member.id }}"}
  - name: cool group
    when: {command: [g]}
    if: {cooldown: {group: 5m}}
    do: {action: reply, text: "g {{ member.id }}"}
"""


def test_roles_per_group_and_everywhere() -> None:
    ruleset = ruleset_from(CONFIG)
    assert ruleset.roles.role_of("g1", "alice") is Role.ADMIN
    assert ruleset.roles.role_of("g2", "alice") is Role.MEMBER
    assert ruleset.roles.role_of("g2", "olga") is Role.OWNER
    assert ruleset.roles.role_of("g1", "oscar") is Role.OPERATOR


D = "2026-11-24T"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (
            [
                (D + "08:00:00", "alice", "公告 x"),
                (D + "08:00:01", "bob", "公告 x"),
                (D + "08:00:02", "olga", "公告 x"),
                (D + "08:00:03", "oscar", "公告 x"),
            ],
            ["ok alice", "ok olga"],
        ),
        ([(D + "12:00:00", "bob", "夜"), (D + "23:00:00", "bob", "夜")], ["night"]),
        (
            [
                (D + "08:00:00", "bob", "m"),
                (D + "08:00:30", "bob", "m"),
                (D + "08:00:31", "carol", "m"),
                (D + "08:01:00", "bob", "m"),
            ],
            ["m bob", "m carol", "m bob"],
        ),
        (
            [
                (D + "08:00:00", "bob", "g"),
                (D + "08:04:59", "carol", "g"),
                (D + "08:05:00", "carol", "g"),
            ],
            ["g bob", "g carol"],
        ),
    ],
    ids=["roles", "hours", "member-cooldown", "group-cooldown"],
)
def test_conditions_in_a_conversation(store, lines, expected) -> None:  # type: ignore[no-untyped-def]
    transcript = [message(when, who, text) for when, who, text in lines]
    out = replay(ruleset_from(CONFIG), store, transcript)
    assert out.texts == expected


def test_group_condition(store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "bob", "g2"),
            message("2026-11-24T08:00:01", "bob", "g2", group="g2"),
        ],
    )
    assert out.said == [
        {"at": "2026-11-24T08:00:01+08:00", "group": "g2", "text": "g2", "mentions": []}
    ]


def test_make_event_defaults_are_shanghai() -> None:
    assert make_event().at.utcoffset().total_seconds() == 8 * 3600  # type: ignore[union-attr]
