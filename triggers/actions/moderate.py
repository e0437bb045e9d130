"""Count a broken group rule against the sender: a strike on the moderation ladder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from pydantic import Field

from core.effects import Effect
from core.events import Event
from triggers.actions.base import ActionContext, ActionModel, BuildKit, Match
from triggers.moderation.config import Rung
from triggers.moderation.ladder import Strike
from triggers.schema_types import EventType, NonEmptyStr


class ModerateConfig(ActionModel):
    """A strike for the sender; the ``moderation:`` ladder decides warn, mute or remove."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE})

    action: Literal["moderate"]
    reason: NonEmptyStr = Field(
        max_length=100, description="the group rule, as the warning names it: '请勿发广告'"
    )
    weight: int = Field(default=1, ge=1, le=10, description="strikes this counts as")
    step: Rung | None = Field(
        default=None, description="skip the ladder: 'remove' (a newcomer's ad), 'mute 1d' …"
    )

    def build(self, kit: BuildKit) -> ModerateAction:
        return ModerateAction(self.reason, self.weight, self.step)


@dataclass(frozen=True, slots=True)
class ModerateAction:
    reason: str
    weight: int
    step: Rung | None

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        if ctx.ladder is None:
            return []
        strike = Strike(ctx.rule, self.reason, self.weight, self.step)
        return ctx.ladder.strike(event, match, ctx, strike)
