"""normalize makes phone-keyboard variants one text (questions: test_question_detector)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggers.text import command_args, command_word, normalize, visible


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
