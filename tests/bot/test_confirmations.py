"""Sensitive operations wait for a confirmation: a big points grant is a request until an
admin (the same one, or by config another) approves it, once, before it expires."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import message, replay, ruleset_from

from storage.store import Store

CONFIG = """
groups: [{id: g1, name: 一群}]
roles: [{member: alice, role: admin}, {member: adam, role: admin}, {member: oscar, role: operator}]
confirmations: {points_above: 100, by: %(by)s, expires: 10m}
rules:
  - {name: 加分, when: {command: [/grant]}, do: {action: admin, command: grant}}
  - {name: 批准, when: {command: [/approve]}, do: {action: admin, command: approve}}
"""


def play(tmp_path: Path, lines: list[str], by: str = "self") -> tuple[list[str], Store]:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    said = replay(ruleset_from(CONFIG % {"by": by}), store, lines).texts
    return said, store


def balance(store: Store) -> int:
    with store.transaction() as tx:
        return tx.ledger_total("g1", "bob")


def test_a_small_grant_is_done_and_a_big_one_waits_for_approval(tmp_path: Path) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "bob", "hi"),
            message("2026-11-24T10:01", "alice", "/grant bob 100"),
            message("2026-11-24T10:02", "alice", "/grant bob 500 活动奖励"),
            message("2026-11-24T10:03", "oscar", "/approve 1"),  # operators may not
            message("2026-11-24T10:04", "alice", "/approve 1"),
            message("2026-11-24T10:05", "alice", "/approve 1"),  # done already
        ],
    )
    assert said == [
        "@Alice 已为 Bob 增加 100 积分（管理员调整），现有 100 分。",
        "@Alice ⚠️ 500 积分超过 100，需要确认：请你在 10:12 前发送 /approve 1。",
        "@Oscar ⛔ 只有管理员及以上可以使用 /approve。",
        "@Alice 已为 Bob 增加 500 积分（活动奖励），现有 600 分。",
        "@Alice ❌ 本群没有待确认的请求 #1。",
    ]
    assert balance(store) == 600
    store.close()


def test_another_admin_must_approve_when_the_config_says_so(tmp_path: Path) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "bob", "hi"),
            message("2026-11-24T10:01", "alice", "/grant bob -300 违规"),
            message("2026-11-24T10:02", "alice", "/approve 1"),
            message("2026-11-24T10:03", "adam", "/approve 1"),
        ],
        by="another_admin",
    )
    assert (
        said[0] == "@Alice ⚠️ 300 积分超过 100，需要确认：请另一位管理员在 10:11 前发送 /approve 1。"
    )
    assert said[1] == "@Alice ❌ 请求 #1 需要另一位管理员确认。"
    assert said[2].startswith("@Adam ❌ Bob 现有 0 分，不能扣除 300 分")  # checked when done
    assert balance(store) == 0
    store.close()


@pytest.mark.parametrize("when", ["2026-11-24T10:11", "2026-11-25T09:00"])
def test_a_request_expires(tmp_path: Path, when: str) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "bob", "hi"),
            message("2026-11-24T10:01", "alice", "/grant bob 500"),
            message(when, "alice", "/approve 1"),
        ],
    )
    assert said[-1] == "@Alice ❌ 请求 #1 已过期，请重新发起。"
    assert balance(store) == 0
    store.close()


def test_no_confirmation_when_the_config_says_none(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    config = (CONFIG % {"by": "self"}).replace("points_above: 100", "points_above: null")
    said = replay(
        ruleset_from(config),
        store,
        [
            message("2026-11-24T10:00", "bob", "hi"),
            message("2026-11-24T10:01", "alice", "/grant bob 5000"),
        ],
    ).texts
    assert said == ["@Alice 已为 Bob 增加 5000 积分（管理员调整），现有 5000 分。"]
    store.close()
