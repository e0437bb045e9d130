"""Roles handed out for a while: granted, used, expired by the clock, refused above one's own
role, revoked, kept across a restart, and every step in the audit log."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support import message, replay, ruleset_from

from bot.cli import main
from storage.store import Store

CONFIG = """
groups: [{id: g1, name: 一群}]
roles: [{member: alice, role: admin}]
rules:
  - {name: 角色, when: {command: [/role]}, do: {action: admin, command: role}}
  - {name: 打标签, when: {command: [/tag]}, do: {action: admin, command: tag}}
"""


def play(db: str, lines: list[str]) -> list[str]:
    store = Store(db)
    try:
        return replay(ruleset_from(CONFIG), store, lines).texts
    finally:
        store.close()


def audit(db: str) -> list[tuple[str, str, str, str]]:
    store = Store(db)
    try:
        with store.transaction() as tx:
            return [(a.actor, a.action, a.outcome, a.detail) for a in reversed(tx.audit_log())]
    finally:
        store.close()


def test_a_grant_is_used_then_expires_by_the_clock_and_every_step_is_audited(
    db_url: str,
) -> None:
    said = play(
        db_url,
        [
            message("2026-11-24T10:00", "carol", "大家好"),
            message("2026-11-24T10:00:30", "bob", "/tag carol VIP"),  # not yet an operator
            message("2026-11-24T10:01", "alice", "/role @bob operator 2h"),
            message("2026-11-24T10:02", "bob", "/tag carol VIP"),
            message("2026-11-24T12:00:30", "bob", "/tag carol 老客户"),  # expired at 12:01
            message("2026-11-24T12:01:30", "bob", "/tag carol 老客户"),
        ],
    )
    assert said == [
        "@Bob ⛔ 只有运营及以上可以使用 /tag。",
        "@Alice 已授予 Bob 本群运营角色，11-24 12:01 到期。",
        "@Bob 已为 Carol 加上标签 VIP。",
        "@Bob 已为 Carol 加上标签 老客户。",
        "@Bob ⛔ 只有运营及以上可以使用 /tag。",
    ]
    records = audit(db_url)
    assert records[1][:3] == ("alice", "role", "ok")
    assert records[2][:3] == ("bob", "tag", "ok")
    assert records[2][3] == "carol VIP [operator granted by alice until 11-24 12:01]"
    expired = [r for r in records if r[1] == "role.expired"]
    assert expired == [("system", "role.expired", "ok", "bob operator (granted by alice)")]
    # After a restart the grant is still known as ended: nothing audited twice.
    play(db_url, [message("2026-11-25T09:00", "carol", "早")])
    assert [r for r in audit(db_url) if r[1] == "role.expired"] == expired


def test_no_grant_above_ones_own_role_and_members_cannot_grant(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    said = play(
        db,
        [
            message("2026-11-24T10:00", "bob", "hi"),
            message("2026-11-24T10:01", "alice", "/role @bob owner 2h"),
            message("2026-11-24T10:02", "bob", "/role @bob admin 2h"),
            message("2026-11-24T10:03", "alice", "/role @bob admin"),  # no duration
            message("2026-11-24T10:04", "alice", "/role @bob admin 200d"),  # too long
        ],
    )
    assert said == [
        "@Alice ❌ 不能授予比自己（管理员）更高的角色。",
        "@Bob ⛔ 只有管理员及以上可以使用 /role。",
        "@Alice ❌ 用法：/role <@成员|成员id> <operator|admin> <时长，如 2h>；"
        "/role <@成员|成员id> revoke",
        "@Alice ❌ a grant lasts more than 0 and at most 90 days",
    ]


def test_a_revoked_grant_ends_at_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    said = play(
        db,
        [
            message("2026-11-24T10:00", "carol", "大家好"),
            message("2026-11-24T10:01", "alice", "/role bob operator 1d"),
            message("2026-11-24T10:01:30", "bob", "来了"),
            message("2026-11-24T10:02", "alice", "/role bob operator 1d"),
            message("2026-11-24T10:03", "alice", "/role @bob revoke"),
            message("2026-11-24T10:04", "bob", "/tag carol VIP"),
            message("2026-11-24T10:05", "alice", "/role @bob revoke"),
        ],
    )
    assert said[-3:] == [
        "@Alice 已收回 Bob 在本群的临时角色。",
        "@Bob ⛔ 只有运营及以上可以使用 /tag。",
        "@Alice ❌ Bob 在本群没有临时角色。",
    ]


def test_the_cli_grants_lists_and_revokes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    play(db, [message("2026-11-24T10:00", "bob", "hi")])
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, ["role", *args, "--config", str(config), "--db", db])
        return result.exit_code, result.output

    code, out = cli("grant", "bob", "operator", "--for", "2h", "--group", "g1", "--as", "boss")
    assert code == 0 and out.startswith("bob is operator in g1 until ")
    code, out = cli("list")
    assert "bob" in out and "operator" in out and "boss" in out
    assert cli("grant", "bob", "member", "--for", "2h")[0] == 2  # not a role to grant
    assert cli("grant", "bob", "admin", "--for", "0")[0] == 2
    assert cli("grant", "bob", "admin", "--for", "soon")[0] == 2
    code, out = cli("revoke", "bob")
    assert code == 0 and out.strip() == "revoked 1 grant(s) of bob"
    assert cli("list")[1].strip() == "no grants running"
    assert "bob" in cli("list", "--all")[1]
    actions = [(actor, action, outcome) for actor, action, outcome, _ in audit(db)]
    assert actions[0] == ("boss", "role", "ok")
    assert actions[1][1:] == ("unrole", "ok") and actions[1][0].startswith("cli:")
    assert len(actions) == 2
