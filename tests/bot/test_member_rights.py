"""A member's data exported and erased: every table that holds a member's id is covered
(the schema is read, so a new one cannot be missed), and erasure leaves no trace of them
while group totals and other members' points stay as they were."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select, text, update
from sqlmodel import SQLModel
from support import join, message, replay, ruleset_from

import storage.models  # noqa: F401 - every table registered
from bot.cli import main
from storage.member_data import MEMBER_COLUMNS
from storage.store import Store
from storage.tables import PENDING

# A column holds a member's id when it points at members.id or is named like one.
_MEMBERISH = re.compile(r"member|inviter|requester|mentions|actor|_by$|^subject$")

CONFIG = """
groups: [{id: g1, name: 一群}]
roles: [{member: alice, role: admin}]
faq:
  entries: [{id: refund, questions: [怎么申请退款], answer: 退款说明}]
rules:
  - {name: 广告, when: {detect: [link]}, priority: 90, do: {action: moderate, reason: 禁止广告}}
  - {name: 签到, when: {command: [签到]}, do: {action: checkin, points: 10}}
  - {name: 打标签, when: {command: [/tag]}, do: {action: admin, command: tag}}
  - {name: 加分, when: {command: [/grant]}, do: {action: admin, command: grant}}
  - {name: 角色, when: {command: [/role]}, do: {action: admin, command: role}}
  - {name: 答疑, when: {question: true}, do: {action: faq}}
"""
SECRET_TEXTS = ("我家住在幸福路 8 号", "周末有线下活动吗？", "www.bobshop.com")


def test_every_column_that_holds_a_member_is_covered_by_export_and_erasure() -> None:
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            points_at_members = any(
                fk.target_fullname == "members.id" for fk in column.foreign_keys
            )
            if points_at_members or _MEMBERISH.search(column.name):
                assert column.name in MEMBER_COLUMNS.get(table.name, ()), (
                    f"{table.name}.{column.name} holds a member: add it to MEMBER_COLUMNS"
                )
    for name, columns in MEMBER_COLUMNS.items():
        assert set(columns) <= set(SQLModel.metadata.tables[name].columns.keys()), name


def populate(db: str) -> None:
    lines = [
        message("2026-11-24T09:00", "alice", "大家好"),
        join("2026-11-24T09:01", "bob", inviter="alice"),
        message("2026-11-24T09:02", "bob", "签到", name="Bob"),
        message("2026-11-24T09:03", "bob", SECRET_TEXTS[0], name="Bob"),
        message("2026-11-24T09:04", "bob", SECRET_TEXTS[1], name="Bob"),
        message("2026-11-24T09:05", "bob", f"看看 {SECRET_TEXTS[2]}", name="Bob"),
        message("2026-11-24T09:06", "alice", "/tag bob 老客户"),
        message("2026-11-24T09:07", "alice", "/grant bob 5 帮忙"),
        message("2026-11-24T09:08", "alice", "/role bob operator 1d"),
        message("2026-11-24T09:09", "alice", "签到"),
        message("2026-11-24T09:10", "carol", "签到"),
    ]
    store = Store(db)
    try:
        replay(ruleset_from(CONFIG), store, lines)
    finally:
        store.close()


def cli(
    db: str, tmp_path: Path, *args: str, input_: str | None = None, rules: str = CONFIG
) -> tuple[int, str]:
    config = tmp_path / "config.yaml"
    config.write_text(rules, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["member", *args, "--config", str(config), "--db", db], input=input_
    )
    return result.exit_code, result.output


def dump(db: str) -> str:
    """Every value of every table, as text: what a look at the raw database would show."""
    store = Store(db)
    try:
        with store.engine.connect() as c:
            return "\n".join(
                repr(tuple(row))
                for table in SQLModel.metadata.sorted_tables
                for row in c.execute(select(table))
            )
    finally:
        store.close()


def totals(db: str) -> tuple[object, ...]:
    store = Store(db)
    try:
        with store.engine.connect() as c:
            return tuple(
                c.execute(text(sql)).scalar_one()
                for sql in (
                    "SELECT count(*) FROM interactions",
                    "SELECT sum(delta) FROM points_ledger",
                    "SELECT sum(points) FROM memberships",
                    "SELECT count(*) FROM checkins",
                    "SELECT sum(delta) FROM points_ledger WHERE member_id = 'alice'",
                )
            )
    finally:
        store.close()


def test_export_holds_everything_about_the_member(db_url: str, tmp_path: Path) -> None:
    populate(db_url)
    out = tmp_path / "bob.json"
    code, said = cli(db_url, tmp_path, "export", "bob", "--out", str(out), "--as", "dpo")
    written = re.match(r"(\d+) row\(s\) about bob written to ", said)
    assert code == 0 and written is not None and int(written.group(1)) >= 10
    exported = json.loads(out.read_text(encoding="utf-8"))
    tables = exported["tables"]
    assert set(tables) >= {
        "members",
        "memberships",
        "interactions",
        "checkins",
        "points_ledger",
        "unanswered_questions",
        "member_tags",
        "strikes",
        "role_grants",
        "outbox",
    }
    texts = [row["text"] for row in tables["interactions"]]
    assert SECRET_TEXTS[0] in texts and SECRET_TEXTS[1] in texts
    assert tables["memberships"][0]["inviter_id"] == "alice"
    assert cli(db_url, tmp_path, "export", "nobody")[0] == 2


def test_erasure_leaves_no_trace_and_keeps_the_totals(db_url: str, tmp_path: Path) -> None:
    populate(db_url)
    before = totals(db_url)
    assert "bob" in dump(db_url)
    code, said = cli(db_url, tmp_path, "delete", "bob", input_="n\n")
    assert code == 1 and "Aborted" in said  # asked first; nothing done
    assert "'bob'" in dump(db_url)
    code, said = cli(db_url, tmp_path, "delete", "bob", "--yes", "--as", "dpo")
    assert code == 0 and said.startswith("erased: bob is deleted-")
    raw = dump(db_url)
    assert not re.search(r"\bbob\b", raw) and "Bob" not in raw
    for secret in SECRET_TEXTS:
        assert secret not in raw
    assert totals(db_url) == before
    assert cli(db_url, tmp_path, "delete", "bob", "--yes")[0] == 2  # nothing left of them
    store = Store(db_url)
    with store.transaction() as tx:
        (entry,) = [a for a in tx.audit_log() if a.action == "member.delete"]
    store.close()
    assert entry.actor == "dpo" and entry.detail.startswith("deleted-")


def test_with_another_admin_export_and_erasure_wait_for_a_second_operator(
    db_url: str, tmp_path: Path
) -> None:
    populate(db_url)
    strict = CONFIG + "confirmations: {member_data: another_admin, expires: 10m}\n"

    def run(*args: str) -> tuple[int, str]:
        return cli(db_url, tmp_path, *args, rules=strict)

    code, said = run("delete", "bob", "--as", "dpo")
    asked = re.search(r"request #(\d+)", said)
    assert code == 0 and asked is not None and "qunbot member approve" in said
    number = asked.group(1)
    assert "'bob'" in dump(db_url)  # only asked: nothing erased
    code, said = run("approve", number, "--as", "dpo")
    assert code == 2 and "another operator" in said  # not by the one who asked
    code, said = run("approve", number, "--as", "auditor")
    assert code == 0 and said.startswith("erased: bob is deleted-")
    assert "Bob" not in dump(db_url)
    assert run("approve", number, "--as", "third")[0] == 2  # done once

    code, said = run("export", "carol", "--as", "dpo")
    asked = re.search(r"request #(\d+)", said)
    assert code == 0 and asked is not None and '"tables"' not in said  # nothing read out yet
    store = Store(db_url)
    try:  # ten minutes pass
        with store.transaction() as tx:
            tx._execute(update(PENDING).values(expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
        with store.transaction() as tx:
            actions = [a.action for a in tx.audit_log()]
    finally:
        store.close()
    code, said = run("approve", asked.group(1), "--as", "auditor")
    assert code == 2 and "expired" in said
    assert actions.count("member.request") == 2 and "approve" in actions
    assert actions.count("member.delete") == 1 and "member.export" not in actions
