""" "Did you mean": a question that came close is offered the closest entries, numbered; the
member's number is answered, once, within the offer's time, across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import at, message, replay, ruleset_from

from storage.store import Store

CONFIG = """
faq:
  suggest_band: %(band)s
  entries:
    - {id: shipping, questions: [下单后多久发货], answer: "48 小时内发货"}
    - {id: tracking, questions: [怎么查物流进度], answer: "订单页点查看物流"}
    - {id: invoice, questions: [怎么开发票], keywords: [发票], answer: "订单页申请开票"}
rules:
  - {name: 签到, when: {command: ["1"]}, do: {action: reply, text: "一号规则"}}
  - {name: 答疑, when: {question: true}, do: {action: faq, text: "问题已记下"}}
"""
OFFER = "@Bob 你是不是想问：\n1. 下单后多久发货\n回复数字，我来回答。"


def play(where: Path | str, lines: list[str], band: int = 25) -> tuple[list[str], Store]:
    store = Store(where if isinstance(where, str) else f"sqlite:///{where / 'q.db'}")
    said = replay(ruleset_from(CONFIG % {"band": band}), store, lines).texts
    return said, store


def test_a_near_miss_is_offered_and_the_number_answers_it(db_url: str) -> None:
    said, store = play(
        db_url,
        [
            message("2026-11-24T10:00:00", "bob", "货发了没"),
            message("2026-11-24T10:00:30", "bob", "１"),  # full width
            message("2026-11-24T10:01:00", "bob", "1"),  # answered already: the rules take it
        ],
    )
    assert said == [OFFER, "@Bob 48 小时内发货", "一号规则"]
    with store.transaction() as tx:
        assert tx.unanswered() == []  # the question the offer answered is closed
        assert tx.open_suggestion("g1", "bob", at("2026-11-24T10:02")) is None
    store.close()


@pytest.mark.parametrize(
    ("reply", "when", "who"),
    [
        ("2", "2026-11-24T10:01", "bob"),  # not a number it offered
        ("1", "2026-11-24T10:11", "bob"),  # the offer lasted ten minutes
        ("1", "2026-11-24T10:01", "amy"),  # not her offer
        ("1 个", "2026-11-24T10:01", "bob"),  # a number with a counter: still a choice
    ],
)
def test_only_the_asker_picks_an_offered_number_in_time(
    tmp_path: Path, reply: str, when: str, who: str
) -> None:
    said, store = play(
        tmp_path, [message("2026-11-24T10:00", "bob", "货发了没"), message(when, who, reply)]
    )
    assert said[0] == OFFER
    if reply == "1 个":
        assert said[1:] == ["@Bob 48 小时内发货"]
    else:  # not a pick: the message goes to the rules like any other ("1" is a command here)
        assert said[1:] == (["一号规则"] if reply == "1" else [])
    store.close()


def test_the_offer_survives_a_restart(tmp_path: Path) -> None:
    said, store = play(tmp_path, [message("2026-11-24T10:00", "bob", "货发了没")])
    store.close()
    again, store = play(tmp_path, [message("2026-11-24T10:05", "bob", "1")])
    assert (said, again) == ([OFFER], ["@Bob 48 小时内发货"])
    store.close()


def test_a_band_of_zero_offers_nothing(tmp_path: Path) -> None:
    said, store = play(tmp_path, [message("2026-11-24T10:00", "bob", "货发了没")], band=0)
    assert said == ["@Bob 问题已记下"]
    store.close()


def test_a_bad_offer_template_is_refused_at_check() -> None:
    from triggers.loader import ConfigError

    config = CONFIG % {"band": 25}
    with pytest.raises(ConfigError, match="suggest_text"):
        ruleset_from(config.replace('text: "问题已记下"', 'suggest_text: "{{ nope }}"'))
