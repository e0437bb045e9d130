"""Synonyms: members' words read as the FAQ's, bundled and configured, longest first."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import ruleset_from

from triggers import faq_synonyms
from triggers.faq_synonyms import (
    BUNDLED,
    SplitWords,
    Synonyms,
    bundled_topics,
    read_in_context,
    reading,
    synonyms,
)
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
        ("开车去停哪里", "开车去停车"),  # where to park, as members ask it
        ("早上几点能去", "早上营业时间"),  # when one can come is opening hours
        ("过年休息吗", "节假日营业时间"),
        ("现在过去要排队吗", "现在过去要预约吗"),  # walking in or booking
        ("余额可以退吗", "退款吗"),  # money back, not goods
        ("充的钱可以退吗", "充的退款吗"),
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
        ("能加张床吗", "能加床吗"),  # a measure word between the halves
        ("订间房", "订房"),
        ("洗次牙多少钱", "洗牙多少钱"),
        ("三张床", "三张床"),  # 三床 is no word the FAQ knows
    ],
)
def test_a_split_verb_object_word_is_read_whole(text: str, read_as: str) -> None:
    words = ["理发", "剪头", "洗澡", "约号", "加床", "订房", "洗牙"]
    assert SplitWords(words).apply(normalize(text)) == read_as


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


@pytest.mark.parametrize(
    ("text", "read_as"),
    [
        ("卡里的钱不想用了能退吗", "卡里的钱不想用了能退款吗"),  # money goes back
        ("充值的能退吗", "充值的能退款吗"),
        ("这个能退吗", "这个能退货吗"),  # goods go back
        ("退货运费谁出", "退货运费谁出"),  # a fee is not the money going back
    ],
)
def test_a_word_is_read_in_the_sense_the_message_gives_it(text: str, read_as: str) -> None:
    assert read_in_context(synonyms().apply(normalize(text))) == read_as


@pytest.mark.parametrize(
    ("text", "read_as"),
    [
        ("带猫可以吗", "带猫可以吗 宠物"),  # the topic is added, the word kept
        ("狗狗和金毛能一起住吗", "狗狗和金毛能一起住吗 宠物"),  # once
        ("可以带宠物吗", "可以带宠物吗"),  # named already
        ("房间有wifi吗", "房间有wifi吗 网络"),
        ("晚上能烤串吗", "晚上能烤串吗 烧烤"),
        ("wifix 是什么", "wifix 是什么"),  # latin words only whole
        ("狗粮有什么推荐", "狗粮有什么推荐"),  # food for pets, not a pet
        ("熊猫基地远吗", "熊猫基地远吗"),
        ("猫和狗能带信号灯吗", "猫和狗能带信号灯吗 宠物"),
    ],
)
def test_a_word_also_reads_as_its_topic(text: str, read_as: str) -> None:
    assert Synonyms([], *bundled_topics()).apply(normalize(text)) == read_as


def test_every_word_of_the_topic_lexicon_names_its_topic() -> None:
    topics, none = bundled_topics()
    read = Synonyms([], topics, none)
    for topic, words in topics:
        for word in words:
            assert read.apply(normalize(word)) == f"{normalize(word)} {topic}", word
    for word in none:
        assert read.apply(normalize(word)) == normalize(word), word


def test_the_faq_reads_splits_then_synonyms_and_topics_then_context() -> None:
    read = reading([], ["加床"])
    assert read(normalize("带狗能加张床吗")) == "带狗能加床吗 宠物"
    assert read(normalize("狗狗的余额能退吗")) == "狗狗的退款吗 宠物"


def test_a_topic_finds_the_entry_that_names_it() -> None:
    config = """
faq:
  entries:
    - {id: pets, questions: [可以带宠物吗], keywords: [宠物], answer: 一楼两间可以带宠物。}
    - {id: wifi, questions: [有网络吗], answer: 每间都有。}
    - {id: price, questions: [房间多少钱一晚], answer: 388 元。}
rules: [{name: 答疑, when: {question: true}, do: {action: faq}}]
"""
    faq = ruleset_from(config).faq
    for text, key in [("狗狗能一起住吗", "pets"), ("带猫可以吗", "pets"), ("房间有wifi吗", "wifi")]:
        hit = faq.search(text)
        assert hit is not None and hit.key == key, (text, hit)


def test_the_topic_lexicon_names_each_word_once_and_no_word_is_a_topic_elsewhere() -> None:
    topics, none = bundled_topics()
    seen: dict[str, str] = {}
    for topic, words in topics:
        for word in words:
            assert word not in seen, (word, topic, seen.get(word))
            assert topic not in word, (word, topic)  # it would add nothing
            seen[word] = topic
    assert not set(none) & set(seen)
    labels = {topic for topic, _ in topics}
    assert len(labels) == len(topics)  # one line per topic
    assert not labels & set(seen), labels & set(seen)  # a label is never another's word


def test_a_bad_line_in_the_topic_lexicon_names_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lexicon = tmp_path / "faq_topics.txt"
    lexicon.write_text("# topics\n宠物: 猫 狗\n烧烤 烤串\n", encoding="utf-8")
    monkeypatch.setattr(faq_synonyms, "TOPICS", lexicon)
    bundled_topics.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"faq_topics.txt:3: expected 'topic: word word"):
            bundled_topics()
    finally:
        bundled_topics.cache_clear()
