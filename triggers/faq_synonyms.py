"""Words members use for what an FAQ entry says another way: 开票 for 发票, 包邮 for 运费.

Each group's first word is the one every other word in it reads as, in stored questions,
keywords, answers and members' messages alike, before the FAQ tokenises them. The bundled
groups are customer-service vocabulary common to most communities; admins add their own
trade's words in ``faq.synonyms`` (theirs win where a word is in both). Matching is
leftmost-longest, so a longer word keeps its own sense: 装修 stays 装修 while 装 reads 安装.
The same pass adds the topic of each word the topic lexicon (faq_topics.txt) has: 冰箱 also
reads 保存. Split words are joined before it, and a few words are read in context after it
(退 with money is 退款).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import ahocorasick

from triggers.text import normalize

BUNDLED: tuple[tuple[str, ...], ...] = (
    # Money: what something costs, paying, getting money back, cheaper.
    # What goods cost, and what a service charges (kept apart: 停车收费 is not a price list).
    (
        "价格",
        "多少钱",
        "价钱",
        "几块钱",
        "什么价",
        "啥价",
        "怎么卖",
        "售价",
        "报价",
        "贵不贵",
        "价位",
    ),
    ("收费", "怎么收费", "要钱", "收钱", "费用", "另外收钱", "加钱", "要不要钱", "花多少"),
    (
        "付款",
        "支付",
        "付钱",
        "给钱",
        "结账",
        "买单",
        "刷卡",
        "信用卡",
        "支付宝",
        "微信支付",
        "转账",
        "对公转账",
        "花呗",
    ),
    ("分期", "分期付款", "分几期", "分期付"),
    # Money back, also as members ask for what is left on a card: 充的钱可以退吗, 余额能退吗.
    (
        "退款",
        *("退钱", "退费", "返款", "钱退", "退回钱", "钱能退", "钱可以退", "钱能不能退"),
        *("余额退", "退余额", "余额能退", "余额可以退", "余额能不能退"),
    ),
    ("退货", "退回去", "退回", "退掉", "退", "退换"),
    ("退出", "退出"),  # leaving a group: not a return
    ("退群", "退群"),
    # 退 in words of its own (checking out, cancelling a booking, a lease, a class): not 退货.
    ("退房", "退房"),
    ("退订", "退订"),
    ("退租", "退租"),
    ("退课", "退课"),
    ("退休", "退休"),
    ("退烧", "退烧"),
    ("换货", "调换", "换一个", "更换"),
    (
        "优惠",
        "折扣",
        "打折",
        "便宜",
        "减价",
        "降价",
        "促销",
        "特价",
        "活动价",
        "优惠活动",
        "半价",
        "满减",
        "立减",
    ),
    ("优惠券", "券", "优惠码", "代金券", "折扣码", "红包码"),
    ("发票", "开票", "专票", "普票", "增值税发票", "报销凭证", "收据"),
    # Getting it there.
    ("运费", "邮费", "快递费", "配送费", "送货费", "包邮", "运输费"),
    ("送货", "配送", "派送", "送到家", "送货上门", "送上门", "上门送"),
    ("发货", "寄出", "出库", "什么时候发", "几天发"),
    ("快递", "物流", "快递单", "运单"),
    # Where and when.
    ("地址", "位置", "在哪里", "在哪儿", "在哪", "什么地方", "怎么走", "怎么去", "店在哪"),
    (
        "营业时间",
        "几点开门",
        "开门",
        "几点关门",
        "关门",
        "营业",
        "开到几点",
        "几点下班",
        "上班时间",
        "几点开",
        # When one can come, asked without naming opening hours: 早上几点能去, 过年休息吗.
        *("几点能去", "几点能进", "几点能来", "几点过去", "最早几点", "最晚几点", "几点到几点"),
        *("开不开门", "上班吗", "休息吗", "休不休息"),
    ),
    (
        "多久",
        *("多长时间", "几天", "多少天", "多少时间", "要多久", "需要多久", "多长"),
        *("几个小时", "几小时", "多少小时", "几个钟", "几个钟头"),
    ),
    # Meals, and being fetched from the station.
    ("早餐", "早饭"),
    ("午餐", "午饭", "中饭", "中午饭"),
    ("晚餐", "晚饭", "晚上饭"),
    ("接送", "接站", "接机", "来接", "接人", "车站接", "机场接"),
    # After the sale.
    ("保修", "质保", "维修", "保修期", "管不管修", "包不包修", "包修", "管修", "坏了"),
    ("安装", "装", "安装费", "铺贴", "铺装", "安装师傅"),
    # Words with 装 in them that are not installing (longest match keeps them whole).
    *((word, word) for word in ("装修", "服装", "包装", "装备", "套装", "假装", "装满", "西装")),
    ("样品", "小样", "样板", "试用装", "样本"),
    ("色差", "颜色不一样", "颜色不同", "颜色有差别", "颜色差别"),
    ("防滑", "滑不滑", "打滑", "很滑", "会不会滑", "防不防滑"),
    ("测量", "量尺", "量尺寸", "量一下尺寸", "量房", "量下", "量一下", "测尺寸", "丈量"),
    # Courses and services.
    ("回放", "录播", "重播", "重看", "回看", "录像"),
    ("证书", "结业证", "结业证明", "毕业证"),
    ("课件", "讲义", "ppt", "教材", "资料"),
    ("作业", "练习题", "习题"),
    ("有效期", "过期", "期限", "能看多久"),
    ("设备", "电脑", "手机", "平板", "ipad"),
    ("手机号", "手机号"),
    ("账号", "账户", "帐号", "帐户"),
    ("共享", "共用", "借给", "一起用", "合用"),
    # Booking ahead, also asked as whether one can just walk in: 现在过去要排队吗.
    ("预约", "报名", "预定", "预订", "约课", "提前约", "直接过去", "直接去", "直接来", "排队"),
    ("客服", "人工客服", "售后"),
    ("答疑", "提问", "问问题", "解答"),
    ("课程", "上课", "听课", "网课"),
    ("换课", "换一门课", "转班", "换班", "调课"),
    ("直播", "开播"),
    ("登录", "登陆", "登入"),
    # Memberships: the card, pausing it, passing it on, losing it, trying before buying.
    ("会员卡", "会籍卡", "会员证", "会籍"),
    ("停卡", "冻结", "冻卡", "暂停"),
    ("转让", "过户", "转给别人", "转手", "转卖"),
    ("丢失", "丢了", "掉了", "弄丢", "遗失", "找不到了"),
    ("补办", "补卡", "重办", "重新办"),
    ("手续费", "工本费", "服务费"),
    ("体验", "试试", "试一下", "试听", "试课", "体验一下"),
    ("带朋友", "带人", "带家人", "带同伴"),
    ("私教", "私人教练", "教练", "一对一"),
    ("团课", "团操", "团体课", "集体课"),
    ("储物柜", "柜子", "寄存柜", "存包柜", "置物柜", "更衣柜", "寄存"),
    ("淋浴", "洗澡", "冲澡", "冲凉", "洗浴"),
    ("儿童", "小孩", "孩子", "小朋友", "未成年", "宝宝"),
    ("年龄", "几岁", "岁数", "年纪"),
    # Places and times people ask about.
    ("门店", "实体店", "店面", "线下店", "店铺", "店里"),
    # Where to leave the car, asked as members ask it: 开车去停哪里.
    ("停车", "停车场", "停车位", "车位", "泊车", "停哪", "停哪里", "停哪儿", "停在哪", "车停哪"),
    ("节假日", "过年", "春节", "假期", "放假", "国庆", "五一", "中秋", "元旦", "节日"),
    ("周末", "周六", "周日", "星期六", "星期天", "星期日", "礼拜天"),
    ("时间", "什么时候", "啥时候", "几点", "哪天", "何时", "几号"),
)


# Verb-object words members split (理个发, 洗过澡, 剪完头, 加张床): read whole again,
# with every two-character keyword of the FAQ. (了, 一下 and 一个 are filler already.)
SPLIT_WORDS = (
    *("理发", "剪发", "剪头", "烫发", "烫头", "染发", "洗头", "吹头", "洗澡", "冲澡", "洗牙"),
    *("补牙", "拔牙", "看病", "挂号", "打针", "体检", "请假", "上课", "下课", "上班", "下班"),
    *("开会", "报名", "排队", "停车", "加油", "充电", "付款", "退款", "退货", "换货", "签到"),
    *("打卡", "拍照", "照相", "游泳", "跑步", "散步", "遛狗", "洗车", "吃饭", "睡觉", "见面"),
    *("帮忙", "开票", "办卡", "退卡", "充值", "约课", "上门", "送货", "装机", "开户", "销户"),
)
# The words between the halves: 个/过/完, and the measure words of what is asked for
# (加张床, 订间房, 洗次牙, 来份饭).
_SPLIT = re.compile(
    r"([\u3400-\u9fff])(?:了个|个|过|完|张|间|份|次|位|件|条|把|台|辆|杯|碗|只)([\u3400-\u9fff])"
)


class SplitWords:
    """Joins a split verb-object word when its two halves make one the FAQ knows."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(
            w for w in map(normalize, words) if len(w) == 2 and _SPLIT.match(f"{w[0]}个{w[1]}")
        )

    def apply(self, clean: str) -> str:
        return _SPLIT.sub(self._join, clean)

    def _join(self, found: re.Match[str]) -> str:
        pair = found[1] + found[2]
        return pair if pair in self._words else found[0]


TOPICS = Path(__file__).with_name("faq_topics.txt")


@functools.cache
def bundled_topics() -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...]]:
    """The topic lexicon (``topic: word word …`` lines) and the words naming no topic (the
    ``-`` line): read once, then shared by every FAQ the process loads."""
    topics: list[tuple[str, tuple[str, ...]]] = []
    none: list[str] = []
    for number, line in enumerate(TOPICS.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        topic, colon, words = line.partition(":")
        if not colon or not words.split():
            raise ValueError(f"{TOPICS.name}:{number}: expected 'topic: word word ...'")
        if topic.strip() == "-":
            none.extend(words.split())
        else:
            topics.append((topic.strip(), tuple(words.split())))
    return tuple(topics), tuple(none)


class Synonyms:
    """Reads every word of a group as the group's first and adds the topic of each word the
    topic lexicon has (see faq_topics.txt), in one leftmost-longest pass."""

    def __init__(
        self,
        groups: Iterable[Sequence[str]],
        topics: Iterable[tuple[str, Iterable[str]]] = (),
        no_topic: Iterable[str] = (),
    ) -> None:
        reads: dict[str, tuple[str, str]] = {}  # word -> (read as, its topic or "")
        for topic, words in topics:
            reads.update((normalize(w), (normalize(w), normalize(topic))) for w in words)
        reads.update((normalize(w), (normalize(w), "")) for w in no_topic)
        for group in groups:  # a word in a group is read as the group's, whatever its topic
            words = [w for w in (normalize(word) for word in group) if w]
            reads.update((word, (words[0], "")) for word in words)
        self._automaton: ahocorasick.Automaton | None = None
        if reads:
            self._automaton = ahocorasick.Automaton()
            for word, (first, topic) in reads.items():
                self._automaton.add_word(word, (word, first, topic))
            self._automaton.make_automaton()

    def apply(self, clean: str) -> str:
        """Normalised text with each synonym replaced by its group's first word, and the
        topics of its words after it."""
        if self._automaton is None:
            return clean
        out: list[str] = []
        topics: list[str] = []
        done = 0
        for last, (word, first, topic) in self._automaton.iter_long(clean):
            start = last - len(word) + 1
            if word.isascii() and (_letter_at(clean, start - 1) or _letter_at(clean, last + 1)):
                continue  # latin words only whole: "ppt" is not in "pptx"
            out += [clean[done:start], first]
            done = last + 1
            if topic:
                topics.append(topic)
        out.append(clean[done:])
        text = "".join(out)
        if topics:
            added = [topic for topic in dict.fromkeys(topics) if topic not in text]
            return " ".join((text, *added)) if added else text
        return text


# Words whose sense the rest of the message decides: 退 alone reads 退货, but it is money that
# goes back when the message speaks of money (卡里的钱不想用了能退吗).
IN_CONTEXT: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("退货", re.compile("钱|余额|充值"), "退款"),
)


def read_in_context(clean: str) -> str:
    for word, context, sense in IN_CONTEXT:
        if word in clean and context.search(clean):
            clean = clean.replace(word, sense)
    return clean


def _letter_at(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()


def synonyms(extra: Iterable[Sequence[str]] = ()) -> Synonyms:
    """The bundled groups and topics, and an admin's own groups; the admin's win for a word
    in both."""
    return Synonyms([*BUNDLED, *extra], *bundled_topics())


def reading(extra: Iterable[Sequence[str]], keywords: Iterable[str]) -> Callable[[str], str]:
    """How the FAQ reads normalised text: split words joined (the bundled ones and the
    FAQ's two-character keywords), synonyms read as their group's first word and the
    topics of words added, then words read in their context."""
    split, words = SplitWords([*SPLIT_WORDS, *keywords]), synonyms(extra)
    return lambda clean: read_in_context(words.apply(split.apply(clean)))
