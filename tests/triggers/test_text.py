"""normalize makes phone-keyboard variants one text; looks_like_question spots questions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggers.text import command_args, command_word, looks_like_question, normalize, visible


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("ＡＢＣ１２３", "abc123"),
        ("ＶＩＰ会员多少钱？", "vip会员多少钱?"),
        ("退款，怎么办！", "退款,怎么办!"),
        ("  How\tCAN   I\n reset\u3000it ", "how can i reset it"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_normalize(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


def test_normalize_keeps_punctuation_and_is_idempotent() -> None:
    once = normalize("＃分享　干货：「课程回放」在哪？")
    assert once == "#分享 干货:「课程回放」在哪?"
    assert normalize(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "退款？",
        "refund?",
        "这个能退吗 ？ ",
        "怎么申请退款",
        "如何开发票",
        "为什么还没到账",
        "为啥不能发链接",
        "积分有什么用",
        "课程回放在哪看",
        "直播几点开始",
        "会员多少钱",
        "能不能便宜点",
        "可不可以晚点交作业",
        "是不是要先签到",
        "有没有回放",
        "群里可以发广告吗",
        "可以开发票吗～",
        "我的积分呢",
        "请问一下",
        "How do I reset my password",
        "what time is the live",
        "Why not",
        "When does it start",
        "where is the replay",
        "who is the admin",
        "which course",
        "Can I join",
        "could you help",
        "IS IT FREE",
        "are you there",
        "do you accept cards",
        "does it work",
        "should I pay first",
    ],
)
def test_questions(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "今天天气不错",
        "哈哈哈",
        "好的，收到",
        "谢谢老师",
        "呢子大衣很暖和",
        "hello everyone",
        "I think so",
        "this is great",
        "island trip photos",
        "cannot wait",
        "whatever",
        "doing great",
        "签到",
    ],
)
def test_not_questions(text: str) -> None:
    assert not looks_like_question(text)


def test_word_finder_whole_latin_words_anywhere_for_cjk() -> None:
    from triggers.text import WordFinder

    finder = WordFinder({"hi": 1, "退款": 2, "vip": 3, "a1": 4})
    assert list(finder.find("hi 我要退款")) == [("hi", 1), ("退款", 2)]
    assert list(finder.find("this is chinese")) == []
    assert list(finder.find("我是vip用户")) == [("vip", 3)]
    assert list(finder.find("a12 b")) == []
    assert list(WordFinder({}).find("anything")) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("簽到", "签到"),  # traditional characters read as simplified
        ("\u200b签\u200d到\ufeff", "签到"),  # zero-width characters vanish
        ("後來 頭髮", "后来 头发"),
        ("「課程」", "「课程」"),  # punctuation is not converted
    ],
)
def test_normalize_folds_traditional_and_invisible_characters(raw: str, clean: str) -> None:
    assert normalize(raw) == clean


@pytest.mark.parametrize(
    ("raw", "word", "args"),
    [
        ("签到！", "签到", ""),
        ("簽到", "签到", ""),
        ("@bot 签到", "签到", ""),
        ("@小助手\u2005签到", "签到", ""),
        ("＠bot 排行榜 本周", "排行榜", "本周"),
        ("\u200b签到", "签到", ""),
        ("/grant @Bob\u20055 分享", "/grant", "@Bob\u20055 分享"),
        ("?", "?", ""),
        ("@bot", "", ""),
    ],
)
def test_a_command_is_read_as_members_type_it(raw: str, word: str, args: str) -> None:
    assert (command_word(normalize(raw)), command_args(raw)) == (word, args)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(st.text())
def test_normalize_is_idempotent_and_never_raises(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert command_word(command_word(once)) == command_word(once) or once.startswith("@")
    command_args(text)
    visible(text)
