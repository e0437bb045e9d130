"""``qunbot faq list`` and ``qunbot faq test``: what admins see when they tune the FAQ."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from support import SAMPLE_CONFIG, ruleset_from

from bot.cli import main

CONFIG = """
faq:
  threshold: 60
  entries:
    - {id: refund, questions: [怎么申请退款], keywords: [退款], answer: "退款说明"}
    - {id: invoice, questions: [怎么开发票, 可以开发票吗], keywords: [发票], answer: "发票说明"}
    - {id: shipping, questions: [多久发货], answer: "发货说明"}
"""


def faq(*args: str, config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["faq", *args, "--config", str(config)])
    return result.exit_code, result.output


def write(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_list_shows_every_entry_with_what_finds_it(tmp_path: Path) -> None:
    code, out = faq("list", config=write(tmp_path))
    assert code == 0
    assert out.startswith("3 entries, threshold 60\n")
    assert "invoice\n  question: 怎么开发票\n  question: 可以开发票吗\n  keywords: 发票\n" in out
    assert "shipping\n  question: 多久发货\n  answer:   发货说明" in out


def test_a_reworded_question_is_answered_and_says_with_what(tmp_path: Path) -> None:
    code, out = faq("test", "请问怎么申请退款呀？", config=write(tmp_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "reads as a question: yes"
    assert (
        lines[1].startswith("1. refund  score ") and "(answers; matched '怎么申请退款')" in lines[1]
    )
    assert lines[-1] == "threshold 60: answered with 'refund'"


def test_a_near_miss_is_queued_and_chatter_is_ignored(tmp_path: Path) -> None:
    config = write(tmp_path)
    code, out = faq("test", "能开专票不", config=config)  # 专票 is a 发票: answered
    assert code == 0 and out.splitlines()[-1] == "threshold 60: answered with 'invoice'"
    code, out = faq("test", "发货地址能改吗", config=config)
    assert code == 0 and "below the threshold" in out
    assert (
        out.splitlines()[-1]
        == "threshold 60: not answered: a question, so the faq rule queues it as unanswered"
    )
    code, out = faq("test", "今天天气不错", config=config)
    assert out.splitlines()[0] == "reads as a question: no"
    assert out.splitlines()[-1] == "threshold 60: not answered, and not a question: ignored"


def test_candidates_are_best_first_and_as_many_as_asked() -> None:
    ruleset = ruleset_from(CONFIG)
    hits = ruleset.faq.candidates("怎么开发票，退款多久", 3)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert {hit.key for hit in hits} >= {"invoice", "refund"}
    assert len(ruleset.faq.candidates("怎么开发票，退款多久", 1)) == 1
    best = ruleset.faq.search("怎么开发票，退款多久", 0)
    assert best is not None and best.key == hits[0].key  # the same ranking as the bot's


def test_a_bad_config_is_one_clear_error(tmp_path: Path) -> None:
    code, out = faq("list", config=write(tmp_path, "faq: {threshold: 200}\n"))
    assert code == 2
    assert "threshold" in out


def test_the_sample_config_lists() -> None:
    code, out = faq("list", config=SAMPLE_CONFIG)
    assert code == 0 and "refund" in out
