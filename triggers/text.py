"""Text normalisation shared by every matcher, so commands, keywords and the FAQ agree.

Members type on phone keyboards that switch between full- and half-width forms and
between cases at random; normalising once per message makes "ＶＩＰ？" and "vip?" one text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

import ahocorasick

T = TypeVar("T")

# Chinese words that make a sentence a question wherever they stand. 哪 covers 哪里/哪个/
# 哪儿; 几 covers 几点/几天.
_ZH_INTERROGATIVES = (
    "怎么",
    "如何",
    "为什么",
    "为啥",
    "什么",
    "哪",
    "几",
    "多少",
    "能不能",
    "可不可以",
    "是不是",
    "有没有",
    "请问",
)
# Sentence-final particles that only ask at the end ("好吗", "你呢"), punctuation allowed after.
_ZH_FINAL_PARTICLES = ("吗", "呢")
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

_QUESTION = re.compile(
    r"\?\W*$"
    rf"|{'|'.join(_ZH_INTERROGATIVES)}"
    rf"|(?:{'|'.join(_ZH_FINAL_PARTICLES)})\W*$"
    rf"|^(?:{'|'.join(_EN_OPENERS)})\b"
)


def normalize(text: str) -> str:
    """NFKC (full-width to ASCII), casefold and single spaces; punctuation is kept."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def looks_like_question(text: str) -> bool:
    """Whether a message reads as a question in Chinese or English (raw or normalised text)."""
    return _QUESTION.search(normalize(text)) is not None


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
