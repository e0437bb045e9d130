"""Message triggers compiled into matchers whose cost does not grow with the rule count.

Commands are one dict lookup, keywords one Aho-Corasick pass over the message, the
moderation detectors one pass for every rule; only regex rules are tried one by one.
Each matcher returns the data it matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from triggers.actions.base import Match
from triggers.config import Trigger
from triggers.faq_catalog import FaqCatalog
from triggers.moderation.detectors import TextDetectors
from triggers.regex import LinearRegex, compile_linear
from triggers.text import WordFinder, command_args, command_word, is_question, normalize, visible

# Group chat repeats itself ("收到", "签到", "哈哈", "+1"): what short texts match is
# remembered (matching is a pure function of the text for one compiled rule set).
MEMO_SIZE = 8192
MEMO_MAX_CHARS = 40

Candidates = tuple[tuple[int, Match], ...]


@dataclass(frozen=True, slots=True)
class _KeywordRule:
    index: int
    words: frozenset[str]
    need_all: bool


class MessageMatcher:
    """Finds every message rule a text triggers, in rule order, with what each one matched."""

    def __init__(
        self,
        triggers: Sequence[tuple[int, Trigger]],
        faq: FaqCatalog,
        detectors: TextDetectors | None = None,
    ) -> None:
        """``detectors``: the ``detect:`` triggers' text detectors (see triggers.moderation)."""
        self._commands: dict[str, list[int]] = {}
        self._keyword_rules: dict[int, _KeywordRule] = {}
        self._regexes: list[tuple[int, LinearRegex]] = []
        self._questions: list[int] = []
        self._every: list[int] = []
        self._faq = faq
        self._detectors = detectors if detectors else None
        owners: dict[str, list[int]] = {}
        for index, trigger in triggers:
            if trigger.detect is not None:
                continue  # the detectors' own pass (and the engine's stream watch)
            if trigger.command is not None:
                for word in trigger.command:
                    self._commands.setdefault(command_word(normalize(word)), []).append(index)
            elif trigger.keywords is not None:
                words = frozenset(normalize(w) for w in trigger.keywords)
                self._keyword_rules[index] = _KeywordRule(index, words, trigger.match == "all")
                for word in words:
                    owners.setdefault(word, []).append(index)
            elif trigger.regex is not None:
                self._regexes.append((index, compile_linear(trigger.regex)))
            elif trigger.question:
                self._questions.append(index)
            else:
                self._every.append(index)
        self._keywords = WordFinder({word: tuple(rules) for word, rules in owners.items()})
        self._memo = lru_cache(maxsize=MEMO_SIZE)(self.match)

    def forget(self) -> None:
        """Drop the memo: what a text matches changed (the FAQ was taught a question)."""
        self._memo.cache_clear()

    def candidates(self, text: str) -> Candidates:
        """Rules this text triggers, sorted by rule index (priority order)."""
        return self._memo(text) if len(text) <= MEMO_MAX_CHARS else self.match(text)

    def match(self, text: str) -> Candidates:
        """The matching itself, without the memo (what the rule-scaling benchmark times).

        Commands, keywords and questions compare the normalised text (see triggers.text);
        regexes search it width-folded only, so their groups keep the member's case and
        characters. The raw text stays the event's, for storage and replies.
        """
        clean = normalize(text)
        found: dict[int, Match] = {}
        if self._commands and (commanded := self._commands.get(command_word(clean))):
            args = command_args(text)
            for index in commanded:
                found[index] = Match(args=args)
        if self._keyword_rules:
            self._match_keywords(clean, found)
        searched = visible(text) if self._regexes else text
        for index, pattern in self._regexes:
            hit = pattern.search(searched)
            if hit is not None:
                # A named group that took no part in the match is "", as in the check.
                groups = {k: v or "" for k, v in hit.groupdict().items()}
                found[index] = Match(groups=groups, args=hit.group(0))
        if self._questions:
            hit_faq = self._faq.search(text, clean=clean)
            if hit_faq is not None or is_question(clean):
                for index in self._questions:
                    found[index] = Match(faq=hit_faq, searched=True)
        if self._detectors is not None:
            for index, evidence in self._detectors.find(clean).items():
                found[index] = Match(detected=tuple(evidence))
        for index in self._every:
            found[index] = Match()
        return tuple(sorted(found.items()))

    def _match_keywords(self, clean: str, found: dict[int, Match]) -> None:
        hits: dict[int, set[str]] = {}
        for word, indexes in self._keywords.find(clean):
            for index in indexes:
                hits.setdefault(index, set()).add(word)
        for index, words in hits.items():
            rule = self._keyword_rules[index]
            if not rule.need_all or words == rule.words:
                found[index] = Match(keywords=tuple(sorted(words)))
