"""Tag the sender (意向:瓷砖 when they ask about tiles), or take tags off; optionally expiring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from core.effects import Effect
from core.events import Event
from storage.tags import MAX_TAG_CHARS, TagSource
from triggers.actions.base import ActionContext, BuildKit, Match, Templated, say
from triggers.schema_types import Duration, EventType
from triggers.templates import Renderable

VARIABLES = frozenset({"added", "removed", "tags"})
SAMPLE: dict[str, Any] = {"added": ["意向:瓷砖"], "removed": [], "tags": ["VIP", "意向:瓷砖"]}


class TagConfig(Templated):
    """Add tags to the sender (or the member who joined) and/or remove some; silent unless
    text/template is set."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE, EventType.JOIN})

    action: Literal["tag"]
    add: list[str] = Field(default_factory=list, description="tags to add, e.g. ['意向:瓷砖']")
    remove: list[str] = Field(default_factory=list, description="tags to take off")
    expires: Duration | None = Field(
        default=None, description="added tags expire after this long, e.g. '30d'"
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> TagConfig:
        if not self.add and not self.remove:
            raise ValueError("give tags to 'add' or to 'remove'")
        for tag in [*self.add, *self.remove]:
            if not tag.strip() or len(tag) > MAX_TAG_CHARS:
                raise ValueError(f"a tag is 1 to {MAX_TAG_CHARS} characters (got {tag!r})")
        if both := sorted(set(self.add) & set(self.remove)):
            raise ValueError(f"tag(s) both added and removed: {', '.join(both)}")
        if self.expires is not None and not self.add:
            raise ValueError("'expires' applies to added tags; nothing is added")
        return self

    def build(self, kit: BuildKit) -> TagAction:
        template = self.build_template(kit, None, VARIABLES, SAMPLE)
        return TagAction(tuple(self.add), tuple(self.remove), self.expires, template)


@dataclass(frozen=True, slots=True)
class TagAction:
    add: tuple[str, ...]
    remove: tuple[str, ...]
    expires: timedelta | None
    template: Renderable | None

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        until = event.at + self.expires if self.expires is not None else None
        for tag in self.add:
            ctx.tx.tag(event.group, event.member, tag, TagSource.RULE, event.at, until, ctx.rule)
        removed = [t for t in self.remove if ctx.tx.untag(event.group, event.member, t)]
        if self.template is None:
            return []
        context = {
            **ctx.base_context(event),
            "added": list(self.add),
            "removed": removed,
            "tags": ctx.tx.tags_of(event.group, event.member, event.at),
        }
        return say(self.template, context, event, ctx, mentions=(event.member,))
