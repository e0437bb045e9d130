"""Answer members' questions from the FAQ; record what nothing answers for a human."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field

from core.effects import Effect
from core.events import Event
from triggers.actions.base import ActionContext, BuildError, BuildKit, Match, Templated, say
from triggers.faq_catalog import FaqCatalog
from triggers.schema_types import EventType
from triggers.templates import Renderable
from triggers.text import looks_like_question

MISS_VARIABLES = frozenset({"question"})
MISS_SAMPLE: dict[str, Any] = {"question": "周末有活动吗？"}


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

    def build(self, kit: BuildKit) -> FaqAction:
        if not len(kit.faq):
            raise BuildError("action", "'faq' needs entries under faq.entries")
        miss = self.build_template(kit, None, MISS_VARIABLES, MISS_SAMPLE)
        return FaqAction(kit.faq, self.threshold, self.record_unanswered, miss)


@dataclass(frozen=True, slots=True)
class FaqAction:
    catalog: FaqCatalog
    threshold: float | None
    record_unanswered: bool
    miss_template: Renderable | None

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
        return say(self.miss_template, context, event, ctx, mentions=(event.member,))
