"""Detectors that read a message's text: links, contact ads, banned words.

They see the matcher's normalised text (NFKC, simplified, casefolded: "ＷＷＷ．" is "www.",
"加Ｖ" is "加v"), and each undoes the tricks ads use against filters: links spelled with
spaces, 点 or 。 for the dots; phone numbers split by spaces or dashes or written in
Chinese numerals; banned words with symbols or spaces between their characters. What
each finds is kept as evidence (a phone number with its middle digits masked).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from triggers.text import WordFinder, normalize

# Top-level domains ads use, without the ones that are common English words (fun, work,
# live …), which "fine.thanks"-style typing would turn into links.
_TLDS = (
    "com|cn|net|org|top|xyz|vip|cc|io|me|info|shop|club|site|online|ltd|tk|icu|wang|biz|tv|hk"
    "|asia|mobi|ink|pub|ren|kim|cyou|sbs|buzz|rest|bond"
)
_DOT = r"(?:\s?(?:[.。·]|点|點|dot)\s?)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LINK = re.compile(
    r"(?:https?|ftp)\s?[:：]\s?/\s?/\s?\S+"
    rf"|\bwww(?:{_DOT}{_LABEL})+"
    rf"|(?<![a-z0-9@._-]){_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLDS})(?![a-z0-9])"
)

_CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-.·_—–/]+(?=\d)")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
# Numbers that are not contacts even when they look like one: order and tracking numbers.
_NOT_A_PHONE = re.compile(r"(?:订单|单号|运单|快递|物流|编号|工号|order|no)\s?[:：#]?\s?$")
_HANDLE = r"[a-z0-9][-_a-z0-9]{4,19}"
_APP = r"(?:v|vx|wx|微|微信|威信|薇|v信|qq|扣扣|企鹅)"
_CONTACT = re.compile(
    rf"(?:加|\+|add)\s?(?:我\s?)?{_APP}\s?号?\s?[:：]?\s?(?P<a>{_HANDLE})"
    rf"|(?:微信|vx|wx|v信|威信)\s?号?\s?[:：]\s?(?P<b>{_HANDLE})"
    rf"|(?:微信号|vx号|wx号)\s?(?P<c>{_HANDLE})"
    r"|(?:qq|扣扣|企鹅|(?<=加)q)\s?号?\s?[:：]?\s?(?P<q>[1-9]\d{4,11})(?!\d)"
    r"|(?P<mail>[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})"
)
# Everything but letters and digits: what an inserted "赌-博" or "赌 博" hides behind.
_NOT_LETTERS = re.compile(r"[\W_]+")


def skeleton(clean: str) -> str:
    """Normalised text with every space, punctuation mark and symbol taken out."""
    return _NOT_LETTERS.sub("", clean)


def find_link(clean: str) -> str | None:
    found = _LINK.search(clean)
    return found.group(0)[:100] if found else None


def find_contact(clean: str) -> str | None:
    found = _CONTACT.search(clean)
    if found is not None:
        return found.group(0)[:100]
    digits = _BETWEEN_DIGITS.sub("", clean.translate(_CN_DIGITS))
    for mobile in _MOBILE.finditer(digits):
        if not _NOT_A_PHONE.search(digits, max(0, mobile.start() - 8), mobile.start()):
            number = mobile.group(0)
            return f"{number[:3]}****{number[7:]}"
    return None


@dataclass(frozen=True, slots=True)
class TextDetector:
    """One rule's text detectors: ``words`` are normalised already."""

    index: int
    link: bool
    contact: bool
    words: tuple[str, ...]


class TextDetectors:
    """Every rule's text detectors, run as one pass per message for all of them."""

    def __init__(self, detectors: Sequence[TextDetector]) -> None:
        self._link = tuple(d.index for d in detectors if d.link)
        self._contact = tuple(d.index for d in detectors if d.contact)
        latin: dict[str, list[int]] = {}
        other: dict[str, list[int]] = {}
        for d in detectors:
            for word in d.words:
                if word.isascii():  # whole words only: "ass" is not in "class"
                    latin.setdefault(word, []).append(d.index)
                elif bare := skeleton(word):
                    other.setdefault(bare, []).append(d.index)
        self._latin = WordFinder({w: tuple(ix) for w, ix in latin.items()}) if latin else None
        self._other = WordFinder({w: tuple(ix) for w, ix in other.items()}) if other else None

    def __bool__(self) -> bool:
        return bool(self._link or self._contact or self._latin or self._other)

    def find(self, clean: str) -> dict[int, list[str]]:
        """Rule index → what it found in the normalised text (e.g. "链接 t.cn/x")."""
        found: dict[int, list[str]] = {}
        if self._link and (link := find_link(clean)):
            _add(found, self._link, f"链接 {link}")
        if self._contact and (contact := find_contact(clean)):
            _add(found, self._contact, f"联系方式 {contact}")
        if self._latin is not None:
            for word, indexes in self._latin.find(clean):
                _add(found, indexes, f"违禁词 {word}")
        if self._other is not None:
            for word, indexes in self._other.find(skeleton(clean)):
                _add(found, indexes, f"违禁词 {word}")
        return found


def _add(found: dict[int, list[str]], indexes: Iterable[int], evidence: str) -> None:
    for index in indexes:
        kept = found.setdefault(index, [])
        if evidence not in kept:
            kept.append(evidence)


def banned_words(words: Iterable[str]) -> tuple[str, ...]:
    """Admins' banned words as the detectors compare them; blank lines and ``#`` notes out."""
    kept = (normalize(w) for w in words if w.strip() and not w.lstrip().startswith("#"))
    return tuple(dict.fromkeys(w for w in kept if w))
