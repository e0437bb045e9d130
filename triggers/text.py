"""Text normalisation shared by every matcher, so commands, keywords and the FAQ agree.

Members type on phone keyboards that switch between full- and half-width forms, between
cases and between traditional and simplified characters at random, and copy-paste brings
invisible zero-width characters along; normalising once per message makes "ＶＩＰ？" and
"vip?", "簽到" and "签到" one text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from importlib.util import find_spec
from pathlib import Path
from typing import Generic, TypeVar

import ahocorasick

T = TypeVar("T")

# Chinese words that make a sentence a question wherever they stand. 哪 covers 哪里/哪个/
# 哪儿; 几 covers 几点/几天; 多长 covers 多长时间.
_ZH_INTERROGATIVES = (
    "怎么",
    "如何",
    "为什么",
    "为啥",
    "什么",
    "哪",
    "几",
    "多少",
    "多久",
    "多长",
    "谁",
    "是否",
    "能否",
    "能不能",
    "可不可以",
    "是不是",
    "有没有",
    "请问",
)
# Sentence-final particles that only ask at the end ("好吗", "你呢", "能开专票不", "发货了没"),
# punctuation allowed after; not where they end a statement ("就这么", "我才不", "还没有").
_ZH_FINAL_PARTICLES = (
    "吗",
    "呢",
    "嘛",
    "(?<![这那])么",
    "(?<![才就也都还并绝决我你他她它再不])不",
    "(?<![还都也并从])没有?",
)
# Whole messages that end like questions but only greet or acknowledge ("在吗", "好的", "收到？").
_NOT_QUESTIONS = frozenset(
    {
        "在吗",
        "在么",
        "在嘛",
        "在不在",
        "在不",
        "有人吗",
        "有人在吗",
        "收到",
        "谢谢",
        "多谢",
        "感谢",
        "好的",
        "好滴",
        "好吧",
        "嗯嗯",
        "ok",
        "你好",
        "大家好",
        "早上好",
        "晚安",
        "是吗",
        "真的吗",
        "对吗",
        "好吗",
    }
)
_EDGE_PUNCTUATION = "!?.,;:~。、 "
# English questions open with a wh-word or an inverted auxiliary.
_EN_OPENERS = (
    "how",
    "what",
    "why",
    "when",
    "where",
    "who",
    "which",
    "can",
    "could",
    "is",
    "are",
    "do",
    "does",
    "should",
)

# Asking for a service by saying so (想测一下体脂, 我要退卡, 想约个周六的号) asks too; only
# with the verbs of asking for one: 想吃, 要是, 我想说 are chatter.
_REQUEST = (
    r"^(?:我们?)?(?:想要|想|要|需要)"
    r"(?:约|预约|办|买|退|换|测|咨询|了解|问|开|报名|订|预订|补|改)"
)

# Asking to be sent or told something (地址发一下, 麻烦发下课表, 告诉我营业时间), unless the
# speaker is the one who sends (我发一下照片, 我们说一下规则).
_SEND_ME = (
    r"(?:^|[,;.!?]\s*)(?!我)[^\W我]*?(?:发(?:一下|我)|给我|告诉我|说一下|麻烦(?:发|给|说|问|帮))"
)

_QUESTION = re.compile(
    r"\?\W*$"
    rf"|{_REQUEST}"
    rf"|{_SEND_ME}"
    r"|([^\W不没])[不没]\1"  # A-not-A: 行不行, 好不好, 去没去
    rf"|{'|'.join(_ZH_INTERROGATIVES)}"
    rf"|(?:{'|'.join(_ZH_FINAL_PARTICLES)})\W*$"
    rf"|(?:^|[,;.!?]\s*)(?:{'|'.join(_EN_OPENERS)})\b"
)


# Characters that render as nothing but make two equal-looking texts differ.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))


def _simplified_table() -> dict[int, str]:
    """Traditional to simplified, character by character (zhconv's table, via str.translate).

    Only one-to-one letters (punctuation such as 「」 stays): phrase-level conversion would
    cost a dictionary walk per message, and matching needs "簽到" to read "签到", not a
    faithful translation.
    """
    # Found, not imported: zhconv's own import pulls in pkg_resources (14 MB, a tenth of a
    # second) to read this very file.
    spec = find_spec("zhconv")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("zhconv is not installed: pip install zhconv")
    folder = Path(next(iter(spec.submodule_search_locations)))
    source = (folder / "zhcdict.json").read_text("utf-8")
    table: dict[str, str] = json.loads(source)["zh2Hans"]
    return {
        ord(traditional): simplified
        for traditional, simplified in table.items()
        if len(traditional) == len(simplified) == 1
        and traditional != simplified
        and traditional.isalpha()
        and simplified.isalpha()
        and unicodedata.is_normalized("NFKC", traditional)
    }


_FOLD = {**_simplified_table(), **_INVISIBLE}


def visible(text: str) -> str:
    """NFKC (full-width to ASCII) without zero-width characters: what regex rules search."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


def normalize(text: str) -> str:
    """What every matcher compares: :func:`visible`, simplified, casefolded, single spaces.

    Punctuation is kept. Idempotent: normalising a normalised text changes nothing.
    """
    width = unicodedata.normalize("NFKC", text)
    folded = width.translate(_FOLD).casefold()
    if folded != width:  # dropping or folding characters may leave a composable sequence
        folded = unicodedata.normalize("NFKC", folded)
    return " ".join(folded.split())


# "@name " (WeChat puts U+2005 after a mention) opening a message addressed to someone.
_LEADING_MENTION = re.compile(r"^\s*[@＠]\S+\s+")


_TRAILING_PUNCTUATION = "!?.,;:~。、"


def command_word(clean: str) -> str:
    """The command a normalised message gives: its first word, without trailing punctuation.

    A leading @mention is skipped ("@bot 签到" is 签到: only a member of the group can
    speak, and a command acts on its sender whoever is addressed), and so is punctuation
    after the word ("签到！"). Configured command words go through it too.
    """
    if clean.startswith("@"):
        clean = clean.partition(" ")[2]
    word = clean.partition(" ")[0]
    return word.rstrip(_TRAILING_PUNCTUATION) or word


def command_args(text: str) -> str:
    """What follows the command word, as the member typed it (zero-width characters aside)."""
    body = _LEADING_MENTION.sub("", text.translate(_INVISIBLE), count=1)
    words = body.split(maxsplit=1)
    return words[1].strip() if len(words) > 1 else ""


def looks_like_question(text: str) -> bool:
    """Whether a message reads as a question in Chinese or English (raw or normalised text)."""
    return is_question(normalize(text))


def is_question(clean: str) -> bool:
    """:func:`looks_like_question` for text already normalised (the matcher's)."""
    if clean.strip(_EDGE_PUNCTUATION) in _NOT_QUESTIONS:
        return False
    return _QUESTION.search(clean) is not None


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class WordFinder(Generic[T]):
    """Finds many words in a text in one Aho-Corasick pass, each carrying its payload.

    Latin words and numbers match only as whole words ("hi" is not in "this"); CJK words
    match anywhere, since Chinese has no spaces. Words must already be normalised.
    """

    def __init__(self, words: Mapping[str, T]) -> None:
        self._automaton: ahocorasick.Automaton | None = None
        if words:
            self._automaton = ahocorasick.Automaton()
            for word, payload in words.items():
                self._automaton.add_word(word, (word, payload))
            self._automaton.make_automaton()

    def find(self, clean: str) -> Iterator[tuple[str, T]]:
        """Every (word, payload) found in normalised text, overlapping hits included."""
        if self._automaton is None:
            return
        for end, (word, payload) in self._automaton.iter(clean):
            start = end - len(word) + 1
            if _is_word_char(word[0]) and start > 0 and _is_word_char(clean[start - 1]):
                continue
            if _is_word_char(word[-1]) and end + 1 < len(clean) and _is_word_char(clean[end + 1]):
                continue
            yield word, payload
