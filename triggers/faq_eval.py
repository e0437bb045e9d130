"""How well an FAQ answers a labelled set of asks: hits, wrong answers, chatter answered.

A labelled set is a UTF-8 text file, one ask per line: the entry id that should answer it
(or ``-`` for chatter nothing should answer), whitespace, then the member's text. Blank
lines and lines starting with ``#`` are notes. Admins keep one beside their config to tune
``faq.threshold`` (``qunbot faq eval``); the tests keep five to hold the matcher to its
targets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from triggers.faq_catalog import FaqCatalog
from triggers.text_files import NotUtf8, read_utf8

CHATTER = "-"
SWEEP = tuple(range(30, 95, 5))


class LabelledSetError(Exception):
    """A labelled set that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Ask:
    line: int
    expected: str | None  # None: chatter, nothing should answer it
    text: str


@dataclass(slots=True)
class Outcome:
    """One ask at one threshold: what answered it (None: nothing) and with what score."""

    ask: Ask
    answered: str | None
    score: float


@dataclass(slots=True)
class Evaluation:
    threshold: float
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def questions(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ask.expected is not None]

    @property
    def chatter(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ask.expected is None]

    @property
    def hits(self) -> list[Outcome]:
        return [o for o in self.questions if o.answered == o.ask.expected]

    @property
    def wrong(self) -> list[Outcome]:
        return [o for o in self.questions if o.answered not in (None, o.ask.expected)]

    @property
    def missed(self) -> list[Outcome]:
        return [o for o in self.questions if o.answered is None]

    @property
    def chatter_answered(self) -> list[Outcome]:
        return [o for o in self.chatter if o.answered is not None]

    def rate(self, part: Sequence[Outcome], whole: Sequence[Outcome]) -> float:
        return len(part) / len(whole) if whole else 0.0

    @property
    def hit_rate(self) -> float:
        return self.rate(self.hits, self.questions)

    @property
    def wrong_rate(self) -> float:
        return self.rate(self.wrong, self.questions)

    @property
    def chatter_rate(self) -> float:
        return self.rate(self.chatter_answered, self.chatter)


def read_labelled(path: Path, known: Iterable[str]) -> list[Ask]:
    """The asks of a labelled set; every entry id must be one the FAQ has."""
    try:
        text = read_utf8(path)
    except NotUtf8 as error:
        raise LabelledSetError(f"{path}:{error.line}:{error.column}: {error.reason}") from None
    except OSError as error:
        raise LabelledSetError(f"{path}: cannot read it: {error.strerror or error}") from None
    ids = set(known)
    asks: list[Ask] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) < 2:
            raise LabelledSetError(
                f"{path}:{number}: expected '<entry id or -> <text>', got {line.strip()!r}"
            )
        expected, ask = parts
        if expected != CHATTER and expected not in ids:
            listed = ", ".join(sorted(ids)) or "none"
            raise LabelledSetError(
                f"{path}:{number}: no FAQ entry {expected!r} (entries: {listed}; - for chatter)"
            )
        asks.append(Ask(number, None if expected == CHATTER else expected, ask.strip()))
    if not asks:
        raise LabelledSetError(f"{path}: no labelled lines")
    return asks


def evaluate(catalog: FaqCatalog, asks: Sequence[Ask], threshold: float) -> Evaluation:
    """What the FAQ answers at ``threshold``, ask by ask (as the message path would)."""
    evaluation = Evaluation(threshold)
    for ask in asks:
        hit = catalog.search(ask.text, threshold)
        best = hit or next(iter(catalog.candidates(ask.text, 1)), None)
        evaluation.outcomes.append(
            Outcome(ask, hit.key if hit else None, best.score if best else 0.0)
        )
    return evaluation
