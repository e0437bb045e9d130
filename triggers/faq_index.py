"""The FAQ search index: Chinese-aware fuzzy matching whose per-message cost stays flat.

Chinese has no spaces, so text is read as ``triggers.faq_tokens`` cuts it (character
bigrams and single characters, latin words, filler dropped). An inverted index with IDF
weights picks at most TOP_K candidate entries; only those that could still reach the
threshold are re-scored with rapidfuzz, so a search never walks the whole FAQ.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from triggers.faq_asking import ASPECT_CLASH_SHARE, REPORT, REPORT_SHARE, aspects_of
from triggers.faq_tokens import core_of, seams_of, tokens_of
from triggers.text import WordFinder, is_question, normalize

DEFAULT_THRESHOLD = 60.0
"""Rewordings that keep most of a stored question score 65-100 and chatter under 45; a
message sharing only an entry's topic word (积分到账了 against 积分怎么用) scores 55-59:
whether that is a question about it only the entry's keywords can say."""

TOP_K = 16
"""Entries re-scored per search: enough to rescue a rewording, few enough to be flat."""

MAX_POSTINGS = 48
"""A token or keyword in more entries than this finds no candidates: it says little about
which entry is meant, and walking its postings would make search grow with the FAQ."""

KEYWORD_FLOOR = 75.0
"""Score of an entry whose keyword is in the message and which explains most of it; its
questions can only raise it."""

KEYWORD_SINK = 40.0
KEYWORD_COVERED = 0.6
"""The floor sinks by up to KEYWORD_SINK points as the entry explains less than
KEYWORD_COVERED of the message (by IDF): 周六洗澡需要提前约吗 holds the grooming entry's
keyword 洗澡 but asks what the booking entry answers."""

RECALL_SHARE = 0.6
"""Weight of "how much of the stored question the message contains" in a score; the rest
is edit similarity, which penalises extra or reordered text."""

PRECISION_SHARE = 0.7
"""The most an entry can score for explaining the message rather than resembling one of
its questions: the share of the message's words (by IDF; words no entry has weigh the
most) found in its questions and keywords, with the answer's words at ANSWER_SHARE."""

ANSWER_SHARE = 0.5
"""What a word found only in an entry's answer counts for (对公转账 when the answer lists
the ways to pay): less than one in its questions, which say what the entry is about."""

NON_QUESTION_SHARE = 0.8
"""A message that does not read as a question keeps this share of its resemblance to a
stored question, and gets no keyword floor: a terse 退款流程 is still asked often enough."""


@dataclass(frozen=True, slots=True)
class FaqDoc:
    key: str  # the FAQ entry id
    questions: tuple[str, ...]  # example phrasings of the question
    keywords: tuple[str, ...]  # words whose presence strongly suggests this entry
    answer: str = ""  # the answer's text (template syntax taken out), indexed at less weight


@dataclass(frozen=True, slots=True)
class FaqHit:
    key: str
    score: float  # 0..100
    matched: str  # the stored question (or keyword) that matched best


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A stored question reduced to what carries its meaning."""

    original: str
    core: str
    tokens: frozenset[str]
    weight: float


@dataclass(frozen=True, slots=True)
class _Probe:
    """A message as the index reads it (see FaqIndex._probe); ``whole`` is 0 unless it asks."""

    core: str
    tokens: frozenset[str]
    asks: bool
    aspects: frozenset[str]
    share: float  # of its score a message keeps: 1 asked, less said (see NON_QUESTION_SHARE)
    whole: float
    known: float
    keyword_hits: dict[int, str]
    shared: dict[int, float]
    ranked: list[int]


class FaqIndex:
    """Finds the FAQ entry a message asks about; built once, when the config loads.

    ``prepare`` reads a normalised text the way the FAQ compares it (synonyms read as
    one word, see triggers.faq_synonyms); it is applied to the entries and the messages.
    """

    def __init__(self, docs: Sequence[FaqDoc], prepare: Callable[[str], str] | None = None) -> None:
        self._prepare = prepare or (lambda clean: clean)
        self._keys = tuple(doc.key for doc in docs)
        cores = [[(q, core_of(self._clean(q))) for q in doc.questions] for doc in docs]
        keyword_tokens = [
            frozenset().union(*(tokens_of(core_of(self._clean(k))) for k in doc.keywords))
            for doc in docs
        ]
        answers = [tokens_of(core_of(self._clean(doc.answer))) for doc in docs]
        postings: dict[str, list[int]] = {}
        counts: dict[str, int] = {}
        owns: list[frozenset[str]] = []
        for entry, questions in enumerate(cores):
            own = frozenset().union(*(tokens_of(core) for _, core in questions))
            owns.append(own | keyword_tokens[entry])
            for token in own:
                postings.setdefault(token, []).append(entry)
            for token in own | keyword_tokens[entry] | answers[entry]:
                counts[token] = counts.get(token, 0) + 1
        self._idf = {t: math.log(1 + len(docs) / n) for t, n in counts.items()}
        self._unknown_idf = math.log(1 + max(len(docs), 1))  # a word no entry has
        # Token -> (entry, the IDF it adds to the entry's rank): a question's words at their
        # IDF, words only in an answer at ANSWER_SHARE of it (they rank, they do not score).
        weighted: dict[str, list[tuple[int, float]]] = {}
        for token, entries in postings.items():
            if len(entries) <= MAX_POSTINGS:
                weighted[token] = [(entry, self._idf[token]) for entry in entries]
        self._indexed = frozenset(weighted)
        answer_postings: dict[str, list[int]] = {}
        for entry, tokens in enumerate(answers):
            for token in tokens - owns[entry]:  # a question's word is found through it already
                answer_postings.setdefault(token, []).append(entry)
        for token, entries in answer_postings.items():
            if len(entries) <= MAX_POSTINGS:
                rank = ANSWER_SHARE * self._idf[token]
                weighted.setdefault(token, []).extend((entry, rank) for entry in entries)
        self._postings = {t: tuple(e) for t, e in weighted.items()}
        self._phrases = [
            tuple(self._phrase(q, core) for q, core in questions if core) for questions in cores
        ]
        self._unions = [frozenset().union(*(p.tokens for p in ps)) for ps in self._phrases]
        # What explains a message's words: questions and keywords fully, the answer less.
        self._explains = [u | k for u, k in zip(self._unions, keyword_tokens, strict=True)]
        self._answers = [a - e for a, e in zip(answers, self._explains, strict=True)]
        # Votes are divided by this so long entries do not crowd out short exact ones.
        self._norms = [math.sqrt(self._weight(union)) or 1.0 for union in self._unions]
        # Each question's weight and length bound how high it can score (see _ceiling).
        self._bounds = [
            tuple((p.weight, len(p.core)) for p in phrases if p.weight) for phrases in self._phrases
        ]
        self._lightest = [min((w for w, _ in b), default=0.0) for b in self._bounds]
        self._keywords = _keyword_finder(docs, self._clean)
        self._aspects = [
            frozenset().union(*(aspects_of(self._clean(q)) for q in doc.questions)) for doc in docs
        ]
        self._last: tuple[str, _Probe] | None = None
        self.last_candidates = 0
        """Entries the last search re-scored: at most TOP_K, whatever the FAQ size."""
        self.last_postings = 0
        """Index postings the last search walked: bounded by its tokens, not the FAQ size."""

    def _clean(self, text: str) -> str:
        return self._prepare(normalize(text))

    def _phrase(self, original: str, core: str) -> _Phrase:
        tokens = tokens_of(core)
        return _Phrase(original, core, tokens, self._weight(tokens))

    def _weight(self, tokens: Iterable[str]) -> float:
        """Summed IDF; fsum so that the same tokens weigh the same in any iteration order."""
        return math.fsum(self._idf[t] for t in tokens)

    def __len__(self) -> int:
        return len(self._keys)

    def search(self, text: str, threshold: float, clean: str | None = None) -> FaqHit | None:
        """The best entry scoring at least ``threshold`` (0-100); ties go to the earlier one.
        ``clean``: the text normalised already (the matcher has it), to spare doing it again.

        A message that does not read as a question keeps only NON_QUESTION_SHARE of its
        resemblance to a stored question: no keyword floor, no credit for what an entry
        explains of it (开始了 is fully "explained" by 直播几点开始, and asks nothing).
        """
        return next(iter(self.best(text, threshold, 1, clean)), None)

    def best(self, text: str, floor: float, limit: int, clean: str | None = None) -> list[FaqHit]:
        """The ``limit`` best entries scoring at least ``floor``, best first: a search, or
        the entries a question nothing answered came close to (read once for both: the last
        message's reading is kept)."""
        probe = self._probe_of(normalize(text) if clean is None else clean)
        core, tokens, shared = probe.core, probe.tokens, probe.shared
        unindexed = [t for t in tokens if t in self._idf and t not in self._indexed]
        spare = self._weight(unindexed)  # what the unindexed tokens could add, at most
        # What any entry can explain of the message is at most its known words.
        explained = _explained(probe.known, probe.whole)
        best: list[tuple[float, int, FaqHit]] = []
        self.last_candidates = 0
        for entry in probe.ranked:
            keyword = probe.keyword_hits.get(entry)
            share = self._share(entry, probe)
            # An entry that cannot reach the floor, or beat the best so far, is skipped:
            # first by a bound that costs two divisions, then by a tighter one.
            bar = floor if len(best) < limit else max(floor, best[-1][0])
            if keyword is None and (
                share * max(_blend(shared[entry] + spare, self._lightest[entry], 100.0), explained)
                < bar
                or share * max(self._ceiling(entry, shared[entry], unindexed, len(core)), explained)
                < bar
            ):
                continue
            self.last_candidates += 1
            hit = self._score(entry, core, tokens, keyword, probe.whole, share)
            if hit.score >= floor:
                best = sorted([*best, (hit.score, -entry, hit)], reverse=True)[:limit]
        return [hit for _, _, hit in best]

    def candidates(self, text: str, limit: int = 3) -> list[FaqHit]:
        """The best ``limit`` entries with their scores, whatever the threshold: for admins
        tuning their FAQ (``qunbot faq test``), not the message path."""
        probe = self._probe_of(normalize(text))
        hits = [
            self._score(
                entry,
                probe.core,
                probe.tokens,
                probe.keyword_hits.get(entry),
                probe.whole,
                self._share(entry, probe),
            )
            for entry in probe.ranked
        ]
        return sorted(hits, key=lambda hit: -hit.score)[:limit]

    def _probe_of(self, clean: str) -> _Probe:
        if self._last is None or self._last[0] != clean:
            self._last = (clean, self._probe(clean))
        return self._last[1]

    def _probe(self, clean: str) -> _Probe:
        """The message read once: its core and tokens, whether it asks, its keyword hits
        (a question's only), the IDF each entry shares with it, and the TOP_K entries
        sharing the most for their size."""
        asks = is_question(clean)
        clean = self._prepare(clean)
        core = core_of(clean)
        tokens = tokens_of(core)
        keyword_hits = self._keyword_hits(clean) if asks else {}
        shared: dict[int, float] = dict.fromkeys(keyword_hits, math.inf)
        walked = len(keyword_hits)
        whole = known = 0.0
        idf, unknown = self._idf, self._unknown_idf
        seams = seams_of(tokens, idf)
        for token in sorted(tokens):
            weight = idf.get(token)
            if weight is None:
                if token not in seams:
                    whole += unknown
                continue
            whole += weight
            known += weight
            entries = self._postings.get(token, ())
            walked += len(entries)
            for entry, rank in entries:
                shared[entry] = shared.get(entry, 0.0) + rank
        self.last_postings = walked
        ranked = heapq.nsmallest(TOP_K, shared, key=lambda e: (-shared[e] / self._norms[e], e))
        share = 1.0 if asks else REPORT_SHARE if REPORT.search(clean) else NON_QUESTION_SHARE
        return _Probe(
            core,
            tokens,
            asks,
            aspects_of(clean),
            share,
            whole if asks else 0.0,
            known,
            keyword_hits,
            shared,
            ranked,
        )

    def _share(self, entry: int, probe: _Probe) -> float:
        """Of its score, what the entry keeps for this message: less when they ask different
        things about the topic (a duration against a price)."""
        own = self._aspects[entry]
        if own and probe.aspects and own.isdisjoint(probe.aspects):
            return probe.share * ASPECT_CLASH_SHARE
        return probe.share

    def _ceiling(self, entry: int, indexed: float, unindexed: list[str], length: int) -> float:
        """The most this entry can score (plus slack for rounding): skipping hopeless
        candidates spares their fuzzy scoring, which is what grows with a large FAQ.

        Per question: its recall is at most the IDF the message shares with the whole
        entry over the question's own weight, and its edit similarity at most what the two
        lengths allow (an indel ratio cannot exceed 2·min/(sum of the lengths)).
        """
        shared = indexed + self._weight(t for t in unindexed if t in self._unions[entry])
        best = 0.0
        for weight, size in self._bounds[entry]:
            similarity = 200.0 * min(length, size) / (length + size) if length + size else 0.0
            best = max(best, _blend(shared, weight, similarity))
        return best

    def _keyword_hits(self, clean: str) -> dict[int, str]:
        """Entry -> its longest keyword found in the text; latin keywords only as whole words."""
        hits: dict[int, tuple[str, str]] = {}
        for word, owners in self._keywords.find(clean):
            for entry, original in owners:
                if len(word) > len(hits.get(entry, ("", ""))[0]):
                    hits[entry] = (word, original)
        return {entry: original for entry, (_, original) in hits.items()}

    def _score(
        self,
        entry: int,
        core: str,
        tokens: frozenset[str],
        keyword: str | None,
        whole: float,
        share: float,
    ) -> FaqHit:
        score, matched = 0.0, ""
        for phrase in self._phrases[entry]:
            recall = self._weight(tokens & phrase.tokens) / phrase.weight
            similarity = RECALL_SHARE * 100.0 * recall + (1 - RECALL_SHARE) * fuzz.ratio(
                core, phrase.core
            )
            if similarity > score:
                score, matched = similarity, phrase.original
        explained = self._weight(tokens & self._explains[entry])
        explained += ANSWER_SHARE * self._weight(tokens & self._answers[entry])
        score = max(score, _explained(explained, whole))
        if keyword is not None:
            covered = min(1.0, explained / whole) if whole else 1.0
            floor = KEYWORD_FLOOR - KEYWORD_SINK * max(0.0, 1.0 - covered / KEYWORD_COVERED)
            if score < floor:
                matched = keyword
            score = floor + (100.0 - floor) * score / 100.0
        return FaqHit(self._keys[entry], round(share * score, 2), matched)


def _blend(shared: float, weight: float, similarity: float) -> float:
    """The highest score a question of IDF ``weight`` can get when the message shares at
    most ``shared`` IDF with it and is at most ``similarity`` alike (plus rounding slack)."""
    recall = min(1.0, shared / weight) if weight else 0.0
    return RECALL_SHARE * 100.0 * recall + (1 - RECALL_SHARE) * similarity + 0.01


def _explained(explained: float, whole: float) -> float:
    """The score for explaining ``explained`` of a message weighing ``whole`` (by IDF)."""
    return PRECISION_SHARE * 100.0 * min(1.0, explained / whole) if whole else 0.0


def _keyword_finder(
    docs: Sequence[FaqDoc], clean: Callable[[str], str]
) -> WordFinder[tuple[tuple[int, str], ...]]:
    """Every entry's keywords, found in one pass; a keyword in too many entries is dropped."""
    owners: dict[str, dict[int, str]] = {}
    for entry, doc in enumerate(docs):
        for keyword in doc.keywords:
            word = clean(keyword)
            if word:
                owners.setdefault(word, {}).setdefault(entry, keyword)
    return WordFinder(
        {
            word: tuple(entries.items())
            for word, entries in owners.items()
            if len(entries) <= MAX_POSTINGS
        }
    )
