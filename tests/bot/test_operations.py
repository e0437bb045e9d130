"""The operations layer: one role check and one audit trail for chat, CLI and what comes next."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import at, ruleset_from

from bot.cli import main
from bot.dispatcher import Dispatcher
from bot.operations import SYSTEM
from core.actors import Actor, Denied
from core.effects import Effect
from storage.store import Store
from triggers.engine import Engine

CONFIG = "groups: [{id: g1, name: 一群}]\nrules: []\n"


def audit(store: Store) -> list[tuple[str, str, str, str]]:
    with store.transaction() as tx:
        return [(e.actor, e.role, e.action, e.outcome) for e in reversed(tx.audit_log())]


@pytest.mark.parametrize(
    ("role", "action", "outcome"),
    [
        ("member", "broadcast", "refused"),
        ("operator", "broadcast", "ok"),
        ("operator", "grant", "refused"),
        ("admin", "grant", "ok"),
        ("owner", "reload", "ok"),
        (SYSTEM, "reload", "ok"),
    ],
)
def test_roles_are_checked_and_every_attempt_is_audited(
    store: Store, role: str, action: str, outcome: str
) -> None:
    operations = Dispatcher(store, Engine(ruleset_from(CONFIG))).operations
    with store.transaction() as tx:
        try:
            with operations.audited(
                tx, Actor("alice", role, "g1"), action, "detail", at("2026-11-24T08:00")
            ):
                pass
        except Denied as denied:
            assert outcome == "refused" and denied.needed in ("operator", "admin")
    assert audit(store) == [("alice", role, action, outcome)]


def test_a_failure_inside_is_audited_as_an_error_and_raised(store: Store) -> None:
    operations = Dispatcher(store, Engine(ruleset_from(CONFIG))).operations
    with (
        store.transaction() as tx,
        pytest.raises(ValueError, match="boom"),
        operations.audited(tx, Actor("ops", "operator"), "cancel", "#9", at("2026-11-24T08:00")),
    ):
        raise ValueError("boom")
    assert audit(store) == [("ops", "operator", "cancel", "error")]


def test_a_refused_cli_broadcast_is_audited_like_a_chat_one(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    common = ["--config", str(config), "--db", url]
    result = CliRunner().invoke(
        main, ["broadcast", "add", *common, "--groups", "g9", "--text", "hi", "--as", "ops"]
    )
    assert result.exit_code == 2 and "unknown group(s): g9" in result.output
    result = CliRunner().invoke(
        main, ["broadcast", "add", *common, "--groups", "g1", "--text", "hi", "--as", "ops"]
    )
    assert result.exit_code == 0, result.output
    store = Store(url)
    try:
        assert audit(store) == [
            ("ops", "operator", "broadcast", "error"),
            ("ops", "operator", "broadcast", "ok"),
        ]
    finally:
        store.close()


def test_failed_messages_are_listed_and_queued_again_by_an_operator(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = Store(url)
    with store.transaction() as tx:
        tx.enqueue([Effect(group="g1", text=f"第{n}条", at=at("2026-11-24T08:00")) for n in (1, 2)])
        first, second = (row.id for row in tx.due_messages(at("2026-11-24T08:00"), 10))
        tx.mark_failed(first, "PermanentSendError: NOT_FOUND: room gone")
    store.close()
    common = ["--config", str(config), "--db", url]
    listed = CliRunner().invoke(main, ["outbox", "failed", *common])
    assert listed.exit_code == 0 and "room gone" in listed.output and "第1条" in listed.output
    retried = CliRunner().invoke(
        main, ["outbox", "retry", str(first), str(second), *common, "--as", "ops"]
    )
    assert retried.exit_code == 2  # #2 never failed: said so
    assert f"1 message(s) queued again: #{first}" in retried.output
    assert f"not failed messages: {second}" in retried.output
    store = Store(url)
    try:
        with store.transaction() as tx:
            assert tx.failed_messages() == []
            [again, _] = tx.due_messages(at("2026-12-31T00:00"), 10)
        assert (again.id, again.attempts) == (first, 0)
        assert audit(store) == [("ops", "operator", "retry", "ok")]
    finally:
        store.close()


def test_groups_beside_a_running_bot_reads_its_records_and_never_connects(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    store = Store(url)
    with store.transaction() as tx:
        tx.observe("123@chatroom", "bob", at("2026-11-24T08:00"), group_name="产品交流群")
    store.close()
    status = tmp_path / "status.json"
    status.write_text(json.dumps({"state": "logged_in", "pid": os.getpid()}), encoding="utf-8")
    env = {"QUNBOT_STATUS_FILE": str(status), "QUNBOT_DB_URL": url}
    result = CliRunner().invoke(main, ["groups"], env=env)  # no token: it must not connect
    assert result.exit_code == 0, result.output
    assert f"a bot is running here (pid {os.getpid()})" in result.output
    assert "123@chatroom" in result.output and "产品交流群" in result.output
    status.write_text(json.dumps({"state": "stopped", "pid": os.getpid()}), encoding="utf-8")
    stopped = CliRunner().invoke(main, ["groups"], env={**env, "WECHATY_PUPPET_SERVICE_TOKEN": ""})
    assert stopped.exit_code == 1 and "needs a puppet service token" in stopped.output
