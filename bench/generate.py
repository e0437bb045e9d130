"""Deterministic generators for benchmark configs and the words they and transcripts use
(transcripts: ``bench.transcripts``).

Everything is derived from a seed with ``random.Random``, so a run is reproducible and no
data file is checked in. Vocabulary lists are *prefix-stable*: the first ``k`` items of a
list of ``n`` are the same for every ``n >= k``, so the same fixed messages can be tried
against 10 or 10,000 rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

# Content characters for generated words: nouns and verbs a community talks about, without
# the filler the FAQ index drops (请问/怎么/吗 …) or interrogatives that make a question.
_CJK_POOL = "".join(
    dict.fromkeys(
        "产品课程会员积分订单物流快递发票账号密码手机邮箱地址价格优惠活动直播回放视频资料文档"
        "作业证书考试报名学习社群讲师助教客服售后退货换货押金余额提现充值红包奖励礼品兑换抽奖"
        "名额门票座位酒店交通天气时日期周末假早晚打卡排等级权限管理公告规则投诉建议反馈合作推"
        "广告二维码链接文件图片表格模板工具软件系统版本更新安装下载上传登录注册绑定解认证审核"
        "通过失败成功取消修改删除开续费到期试用免收付款支银行卡信分城市区域线下聚会场地茶水"
        "书籍笔记读音乐电影运动健身跑步游泳瑜伽旅行摄影美食烘焙咖啡花园宠物猫狗"
    )
)
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"]
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰文"

_CHATTER_HEADS = (
    *("今天", "明天", "这个", "那个", "产品", "活动", "课程", "老师", "东西", "效果"),
    *("周末", "晚上", "早上", "新版本", "群里", "昨天的直播", "这次分享", "上次的作业"),
)
_CHATTER_TAILS = (
    *("不错", "挺好", "很棒", "一般般", "来了", "到了", "结束了", "开始了", "太赞了"),
    *("收藏了", "学到了", "有意思", "辛苦了", "已经看完", "有点难", "很实用"),
)
_CHATTER_ENDS = ("", "！", "哈哈", "～", "👍", "[强]", "。")
_CHATTER_FIXED = (
    *("收到", "好的", "哈哈哈", "早上好", "晚安", "赞", "+1", "ok", "thanks!", "nice one"),
    *("lol", "good morning", "辛苦辛苦", "👍👍👍", "[玫瑰]", "路过"),
)
_VERBS = ("开通", "取消", "修改", "续费", "使用", "报名", "领取", "兑换", "查询", "绑定")
_ASK_FRAMES = (
    "请问{t}怎么{v}？",
    "{t}如何{v}呢",
    "怎么{v}{t}啊？",
    "{t}可以{v}吗",
    "想问下{t}怎么{v}",
)

DEFAULT_SEED = 20261124
START = datetime.fromisoformat("2026-11-23T07:00:00+08:00")


def cjk_words(count: int, length: int, salt: str) -> list[str]:
    """``count`` distinct CJK words of ``length`` characters; prefix-stable for a salt."""
    rng = random.Random(f"cjk:{length}:{salt}")
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault("".join(rng.choice(_CJK_POOL) for _ in range(length)))
    return list(seen)


def latin_words(count: int, salt: str) -> list[str]:
    """``count`` distinct pronounceable latin words (3 syllables); prefix-stable for a salt."""
    rng = random.Random(f"latin:{salt}")
    seen: dict[str, None] = {}
    while len(seen) < count:
        seen.setdefault("".join(rng.choice(_SYLLABLES) for _ in range(3)))
    return list(seen)


def person_name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.randint(1, 2)))


def chatter(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(_CHATTER_FIXED)
    return rng.choice(_CHATTER_HEADS) + rng.choice(_CHATTER_TAILS) + rng.choice(_CHATTER_ENDS)


# --- configs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaqSpec:
    """A generated FAQ entry: its topic word, verb and how members ask about it."""

    id: str
    topic: str
    verb: str

    def entry(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "questions": [f"怎么{self.verb}{self.topic}", f"{self.topic}{self.verb}要多久"],
            "keywords": [f"{self.topic}{self.verb}"],
            "answer": f"@{{{{ member.name }}}} {self.topic}{self.verb}请在「我的 → 设置」里操作。",
        }

    def ask(self, rng: random.Random) -> str:
        """A reworded question about this entry (it should hit)."""
        return rng.choice(_ASK_FRAMES).format(t=self.topic, v=self.verb)


def faq_specs(count: int) -> list[FaqSpec]:
    topics = cjk_words(count, 2, "faq")
    return [FaqSpec(f"faq{i:05d}", t, _VERBS[i % len(_VERBS)]) for i, t in enumerate(topics)]


def miss_topics(count: int) -> list[str]:
    """Topics no generated FAQ entry is about (3 characters, unlike the 2-character FAQ topics)."""
    return cjk_words(count, 3, "miss")


def unanswerable(rng: random.Random, topics: list[str]) -> str:
    """A question asked the way FAQ questions are, about one of ``topics`` (miss_topics)."""
    return rng.choice(_ASK_FRAMES).format(t=rng.choice(topics), v=rng.choice(_VERBS))


@dataclass(frozen=True, slots=True)
class KeywordSpec:
    word: str
    reply: str


def keyword_specs(count: int) -> list[KeywordSpec]:
    """Half Chinese, half English keywords, interleaved so every prefix has both."""
    zh = cjk_words((count + 1) // 2, 3, "kw")
    en = latin_words(count // 2, "kw")
    words = [w for pair in zip(zh, [*en, ""], strict=False) for w in pair if w][:count]
    return [
        KeywordSpec(w, f"关于「{w}」的说明见群公告第 {i % 9 + 1} 条。") for i, w in enumerate(words)
    ]


def group_ids(count: int) -> list[str]:
    return [f"g{i:04d}" for i in range(count)]


@dataclass
class ConfigSpec:
    groups: int = 100
    faq_entries: int = 50
    keyword_rules: int = 5
    briefing: bool = False
    list_groups: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def make_config(spec: ConfigSpec) -> str:
    """A realistic rule set as config.yaml text."""
    rules: list[dict[str, Any]] = []
    if spec.briefing:
        rules.append(
            {
                "name": "早报",
                "when": {"schedule": {"at": "08:00", "grace": "30m"}},
                "do": {
                    "action": "briefing",
                    "items": ["今晚 20:00 直播：社群运营入门", "本周话题：你是怎么做用户分层的？"],
                    "leaderboard_size": 5,
                },
            }
        )
    rules += [
        {
            "name": "入群欢迎",
            "when": {"event": "join"},
            "do": {
                "action": "welcome",
                "burst_window": "30s",
                "max_delay": "2h",
                "group_rules": ["禁止广告、二维码和外部链接", "友善交流"],
                "guide": "发送「签到」每天领积分，「积分」查看等级，「排行榜」看看谁最活跃。",
            },
        },
        {
            "name": "签到",
            "when": {"command": ["签到", "打卡", "checkin"]},
            "do": {"action": "checkin", "points": 10, "streak_bonus": {7: 50, 30: 200}},
        },
        {
            "name": "我的积分",
            "when": {"command": ["积分", "我的积分", "points"]},
            "do": {"action": "my_points"},
        },
        {
            "name": "排行榜",
            "when": {"command": ["排行榜", "积分榜", "rank"]},
            "do": {"action": "leaderboard", "period": "all", "size": 10},
        },
        {
            "name": "分享奖励",
            "when": {"keywords": ["干货分享", "#分享"]},
            "if": {"cooldown": {"member": "1d"}},
            "do": {
                "action": "points",
                "amount": 5,
                "reason": "分享干货",
                "text": "@{{ member.name }} 感谢分享！+{{ amount }} 积分，当前 {{ balance }} 分。",
            },
        },
    ]
    for i, kw in enumerate(keyword_specs(spec.keyword_rules)):
        rules.append(
            {
                "name": f"关键词{i:05d}",
                "when": {"keywords": [kw.word]},
                "do": {"action": "reply", "text": kw.reply},
            }
        )
    rules.append(
        {
            "name": "答疑",
            "when": {"question": True},
            "priority": -10,
            "if": {"cooldown": {"member": "10s"}},
            "do": {
                "action": "faq",
                "text": "@{{ member.name }} 这个问题我先记下了，管理员会尽快回复你。",
            },
        }
    )
    config: dict[str, Any] = {
        "timezone": "Asia/Shanghai",
        "groups": (
            [{"id": g, "name": f"社群{g[1:]}群"} for g in group_ids(spec.groups)]
            if spec.list_groups
            else []
        ),
        "roles": [{"member": "m0000_000", "role": "admin"}],
        "points": {
            "levels": [
                {"name": "新人", "min": 0},
                {"name": "活跃成员", "min": 30},
                {"name": "核心成员", "min": 200},
            ]
        },
        "faq": {"threshold": 60, "entries": [s.entry() for s in faq_specs(spec.faq_entries)]}
        if spec.faq_entries
        else {},
        "rules": rules,
        **spec.extra,
    }
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False, width=200)


# --- transcripts --------------------------------------------------------------------------
