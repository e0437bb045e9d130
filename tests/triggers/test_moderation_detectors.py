"""The text detectors one by one: what each must find, and the near-misses it must not."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from triggers.moderation.detectors import (
    TextDetector,
    TextDetectors,
    banned_words,
    find_contact,
    find_link,
)
from triggers.text import normalize


def link(text: str) -> str | None:
    return find_link(normalize(text))


def contact(text: str) -> str | None:
    return find_contact(normalize(text))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("看这里 https://t.cn/A6xyz 领券", "https://t.cn/a6xyz"),  # casefolded
        ("HTTP://EXAMPLE.COM/x", "http://example.com/x"),
        ("www.abc.com 有惊喜", "www.abc.com"),
        ("ｗｗｗ．ａｂｃ．ｃｏｍ", "www.abc.com"),  # full-width
        ("访问 abc 点 com", "abc 点 com"),
        ("abc點com", "abc点com"),  # traditional 點 reads 点
        ("baidu。com", "baidu。com"),  # the ideographic full stop
        ("去 shop . vip 看看", "shop . vip"),
        ("x-y.top/abc", "x-y.top"),
        ("h t t p s://evil.cn", "evil.cn"),
    ],
)
def test_links_are_found_in_their_disguises(text: str, found: str) -> None:
    assert link(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "版本 v1.2.3 发布了",
        "价格 3.5 元，打 8.8 折",
        "node.js 和 vue.js 哪个好",
        "fine.thanks 我先走了",
        "报价单.xlsx 已发群文件",
        "会议 10.30 开始",
        "我的邮箱是 a.b@qq.com",  # an e-mail is a contact, not a link
        "今天一点半开会",
        "点赞关注",
        "e.g. 比如说",
    ],
)
def test_ordinary_dots_are_not_links(text: str) -> None:
    assert link(text) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("加V：abc12345", "加v:abc12345"),
        ("+vx abcdef1 了解", "+vx abcdef1"),
        ("加我微信 wx_123456", "加我微信 wx_123456"),
        ("微信号 daigou888", "微信号 daigou888"),
        ("vx: shop_2026", "vx: shop_2026"),
        ("qq 12345678", "qq 12345678"),
        ("扣扣：87654321", "扣扣:87654321"),
        ("邮箱 a.b@qq.com", "a.b@qq.com"),
        ("电话 13912345678", "139****5678"),
        ("电话139-1234-5678", "139****5678"),
        ("139 1234 5678 随时打", "139****5678"),
        ("一三九一二三四五六七八", "139****5678"),
        ("①③⑨①②③④⑤⑥⑦⑧", "139****5678"),  # circled digits fold to digits
    ],
)
def test_contact_ads_are_found(text: str, found: str) -> None:
    assert contact(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "订单号 13912345678",
        "快递单号：15612345678",
        "加微信群聊一下",
        "加v 了吗",
        "加vip会员多少钱",
        "qq群里说过了",
        "2026年11月24日 19:30",
        "我买了 3 个，13 块 9 毛",
        "手机号 139 开头的都是移动",
        "一二三四五，上山打老虎",
        "138元一件，139元两件",
        "15元/斤，一共13斤",
    ],
)
def test_numbers_and_words_that_are_not_contacts(text: str) -> None:
    assert contact(text) is None


def detectors(*words: str) -> TextDetectors:
    return TextDetectors([TextDetector(7, False, False, banned_words(words))])


@pytest.mark.parametrize(
    "text",
    ["出售发票", "代开发票", "代 开 发 票", "代-开*发.票", "代開發票", "代ｋ开发票"],
)
def test_banned_words_survive_spaces_symbols_and_traditional_forms(text: str) -> None:
    found = detectors("代开发票", "发票代开").find(normalize(text))
    if text in ("出售发票", "代ｋ开发票"):
        assert found == {}  # another word; a letter inside is not a separator
    else:
        assert found == {7: ["违禁词 代开发票"]}


def test_latin_banned_words_match_whole_words_only() -> None:
    finder = detectors("casino", "ASS")
    assert finder.find(normalize("Best CASINO here")) == {7: ["违禁词 casino"]}
    assert finder.find(normalize("the class is full")) == {}
    assert finder.find(normalize("casinos")) == {}


def test_blank_lines_and_notes_are_not_banned_words() -> None:
    assert banned_words(["# 赌博类", "", "  ", "赌博", "賭博", "博彩 "]) == ("赌博", "博彩")


def test_one_pass_reports_every_rule_with_what_it_found() -> None:
    finder = TextDetectors(
        [
            TextDetector(1, True, False, ()),
            TextDetector(2, True, True, ()),
            TextDetector(3, False, False, banned_words(["赌博"])),
        ]
    )
    found = finder.find(normalize("赌博网站 www.dubo.com 加V：dubo8888"))
    assert found == {
        1: ["链接 www.dubo.com"],
        2: ["链接 www.dubo.com", "联系方式 加v:dubo8888"],
        3: ["违禁词 赌博"],
    }
    assert not TextDetectors([])


_SEPARATORS = st.sampled_from([" ", "  ", "-", "*", ".", "、", "~", "_", "|", "·", "\u200b", "！"])


@given(st.lists(_SEPARATORS, min_size=3, max_size=3), st.text(alphabet="你好呀哈", max_size=5))
def test_any_separators_between_the_letters_still_find_the_word(
    gaps: list[str], around: str
) -> None:
    word = "代开发票"
    spaced = "".join(letter + gap for letter, gap in zip(word, [*gaps, ""], strict=True))
    assert detectors(word).find(normalize(around + spaced + around)) == {7: ["违禁词 代开发票"]}


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.lists(st.sampled_from(["", " ", "-", " - "]), min_size=10, max_size=10),
)
def test_any_mobile_number_is_found_however_it_is_split(number: str, gaps: list[str]) -> None:
    split = "".join(d + gap for d, gap in zip(number, [*gaps, ""], strict=True))
    assert contact(f"有需要的联系 {split} 哦") == f"{number[:3]}****{number[7:]}"


@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_digits_alone_are_a_contact_only_as_a_mobile_number(digits: str) -> None:
    mobile = len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789"
    assert (contact(f"数字 {digits} 结束") is not None) == mobile
