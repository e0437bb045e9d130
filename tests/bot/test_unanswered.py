"""The unanswered queue as operators work it: listed by id, answered from the chat or the
CLI, the member @mentioned with their question quoted, every answer audited."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
