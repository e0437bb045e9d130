"""The FAQ (答疑) section of the config, compiled: a search index plus each answer's template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import Field, model_validator

from triggers.faq_index import DEFAULT_THRESHOLD, FaqDoc, FaqHit, FaqIndex
from triggers.schema_types import NonEmptyStr, StrictModel
from triggers.templates import Renderable

ANSWER_VARIABLES = frozenset({"question", "matched"})
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
    entries: list[FaqEntryConfig] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FaqAnswer:
    hit: FaqHit
    template: Renderable


class FaqCatalog:
    """Search once per message; the index keeps the cost flat as entries grow."""

    def __init__(self, config: FaqConfig, compile_answer: Callable[[int, str], Renderable]) -> None:
        self.threshold = config.threshold
        self._templates = {
            entry.id: compile_answer(i, entry.answer) for i, entry in enumerate(config.entries)
        }
        self._index = FaqIndex(
            [FaqDoc(e.id, tuple(e.questions), tuple(e.keywords)) for e in config.entries]
        )

    def __len__(self) -> int:
        return len(self._templates)

    def search(self, text: str, threshold: float | None = None) -> FaqHit | None:
        if not self._templates:
            return None
        return self._index.search(text, self.threshold if threshold is None else threshold)

    def candidates(self, text: str, limit: int = 3) -> list[FaqHit]:
        return self._index.candidates(text, limit) if self._templates else []

    def template(self, key: str) -> Renderable:
        return self._templates[key]
