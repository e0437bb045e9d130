"""The question detector: which messages ask something (and are answered from the FAQ or
queued for a human) and which only chat, greet or acknowledge. A table, read as a reviewer
would: each line a message a member might send and the verdict expected."""

from __future__ import annotations

import pytest

from triggers.text import looks_like_question

QUESTIONS = [
    # asking for a service by saying so
    "想测一下体脂",
    "我要退卡",
    "想约个周六的号",
    "我们想了解下团课",
    # asking to be sent or told something
    "地址发一下",
    "价格表发我一下",
    "麻烦发下课表",
    "告诉我营业时间",
    "给我个链接",
    "你好，地址发一下",
    # punctuation
    "退款？",
    "refund?",
    "这个能退吗 ？ ",
    "发货时间？？",
    # final particles
    "可以开发票吗",
    "你们周末上班吗～",
    "我的积分呢",
    "那个课程呢？",
    "这样可以么",
    "能开专票不",
    "包邮不",
    "发货了没",
    "发货了没有",
    "有优惠嘛",
    # interrogative words anywhere
    "请问一下",
    "请问今天直播吗",
    "怎么申请退款",
    "怎么装",
    "如何开发票",
    "为什么还没到账",
    "为啥不能发链接",
    "积分有什么用",
    "课程回放在哪看",
    "哪个型号好",
    "直播几点开始",
    "要几天到",
    "会员多少钱",
    "能不能便宜点",
    "可不可以晚点交作业",
    "是不是要先签到",
    "有没有回放",
    "质保多久",
    "铺一套房要多长时间",
    "找平材料谁出",
    "能否上门安装",
    "是否包邮",
    # A-not-A
    "行不行",
    "这个尺寸好不好",
    "对不对呀",
    "昨天去没去",
    # English
    "Why not",
    "When does it start",
    "where is the replay",
    "who is the admin",
    "which course",
    "could you help",
    "are you there",
    "do you accept cards",
    "should I pay first",
    "How do I reset my password",
    "what time is the live",
    "Can I join",
    "does it work",
    "IS IT FREE",
    "forgot my password, how to reset it",  # a clause that opens with a question word
    "ok. where is the replay",
    "群里可以发广告吗",
    "可以开发票吗～",
    # a greeting first, the question after
    "在吗 我想问下怎么退款",
    "你好，请问还有货吗",
]

NOT_QUESTIONS = [
    # wanting, wishing and saying are not asking for a service
    "要是早点去体测就好了",
    "我想说教练真好",
    "想吃火锅了",
    "需要勇气才敢去拔牙",
    # the speaker sends or tells; or 发/说 inside other words
    "我发一下照片",
    "我们说一下规则",
    "发个红包",
    "今天说下雨",
    "头发下周再剪",
    "麻烦死了",
    "",
    "签到",
    "今天天气不错",
    "哈哈哈",
    "哈哈",
    "谢谢老师",
    "呢子大衣很暖和",
    "我才不",
    "还没有",
    "就这么定了",
    "就这么",
    "我不行",
    "不不不",
    "已经发货了",
    "明天见",
    "收到了，谢谢大家",
    "hello everyone",
    "I think so",
    "this is great",
    "island trip photos",
    "cannot wait",
    "好的，收到",
    "whatever",
    "doing great",
    "I know who did it",  # a question word inside a clause asks nothing
    "fine, thanks",
    # greetings and acknowledgements that end like questions
    "在吗",
    "在吗？",
    "在么",
    "在不在",
    "有人吗",
    "收到",
    "收到！",
    "谢谢！",
    "好的",
    "好滴～",
    "嗯嗯",
    "OK",
    "你好",
    "大家好",
    "真的吗",
    "是吗？",
]


@pytest.mark.parametrize("text", QUESTIONS)
def test_asks(text: str) -> None:
    assert looks_like_question(text), text


@pytest.mark.parametrize("text", NOT_QUESTIONS)
def test_does_not_ask(text: str) -> None:
    assert not looks_like_question(text), text


def test_the_table_is_large_enough_to_mean_something() -> None:
    assert len(QUESTIONS) + len(NOT_QUESTIONS) >= 60
    assert len(set(QUESTIONS) & set(NOT_QUESTIONS)) == 0
