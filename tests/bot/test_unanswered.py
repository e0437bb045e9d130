"""The unanswered queue as operators work it: listed by id, answered from the chat or the
CLI, the member @mentioned with their question quoted, every answer audited."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml
from click.testing import CliRunner
from support import message, replay, ruleset_from

from bot.cli import main
from storage.store import Store

CONFIG = """
groups: [{id: g1, name: 一群}, {id: g2, name: 二群}]
roles: [{member: ops, role: operator}]
faq:
  entries:
    - {id: refund, questions: [怎么申请退款], answer: "退款说明"}
rules:
  - {name: 回答, when: {command: [/answer]}, do: {action: admin, command: answer}}
  - {name: 答疑, when: {question: true}, do: {action: faq}}
"""


def test_an_operator_answers_a_queued_question_from_the_chat(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    said = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T10:00", "bob", "周末有线下活动吗？"),
            message("2026-11-24T10:01", "bob", "/answer 1 我自己回答"),  # members may not
            message("2026-11-24T10:02", "ops", "/answer 1", group="g2"),  # no answer given
            message("2026-11-24T10:03", "ops", "/answer 1 不是这个群的", group="g2"),
            message("2026-11-24T10:04", "ops", "/answer #1 周六上午十点，地点见群公告"),
            message("2026-11-24T10:05", "ops", "/answer 1 再答一次"),
        ],
    ).texts
    assert said == [
        "@Bob ⛔ 只有运营及以上可以使用 /answer。",
        "@Ops ❌ 用法：/answer <问题编号> <回答>（编号见 qunbot unanswered list）",
        "@Ops ❌ 本群没有待回答的问题 #1（可能已回答）。",
        "@Bob 关于你问的「周末有线下活动吗？」：周六上午十点，地点见群公告",
        "@Ops ❌ 本群没有待回答的问题 #1（可能已回答）。",
    ]
    with store.transaction() as tx:
        assert tx.unanswered() == []
        outcomes = [(a.actor, a.action, a.outcome) for a in reversed(tx.audit_log())]
    assert outcomes == [
        ("bob", "answer", "refused"),
        ("ops", "answer", "error"),
        ("ops", "answer", "error"),
        ("ops", "answer", "ok"),
        ("ops", "answer", "error"),
    ]
    store.close()


def test_operators_list_and_answer_the_queue_from_the_cli(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    store = Store(db)
    replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T10:00", "bob", "周末有线下活动吗？", name="小鲍"),
            message("2026-11-24T10:05", "amy", "发票多久能开好？", group="g2"),
        ],
    )
    store.close()
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(main, [*args, "--config", str(config), "--db", db])
        return result.exit_code, result.output

    code, out = cli("unanswered", "list")
    rows = [line for line in out.splitlines() if "#" in line]
    assert code == 0 and len(rows) == 2
    assert "#1" in rows[0] and "小鲍 (bob)" in rows[0] and "2026-11-24 10:00 CST" in rows[0]
    code, out = cli("unanswered", "list", "--group", "g2")
    assert "#2" in out and "#1 " not in out
    code, out = cli("unanswered", "answer", "1", "周六上午十点", "--as", "运营小王")
    assert code == 0 and "answered #1 in g1" in out
    assert cli("unanswered", "answer", "1", "again")[0] == 2  # answered already
    assert cli("unanswered", "answer", "9", "nobody asked")[0] == 2
    assert cli("unanswered", "answer", "2", "   ")[0] == 2  # an empty answer
    store = Store(db)
    with store.transaction() as tx:
        (pending,) = tx.due_messages(datetime.now(UTC), 10)
        assert pending.effect.group == "g1" and pending.effect.mentions == ("bob",)
        assert pending.effect.text == "@小鲍 关于你问的「周末有线下活动吗？」：周六上午十点"
        assert [q.id for q in tx.unanswered()] == [2]
        (entry,) = [a for a in tx.audit_log() if a.action == "answer"]
        assert (entry.actor, entry.outcome) == ("运营小王", "ok")
    store.close()


LEARNING = (
    CONFIG
    + """\
  - {name: 学习, when: {command: [/learn]}, do: {action: admin, command: learn}}
"""
)


def learning(lines: list[str], tmp_path: Path) -> list[str]:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        return replay(ruleset_from(LEARNING), store, lines).texts
    finally:
        store.close()


def test_a_question_taught_to_an_entry_is_answered_now_and_next_time(tmp_path: Path) -> None:
    said = learning(
        [
            message("2026-11-24T10:00", "bob", "付错了能原路返回吗？"),
            message("2026-11-24T10:01", "ops", "/learn 1 nope"),
            message("2026-11-24T10:02", "ops", "/learn 1 refund"),
            message("2026-11-24T10:03", "amy", "付错了能原路返回吗？"),  # learned: answered at once
        ],
        tmp_path,
    )
    assert said == [
        "@Ops ❌ FAQ 没有条目 nope（条目见 qunbot faq list）。",
        "@Ops 已学会：以后有人问「付错了能原路返回吗？」，按条目 refund 回答。",
        "@Bob 退款说明",
        "@Amy 退款说明",
    ]
    # The taught question survives a restart: a second run on the same database knows it.
    assert learning([message("2026-11-25T10:00", "cat", "付错了能原路返回吗？")], tmp_path) == [
        "@Cat 退款说明"
    ]


def test_an_answered_question_becomes_a_new_entry_with_that_answer(tmp_path: Path) -> None:
    said = learning(
        [
            message("2026-11-24T10:00", "bob", "周末有线下活动吗？"),
            message("2026-11-24T10:01", "ops", "/learn 1 new"),  # not answered yet
            message("2026-11-24T10:02", "ops", "/answer 1 每周六上午十点，{{ 不是模板 }}"),
            message("2026-11-24T10:03", "ops", "/learn 1 new"),
            message("2026-11-24T10:04", "amy", "周末有线下活动吗"),
            message("2026-11-24T10:05", "bob", "/learn 1 refund"),  # members may not
        ],
        tmp_path,
    )
    assert said == [
        "@Ops ❌ 先用 /answer 1 <回答> 回答它，再 /learn 1 new。",
        "@Bob 关于你问的「周末有线下活动吗？」：每周六上午十点，{{ 不是模板 }}",
        "@Ops 已学会：以后有人问「周末有线下活动吗？」，按条目 learned-1 回答。",
        "@Amy 每周六上午十点，{{ 不是模板 }}",  # the operator's text, never run as a template
        "@Bob ⛔ 只有运营及以上可以使用 /learn。",
    ]


def test_faq_list_shows_what_was_taught_and_faq_learned_exports_it(tmp_path: Path) -> None:
    learning(
        [
            message("2026-11-24T10:00", "bob", "付错了能原路返回吗？"),
            message("2026-11-24T10:01", "ops", "/learn 1 refund"),
            message("2026-11-24T10:02", "bob", "周末有线下活动吗？"),
            message("2026-11-24T10:03", "ops", "/answer 2 每周六上午十点"),
            message("2026-11-24T10:04", "ops", "/learn 2 new"),
        ],
        tmp_path,
    )
    config = tmp_path / "config.yaml"
    config.write_text(LEARNING, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'q.db'}"
    runner = CliRunner()
    listed = runner.invoke(main, ["faq", "list", "--config", str(config), "--db", db]).output
    assert "1 entry, threshold 60, 2 taught" in listed
    assert "  learned:  付错了能原路返回吗？  (by ops, 2026-11-24)" in listed
    assert "learned-2  (taught, not in the config)" in listed
    assert "  answer:   每周六上午十点" in listed
    exported = runner.invoke(main, ["faq", "learned", "--config", str(config), "--db", db])
    assert exported.exit_code == 0
    assert yaml.safe_load(exported.output) == {
        "entries": [
            {"id": "refund", "questions": ["付错了能原路返回吗？"]},
            {"id": "learned-2", "questions": ["周末有线下活动吗？"], "answer": "每周六上午十点"},
        ]
    }
    plain = runner.invoke(main, ["faq", "list", "--config", str(config)]).output
    assert "learned" not in plain  # without --db: the config alone
