"""Synonyms: members' words read as the FAQ's, bundled and configured, longest first."""

from __future__ import annotations

import pytest
from support import ruleset_from

from triggers.faq_synonyms import BUNDLED, SplitWords, Synonyms, synonyms
from triggers.loader import ConfigError
from triggers.text import normalize


def read(text: str, extra: list[list[str]] | None = None) -> str:
    return synonyms(extra or []).apply(normalize(text))


@pytest.mark.parametrize(
    ("text", "read_as"),
    [
        ("可以开票吗", "可以发票吗"),
        ("能开专票不", "能开发票不"),
        ("包邮吗", "运费吗"),
        ("邮费多少", "运费多少"),
        ("装一下多少钱", "安装一下价格"),
        ("装修师傅怎么收费", "装修师傅收费"),  # 装修 is its own word, not 安装
        ("能不能派人来量一下尺寸", "能不能派人来测量"),
        ("你们店在什么位置", "你们店在什么地址"),
        ("晚上几点关门", "晚上营业时间"),
        ("录播在哪儿", "回放地址"),
        ("質保多久", "保修多久"),  # traditional, then the synonym
        ("ＰＰＴ 能下载吗", "课件 能下载吗"),  # full width, then the synonym
        ("pptx 文件", "pptx 文件"),  # latin words only whole
        ("退出群聊", "退出群聊"),  # leaving is not a return
        ("明天能晚点退房吗", "明天能晚点退房吗"),  # nor is checking out
        ("订好的房间可以退订吗", "订好的房间可以退订吗"),  # nor cancelling a booking
        ("这个能退吗", "这个能退货吗"),  # 退 alone still is
        ("卡可以冻结吗", "卡可以停卡吗"),  # memberships
        ("有没有柜子放东西", "有没有储物柜放东西"),
        ("想约个私人教练", "想约个私教"),
        ("会员卡可以过户吗", "会员卡可以转让吗"),
        ("朋友想来试试", "朋友想来体验"),
        ("什么时候上课", "时间课程"),  # asking when
        ("几点开门", "营业时间"),  # the longer word wins over 几点
        ("实体店地址", "门店地址"),
        ("过年营业吗", "节假日营业时间吗"),
        ("登陆不上", "登录不上"),  # a common misspelling
    ],
)
def test_bundled_groups_read_members_words_as_the_faqs(text: str, read_as: str) -> None:
    assert read(text) == read_as


def test_an_admins_group_adds_words_and_wins_where_a_word_is_in_both() -> None:
    assert read("卡能报停吗", [["停卡", "报停"]]) == "卡能停卡吗"
    assert read("刷卡可以吗", [["会员卡", "刷卡"]]) == "会员卡可以吗"  # bundled: 付款
    assert read("刷卡可以吗") == "付款可以吗"


def test_every_bundled_word_reads_as_its_groups_first_word() -> None:
    groups = Synonyms(BUNDLED)
    for group in BUNDLED:
        first = normalize(group[0])
        for word in group:
            assert groups.apply(normalize(word)) == first, (word, first)


def test_no_groups_change_nothing() -> None:
    assert Synonyms([]).apply("可以开票吗") == "可以开票吗"


def test_a_synonym_finds_the_entry_its_words_do_not(tmp_path: object) -> None:
    config = """
faq:
  synonyms: [[停卡, 报停]]
  entries:
    - {id: freeze, questions: [可以停卡吗], answer: 每年可以停卡两次。}
    - {id: price, questions: [办卡多少钱], answer: 年卡 2680。}
rules: [{name: 答疑, when: {question: true}, do: {action: faq}}]
"""
    faq = ruleset_from(config).faq
    hit = faq.search("出差了卡能报停吗")
    assert hit is not None and hit.key == "freeze"
    without = ruleset_from(config.replace("  synonyms: [[停卡, 报停]]\n", "")).faq
    assert without.search("出差了卡能报停吗") is None
    bundled = without.search("出差了卡能冻结吗")  # 冻结 is a bundled word for 停卡
    assert bundled is not None and bundled.key == "freeze"


@pytest.mark.parametrize(
    ("synonyms_yaml", "message"),
    [("[[停卡]]", "two words or more"), ("[[停卡, '']]", "must not be empty")],
)
def test_a_bad_synonym_group_is_refused(synonyms_yaml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ruleset_from(f"faq: {{synonyms: {synonyms_yaml}}}\nrules: []")


@pytest.mark.parametrize(
    ("text", "read_as"),
    [
        ("理个发多少钱", "理发多少钱"),
        ("剪完头能洗吗", "剪头能洗吗"),
        ("洗过澡了", "洗澡了"),
        ("周六约个号", "周六约号"),  # a keyword of the FAQ's own
        ("剪个头发", "剪头发"),
        ("买个包", "买个包"),  # 买包 is no word the FAQ knows
        ("三个人", "三个人"),
        ("个人资料", "个人资料"),
    ],
)
def test_a_split_verb_object_word_is_read_whole(text: str, read_as: str) -> None:
    assert SplitWords(["理发", "剪头", "洗澡", "约号"]).apply(normalize(text)) == read_as


def test_a_split_keyword_finds_its_entry() -> None:
    config = """
faq:
  entries:
    - {id: haircut, questions: [剪头发多少钱], keywords: [理发], answer: 48 元。}
    - {id: hours, questions: [几点开门], answer: 十点。}
rules: [{name: 答疑, when: {question: true}, do: {action: faq}}]
"""
    hit = ruleset_from(config).faq.search("理个发要多少")
    assert hit is not None and hit.key == "haircut"
