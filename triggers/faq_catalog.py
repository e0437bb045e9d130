"""The FAQ (答疑) section of the config, compiled: a search index plus each answer's template."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import Field, field_validator, model_validator

from storage.faq_queue import LearnedRow
from triggers.faq_index import DEFAULT_THRESHOLD, FaqDoc, FaqHit, FaqIndex
from triggers.faq_synonyms import reading
from triggers.schema_types import Duration, NonEmptyStr, StrictModel
from triggers.templates import PlainText, Renderable

ANSWER_VARIABLES = frozenset({"question", "matched"})
# An answer's template syntax ({{ member.name }}, {% if %}) says nothing about its topic.
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
ANSWER_SAMPLE: dict[str, Any] = {"question": "请问怎么退款？", "matched": "怎么申请退款"}


class FaqEntryConfig(StrictModel):
    id: NonEmptyStr = Field(description="a short unique name for the entry")
    questions: list[NonEmptyStr] = Field(
        default_factory=list, description="ways members ask it; rewordings still match"
    )
    keywords: list[NonEmptyStr] = Field(
        default_factory=list, description="words that strongly point to this entry"
    )
    answer: NonEmptyStr = Field(description="the answer, a template")

    @model_validator(mode="after")
    def _findable(self) -> FaqEntryConfig:
        if not self.questions and not self.keywords:
            raise ValueError("an FAQ entry needs at least one of 'questions' or 'keywords'")
        return self


class FaqConfig(StrictModel):
    threshold: float = Field(
        default=DEFAULT_THRESHOLD,
        ge=0,
        le=100,
        description="how close (0-100) a question must be to an entry to be answered",
    )
    suggest_band: float = Field(
        default=25,
        ge=0,
        le=100,
        description="a question scoring this close below the threshold gets '你是不是想问' "
        "with the closest entries, answered by replying a number (0: never)",
    )
    suggest_for: Duration = Field(
        default=timedelta(minutes=10), description="how long such an offer can be answered"
    )
    synonyms: list[list[NonEmptyStr]] = Field(
        default_factory=list,
        description="groups of words members use for the same thing, the first one standing "
        "for all, e.g. [[停卡, 暂停, 冻结]]; added to the bundled customer-service groups",
    )
    entries: list[FaqEntryConfig] = Field(default_factory=list)

    @field_validator("synonyms")
    @classmethod
    def _groups(cls, groups: list[list[str]]) -> list[list[str]]:
        for group in groups:
            if len(group) < 2:
                raise ValueError(f"a synonym group needs two words or more, got {group}")
        return groups


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    hit: FaqHit
    template: Renderable


SUGGESTIONS = 2  # entries a "did you mean" offers at most


class FaqCatalog:
    """Search once per message; the index keeps the cost flat as entries grow."""

    def __init__(self, config: FaqConfig, compile_answer: Callable[[int, str], Renderable]) -> None:
        self.threshold = config.threshold
        self.suggest_band = config.suggest_band
        self.suggest_for = config.suggest_for
        # How an entry is named when offered: its first question, else its first keyword.
        self._titles = {e.id: (e.questions or e.keywords)[0] for e in config.entries}
        self._templates: dict[str, Renderable] = {
            entry.id: compile_answer(i, entry.answer) for i, entry in enumerate(config.entries)
        }
        self._docs = [
            FaqDoc(e.id, tuple(e.questions), tuple(e.keywords), _TEMPLATE.sub(" ", e.answer))
            for e in config.entries
        ]
        keywords = [k for e in config.entries for k in e.keywords]
        self._prepare = reading(config.synonyms, keywords)
        self._index = FaqIndex(self._docs, self._prepare)
        self.learned: tuple[LearnedRow, ...] = ()

    def __len__(self) -> int:
        return len(self._templates)

    def search(
        self, text: str, threshold: float | None = None, clean: str | None = None
    ) -> FaqHit | None:
        """``clean``: ``text`` normalised already, when the caller has it."""
        if not self._templates:
            return None
        return self._index.search(text, self.threshold if threshold is None else threshold, clean)

    def candidates(self, text: str, limit: int = 3) -> list[FaqHit]:
        return self._index.candidates(text, limit) if self._templates else []

    def suggestions(self, text: str, threshold: float | None = None) -> list[FaqHit]:
        """The entries a question that nothing answered came close to: within
        ``suggest_band`` below the threshold, best first, at most SUGGESTIONS."""
        if not self._templates or not self.suggest_band:
            return []
        floor = (self.threshold if threshold is None else threshold) - self.suggest_band
        return self._index.best(text, floor, SUGGESTIONS)

    def title(self, key: str) -> str:
        return self._titles[key]

    def __contains__(self, key: str) -> bool:
        return key in self._templates

    def template(self, key: str) -> Renderable:
        return self._templates[key]

    def learn(self, rows: Sequence[LearnedRow]) -> None:
        """Add what operators taught (/learn) to the config's entries, rebuilding the index.

        A question for an entry the config has is one more way to ask it; one for an entry
        it does not have is a new entry, answered with the operator's plain text (never a
        template: it came from the chat). A taught entry the config now has wins over it.
        """
        questions: dict[str, list[str]] = {}
        added: dict[str, str] = {}
        for row in rows:
            questions.setdefault(row.entry, []).append(row.question)
            if row.answer is not None and row.entry not in added:
                added[row.entry] = row.answer
        known = {doc.key for doc in self._docs}
        docs = [
            FaqDoc(d.key, (*d.questions, *questions.get(d.key, ())), d.keywords, d.answer)
            for d in self._docs
        ]
        templates = {k: t for k, t in self._templates.items() if k in known}
        titles = {k: t for k, t in self._titles.items() if k in known}
        for entry, answer in added.items():
            if entry in known:
                continue
            docs.append(FaqDoc(entry, tuple(questions[entry]), (), answer))
            templates[entry] = PlainText(answer)
            titles[entry] = questions[entry][0]
        self._index = FaqIndex(docs, self._prepare)
        self._templates, self._titles = templates, titles
        self.learned = tuple(rows)
