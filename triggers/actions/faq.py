"""Answer members' questions from the FAQ; record what nothing answers for a human.

A question that came close ("did you mean"): the member gets the closest entries, numbered,
and answers with a number (:func:`answer_choice`, which the engine asks first); the offer
is in the store, so a restart between the two loses nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from core.effects import Effect
from core.events import Event
from triggers.actions.base import (
    BASE_VARIABLES,
    SAMPLE_BASE,
    ActionContext,
    BuildError,
    BuildKit,
    Match,
    Templated,
    say,
)
from triggers.faq_catalog import FaqCatalog
from triggers.schema_types import EventType
from triggers.templates import Renderable, TemplateProblem, TemplateSource
from triggers.text import looks_like_question

MISS_VARIABLES = frozenset({"question"})
MISS_SAMPLE: dict[str, Any] = {"question": "周末有活动吗？"}
SUGGEST_VARIABLES = frozenset({"question", "suggestions"})
SUGGEST_SAMPLE: dict[str, Any] = {
    "question": "发货快吗",
    "suggestions": [{"number": 1, "question": "多久发货", "entry": "shipping"}],
}
# A reply that picks an offered entry: one digit, full width or not, maybe a 第/号/个 around.
_CHOICE = re.compile(r"^\s*第?\s*([1-9１-９])\s*(?:个|号|条)?\s*[。.!！]?\s*$")


class FaqActionConfig(Templated):
    """``text``/``template`` here is what to say when nothing answers (silent if unset)."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE})

    action: Literal["faq"]
    threshold: float | None = Field(
        default=None, ge=0, le=100, description="overrides faq.threshold for this rule"
    )
    record_unanswered: bool = Field(
        default=True, description="keep unanswered questions for a human to answer"
    )
    suggest_text: str | None = Field(
        default=None,
        description="the '你是不是想问' offer (default: template faq_suggest.j2); variables "
        "question and suggestions (number, question, entry)",
    )

    def build(self, kit: BuildKit) -> FaqAction:
        if not len(kit.faq):
            raise BuildError("action", "'faq' needs entries under faq.entries")
        miss = self.build_template(kit, None, MISS_VARIABLES, MISS_SAMPLE)
        source = (
            TemplateSource(text=self.suggest_text)
            if self.suggest_text is not None
            else TemplateSource(name="faq_suggest.j2")
        )
        try:
            offer = kit.templates.compile(
                source, SUGGEST_VARIABLES | BASE_VARIABLES, {**SAMPLE_BASE, **SUGGEST_SAMPLE}
            )
        except TemplateProblem as problem:
            raise BuildError("suggest_text", str(problem)) from None
        return FaqAction(kit.faq, self.threshold, self.record_unanswered, miss, offer)


@dataclass(frozen=True, slots=True)
class FaqAction:
    catalog: FaqCatalog
    threshold: float | None
    record_unanswered: bool
    miss_template: Renderable | None
    offer_template: Renderable

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        if match.searched and self.threshold is None:
            hit = match.faq  # the question trigger searched already; a miss stays a miss
        else:
            hit = self.catalog.search(event.text, self.threshold)
        if hit is not None:
            context = {**ctx.base_context(event), "question": event.text, "matched": hit.matched}
            return say(self.catalog.template(hit.key), context, event, ctx, (event.member,))
        if not looks_like_question(event.text):
            return []
        if self.record_unanswered:
            ctx.tx.record_unanswered(event.group, event.member, event.text, event.at)
        context = {**ctx.base_context(event), "question": event.text}
        close = self.catalog.suggestions(event.text, self.threshold)
        if close:
            entries = [hit.key for hit in close]
            until = event.at + self.catalog.suggest_for
            ctx.tx.suggest(event.group, event.member, event.text, entries, event.at, until)
            context["suggestions"] = [
                {"number": n, "question": self.catalog.title(key), "entry": key}
                for n, key in enumerate(entries, start=1)
            ]
            return say(self.offer_template, context, event, ctx, mentions=(event.member,))
        return say(self.miss_template, context, event, ctx, mentions=(event.member,))


def choice_of(text: str) -> int | None:
    """The number a reply picks ("1", "２", "第1个"), or None for anything else."""
    found = _CHOICE.match(text)
    return int(unicodedata.normalize("NFKC", found.group(1))) if found else None


def answer_choice(
    event: Event, number: int, catalog: FaqCatalog, ctx: ActionContext
) -> list[Effect] | None:
    """The answer a member picked from their open offer; None when they have no open offer
    or the number is not one of it (the message then goes to the rules like any other)."""
    offer = ctx.tx.open_suggestion(event.group, event.member, event.at)
    if offer is None or number > len(offer.entries):
        return None
    entry = offer.entries[number - 1]
    if entry not in catalog:  # the config changed meanwhile: the entry is gone
        return None
    ctx.tx.choose(offer.id, entry, event.at)
    ctx.tx.answer_questions(event.group, event.member, event.at)
    context = {**ctx.base_context(event), "question": offer.asked, "matched": catalog.title(entry)}
    return say(catalog.template(entry), context, event, ctx, (event.member,))


def faq_rule_names(rules: Sequence[Any]) -> list[str]:
    """The rules that answer from the FAQ: an interaction one of them took was a question."""
    return [r.name for r in rules if any(isinstance(a, FaqAction) for a in r.actions)]
