"""Effect with a template: the plain keyword-reply of every group bot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from core.effects import Effect
from core.events import Event
from triggers.actions.base import ActionContext, BuildError, BuildKit, Match, Templated, say
from triggers.templates import Renderable

VARIABLES = frozenset({"match", "message"})
SAMPLE: dict[str, Any] = {
    "match": {"args": "", "keywords": ["退款"], "groups": {}},
    "message": "怎么退款？",
}


class ReplyConfig(Templated):
    action: Literal["reply"]
    mention: bool = Field(default=False, description="@mention the sender with the reply")

    def build(self, kit: BuildKit) -> ReplyAction:
        if self.text is None and self.template is None:
            raise BuildError("text", "a reply needs 'text' or 'template'")
        groups = dict.fromkeys(kit.regex_groups, "1" * 6)
        sample = {**SAMPLE, "match": {**SAMPLE["match"], "groups": groups}}
        template = self.build_template(kit, None, VARIABLES, sample)
        assert template is not None
        return ReplyAction(template, self.mention)


@dataclass(frozen=True, slots=True)
class ReplyAction:
    template: Renderable
    mention: bool

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        context = {**ctx.base_context(event), "match": match.as_context(), "message": event.text}
        return say(self.template, context, event, ctx, (event.member,) if self.mention else ())
