"""Points: grant them for a deed, and answer "my points" (积分) with balance, level and streak."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from loguru import logger
from pydantic import Field, field_validator

from core.effects import Effect
from core.events import Event
from storage.points import InsufficientPoints
from triggers.actions.base import ActionContext, BuildKit, Match, Templated, say
from triggers.schema_types import EventType
from triggers.templates import Renderable

MAX_GRANT = 10_000
"""The most points one grant or deduction may move (a rule's amount, an admin's /grant)."""

GRANT_VARIABLES = frozenset({"amount", "balance", "reason", "level"})
GRANT_SAMPLE: dict[str, Any] = {
    "amount": 5,
    "balance": 120,
    "reason": "分享干货",
    "level": {"name": "活跃成员", "next": "核心成员", "next_min": 500, "missing": 380},
}


class GrantPointsConfig(Templated):
    """Give the sender points (negative to deduct); silent unless text/template is set."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE, EventType.JOIN})
    reads_speaker_points: ClassVar[bool] = True

    action: Literal["points"]
    amount: int = Field(ge=-MAX_GRANT, le=MAX_GRANT, description="points to add; negative deducts")
    reason: str | None = Field(default=None, description="ledger reason; defaults to the rule name")

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, amount: int) -> int:
        if amount == 0:
            raise ValueError("amount must not be 0")
        return amount

    def build(self, kit: BuildKit) -> GrantPointsAction:
        template = self.build_template(kit, None, GRANT_VARIABLES, GRANT_SAMPLE)
        return GrantPointsAction(self.amount, self.reason, template)


@dataclass(frozen=True, slots=True)
class GrantPointsAction:
    amount: int
    reason: str | None
    template: Renderable | None

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        reason = self.reason or ctx.rule
        try:
            balance = ctx.tx.grant_points(event.group, event.member, self.amount, reason, event.at)
        except InsufficientPoints as short:
            logger.bind(group=event.group, member=event.member, rule=ctx.rule).info(
                "deduction of {} refused: the balance is {} and may not go below zero",
                -self.amount,
                short.balance,
            )
            return []
        context = {
            **ctx.base_context(event),
            "amount": self.amount,
            "balance": balance,
            "reason": reason,
            "level": ctx.levels.of(balance).as_context(),
        }
        return say(self.template, context, event, ctx, mentions=(event.member,))


QUERY_VARIABLES = frozenset({"balance", "level", "rank", "streak", "checkins"})
QUERY_SAMPLE: dict[str, Any] = {
    "balance": 120,
    "level": {"name": "活跃成员", "next": "核心成员", "next_min": 500, "missing": 380},
    "rank": 3,
    "streak": 5,
    "checkins": 12,
}


class MyPointsConfig(Templated):
    """Answer a member's question about their own points."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE})
    reads_speaker_points: ClassVar[bool] = True

    action: Literal["my_points"]

    def build(self, kit: BuildKit) -> MyPointsAction:
        template = self.build_template(kit, "my_points.j2", QUERY_VARIABLES, QUERY_SAMPLE)
        assert template is not None
        return MyPointsAction(template)


@dataclass(frozen=True, slots=True)
class MyPointsAction:
    template: Renderable

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        standing = ctx.tx.standing(event.group, event.member, ctx.local(event.at).date())
        context = {
            **ctx.base_context(event),
            "balance": standing.balance,
            "level": ctx.levels.of(standing.balance).as_context(),
            "rank": standing.rank,
            "streak": standing.streak,
            "checkins": standing.checkins,
        }
        return say(self.template, context, event, ctx, mentions=(event.member,))
