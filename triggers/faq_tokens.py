"""How the FAQ reads Chinese without segmenting it: the filler members add or swap freely
(请问/怎么/吗, how/do/I) dropped, then character bigrams and single characters (for
one-character words like 钱 and for reworded bigrams such as 兑换/换) plus latin words; a
bigram that only joins two words the FAQ knows is a seam, not a word."""

from __future__ import annotations

import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Filler that changes how, not what, members ask: question words, how-to frames
# (申请/流程: "怎么申请退款" = "退款流程是什么"), politeness, pronouns and particles.
_ZH_FILLER = (
    *("可不可以", "是不是", "有没有", "能不能", "怎么样", "为什么", "想知道", "问一下"),
    *("请问", "请教", "想问", "问下", "一下", "怎么", "怎样", "如何", "为啥", "什么", "哪里"),
    *("哪儿", "哪个", "哪些", "多少", "能否", "可以", "是否", "流程", "步骤", "方法", "办法"),
    *("申请", "办理", "大家", "我们", "你们", "谢谢", "咋", "啥", "哪", "几", "我", "你"),
    *("想", "是", "在", "的", "了", "吗", "呢", "啊", "吧", "呀", "哦", "嘛", "么"),
    # Common words that carry no topic: 需要自己带毛巾吗 asks about 毛巾.
    # (Words, not characters: 会 is in 会员, 有 in 有效期.)
    *("需要", "自己", "现在", "大概", "一般", "一直", "还能", "这个", "那个", "一个"),
)
# These ask only at the end of a clause ("能发广告不"); elsewhere they carry meaning (不到账).
_ZH_FINAL_FILLER = ("没有", "不", "没")
_EN_FILLER = frozenset(
    (
        *("a", "an", "the", "i", "me", "my", "we", "our", "you", "your", "it", "its", "this"),
        *("is", "are", "am", "be", "do", "does", "did", "can", "could", "would", "should"),
        *("will", "get", "how", "what", "why", "when", "where", "which", "who", "please"),
        *("to", "of", "in", "on", "for", "at", "with", "and", "or", "any", "some", "there"),
        *("that", "here"),
    )
)
_FILLER = re.compile(
    "|".join(sorted(_ZH_FILLER, key=len, reverse=True))
    + f"|(?:{'|'.join(_ZH_FINAL_FILLER)})(?![{_CJK}])"
)
_PIECE = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}]+")


def core_of(clean: str) -> str:
    """Normalised text without filler: CJK runs and latin words, space-separated."""
    pieces = _PIECE.findall(_FILLER.sub("", clean))
    return " ".join(p for p in pieces if p not in _EN_FILLER)


def tokens_of(core: str) -> frozenset[str]:
    """Latin words, CJK bigrams and CJK single characters of a core string."""
    found: set[str] = set()
    for piece in core.split():
        if _CJK_RUN.fullmatch(piece):
            found.update(piece)
            found.update(piece[i : i + 2] for i in range(len(piece) - 1))
        else:
            found.add(piece)
    return frozenset(found)


def seams_of(tokens: frozenset[str], known: dict[str, float]) -> frozenset[str]:
    """Unknown CJK bigrams joining two known words (时间|课程 gives 间课): where a word ends
    and the next begins, not a word the message has and no entry explains."""
    inner = {c for t in tokens if len(t) == 2 and t in known and _CJK_RUN.fullmatch(t) for c in t}
    return frozenset(
        t
        for t in tokens
        if len(t) == 2
        and t not in known
        and t[0] in inner
        and t[1] in inner
        and _CJK_RUN.fullmatch(t)
    )
