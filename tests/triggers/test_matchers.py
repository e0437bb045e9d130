"""Each message trigger kind, and the order in which candidates come out."""

from __future__ import annotations

import pytest
from support import message, replay, ruleset_from

from storage.store import Store
from triggers.faq_catalog import FaqCatalog
from triggers.matchers import MEMO_MAX_CHARS
from triggers.ruleset import RuleSet


def rules(body: str, faq: str = "") -> RuleSet:
    return ruleset_from(faq + "rules:\n" + body)


def fired(ruleset: RuleSet, text: str) -> list[str]:
    return [ruleset.rules[i].name for i, _ in ruleset.matcher.candidates(text)]


REPLY = "    do: {action: reply, text: x}\n"


def test_command_matches_the_first_word_and_hands_over_the_rest() -> None:
    ruleset = rules("  - name: board\n    when: {command: [排行榜, rank]}\n" + REPLY)
    assert ruleset.matcher.candidates("排行榜　本周")[0][1].args == "本周"
    assert ruleset.matcher.candidates("RANK week")[0][1].args == "week"
    assert fired(ruleset, "看看排行榜") == []
    assert fired(ruleset, "排行榜") == ["board"]


def test_command_arguments_keep_the_members_original_text() -> None:
    ruleset = rules("  - name: say\n    when: {command: [公告]}\n" + REPLY)
    assert ruleset.matcher.candidates("公告 今晚：直播，ＡＢＣ")[0][1].args == "今晚：直播，ＡＢＣ"


def test_keywords_any_and_all() -> None:
    ruleset = rules(
        "  - name: any\n    when: {keywords: [退款, 退货]}\n"
        + REPLY
        + "  - name: all\n    when: {keywords: [发票, 电子], match: all}\n"
        + REPLY
    )
    assert fired(ruleset, "我想退货") == ["any"]
    assert fired(ruleset, "要发票") == []
    assert fired(ruleset, "要电子发票") == ["all"]
    match = ruleset.matcher.candidates("退款还是退货")[0][1]
    assert match.keywords == ("退款", "退货")


def test_latin_keywords_match_whole_words_only_and_ignore_case() -> None:
    ruleset = rules("  - name: hi\n    when: {keywords: [hi, VIP]}\n" + REPLY)
    assert fired(ruleset, "Hi all") == ["hi"]
    assert fired(ruleset, "this is it") == []
    assert fired(ruleset, "我是vip用户") == ["hi"]
    assert fired(ruleset, "ＶＩＰ") == ["hi"]


def test_regex_hands_over_named_groups() -> None:
    ruleset = rules("  - name: order\n    when: {regex: '订单号?(?P<no>\\d{6})'}\n" + REPLY)
    found = ruleset.matcher.candidates("我的订单123456还没发货")
    assert found[0][1].groups == {"no": "123456"}
    assert fired(ruleset, "订单12") == []


def test_question_trigger_fires_on_questions_and_faq_hits() -> None:
    faq = (
        "faq:\n  entries:\n    - {id: r, questions: [怎么申请退款], keywords: [退款], answer: a}\n"
    )
    ruleset = rules("  - name: q\n    when: {question: true}\n    do: {action: faq}\n", faq)
    assert fired(ruleset, "周末有活动吗？") == ["q"]
    hit = ruleset.matcher.candidates("退款流程")[0][1]
    assert hit.faq is not None and hit.faq.key == "r"
    assert fired(ruleset, "哈哈哈") == []


def test_a_trigger_with_no_condition_takes_every_message() -> None:
    ruleset = rules("  - name: all\n    when: {}\n" + REPLY)
    assert fired(ruleset, "anything") == ["all"]


def test_candidates_come_out_by_priority_then_file_order() -> None:
    ruleset = rules(
        "  - name: low\n    when: {keywords: [a]}\n    priority: -1\n"
        + REPLY
        + "  - name: first\n    when: {keywords: [a]}\n"
        + REPLY
        + "  - name: high\n    when: {keywords: [a]}\n    priority: 5\n"
        + REPLY
        + "  - name: second\n    when: {keywords: [a]}\n"
        + REPLY
        + "  - name: 'off'\n    when: {keywords: [a]}\n    enabled: false\n"
        + REPLY
    )
    assert fired(ruleset, "a") == ["high", "first", "second", "low"]


def test_many_keyword_rules_share_one_automaton_pass() -> None:
    body = "".join(f"  - name: r{i}\n    when: {{keywords: [词{i}]}}\n" + REPLY for i in range(500))
    ruleset = rules(body)
    # "词42" contains "词4", but a keyword ending in a digit must end at a word boundary.
    assert fired(ruleset, "这里有词42和词7") == ["r7", "r42"]
    assert fired(ruleset, "词4。") == ["r4"]


def test_short_texts_are_matched_once_and_remembered_per_rule_set() -> None:
    first = rules("  - name: hi\n    when: {keywords: [hello]}\n" + REPLY)
    second = rules("  - name: bye\n    when: {keywords: [bye]}\n" + REPLY)
    remembered = first.matcher.candidates("hello there")
    assert first.matcher.candidates("hello there") is remembered  # the memo answered
    assert remembered == first.matcher.match("hello there")
    # Another rule set (a reload) must not see the first one's memo.
    assert fired(second, "hello there") == []
    assert fired(second, "bye there") == ["bye"]


def test_long_texts_bypass_the_memo_and_match_the_same() -> None:
    ruleset = rules("  - name: hi\n    when: {keywords: [hello]}\n" + REPLY)
    long_text = "hello " + "x" * (MEMO_MAX_CHARS + 1)
    assert ruleset.matcher.candidates(long_text) is not ruleset.matcher.candidates(long_text)
    assert fired(ruleset, long_text) == ["hi"]


def test_a_question_rule_searches_the_faq_once_per_message(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    faq = "faq:\n  entries:\n    - {id: r, questions: [怎么申请退款], answer: 退款请找客服}\n"
    ruleset = rules("  - name: q\n    when: {question: true}\n    do: {action: faq}\n", faq)
    searches: list[str] = []
    search = FaqCatalog.search

    def counted(
        self: FaqCatalog, text: str, threshold: float | None = None, clean: str | None = None
    ) -> object:
        searches.append(text)
        return search(self, text, threshold, clean)

    monkeypatch.setattr(FaqCatalog, "search", counted)
    lines = [
        message("2026-11-24T08:00", "bob", "周末有活动吗？"),
        message("2026-11-24T08:01", "bob", "怎么申请退款呀"),
    ]
    assert replay(ruleset, store, lines).texts == ["@Bob 退款请找客服"]
    assert searches == ["周末有活动吗？", "怎么申请退款呀"]


@pytest.mark.parametrize(
    "typed", ["簽到", "签到！", "@bot 签到", "@小助手\u2005签到", "\u200b签到"]
)
def test_commands_match_what_members_really_type(typed: str) -> None:
    ruleset = rules("  - name: checkin\n    when: {command: [签到]}\n" + REPLY)
    assert fired(ruleset, typed) == ["checkin"]


def test_keywords_and_faq_see_simplified_text() -> None:
    faq = "faq:\n  entries:\n    - {id: refund, questions: [怎么申请退款], answer: x}\n"
    ruleset = rules(
        "  - name: kw\n    when: {keywords: [发票]}\n"
        + REPLY
        + "  - name: q\n    when: {question: true}\n"
        + REPLY,
        faq,
    )
    assert fired(ruleset, "收到開發\u200b票") == ["kw"]
    assert fired(ruleset, "要開發\u200b票") == ["kw", "q"]  # asking for one: a request
    assert ruleset.matcher.candidates("怎麼申請退款")[0][1].faq is not None


def test_regex_searches_width_folded_text_and_keeps_case() -> None:
    ruleset = rules("  - name: order\n    when: {regex: '订单(?P<no>[A-Z]\\d{3})'}\n" + REPLY)
    found = ruleset.matcher.candidates("订单\u200bＡ１２３")
    assert found[0][1].groups == {"no": "A123"}
