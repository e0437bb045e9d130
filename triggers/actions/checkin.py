"""Daily check-in (签到): once per member, group and local day, with streaks and bonuses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from core.effects import Effect
from core.events import Event
from storage.points import CheckinPoints
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
from triggers.schema_types import EventType
from triggers.templates import Renderable, TemplateProblem, TemplateSource

VARIABLES = frozenset({"checkin", "balance", "level", "already"})
SAMPLE: dict[str, Any] = {
    "checkin": {"points": 10, "bonus": 50, "streak": 7, "rank": 3, "day": "2026-11-24"},
    "balance": 160,
    "level": {"name": "活跃成员", "next": "核心成员", "next_min": 500, "missing": 340},
    "already": False,
}


class CheckinConfig(Templated):
    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE})
    reads_speaker_points: ClassVar[bool] = True
    action: Literal["checkin"]
    points: int = Field(default=10, ge=0, description="points for every check-in")
    streak_bonus: dict[int, int] = Field(
        default_factory=dict,
        description="extra points on reaching a streak length, e.g. {7: 50, 30: 200}",
    )
    already_template: str | None = Field(default=None, description="reply to a second check-in")
    already_text: str | None = None

    @field_validator("streak_bonus")
    @classmethod
    def _positive_days(cls, bonus: dict[int, int]) -> dict[int, int]:
        for days, points in bonus.items():
            if days < 1:
                raise ValueError(f"streak days must be 1 or more (got {days})")
            if points < 0:
                raise ValueError(f"a bonus cannot be negative (day {days}: {points})")
        return bonus

    def build(self, kit: BuildKit) -> CheckinAction:
        template = self.build_template(kit, "checkin.j2", VARIABLES, SAMPLE)
        assert template is not None
        points = CheckinPoints(self.points, tuple(sorted(self.streak_bonus.items())))
        return CheckinAction(points, template, self._already(kit))

    def _already(self, kit: BuildKit) -> Renderable:
        if self.already_text is not None and self.already_template is not None:
            raise BuildError("already_text", "give 'already_text' or 'already_template', not both")
        if self.already_text is not None:
            field, source = "already_text", TemplateSource(text=self.already_text)
        else:
            field = "already_template"
            source = TemplateSource(name=self.already_template or "checkin_already.j2")
        try:
            return kit.templates.compile(
                source, VARIABLES | BASE_VARIABLES, {**SAMPLE_BASE, **SAMPLE, "already": True}
            )
        except TemplateProblem as problem:
            raise BuildError(field, str(problem)) from None


@dataclass(frozen=True, slots=True)
class CheckinAction:
    points: CheckinPoints
    template: Renderable
    already_template: Renderable

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        day = ctx.local(event.at).date()
        result = ctx.tx.check_in(event.group, event.member, day, event.at, self.points)
        base = self.points.base
        balance: int | None = None
        if result.new and result.points:
            bonus = result.points - base
            if base:
                balance = ctx.tx.grant_points(event.group, event.member, base, "checkin", event.at)
            if bonus:
                reason = f"streak_bonus:{result.streak}"
                balance = ctx.tx.grant_points(event.group, event.member, bonus, reason, event.at)
        if balance is None:
            balance = ctx.tx.balance(event.group, event.member)
        context = {
            **ctx.base_context(event),
            "checkin": {
                "points": result.points,
                "bonus": result.points - base if result.new else 0,
                "streak": result.streak,
                "rank": result.rank,
                "day": day.isoformat(),
            },
            "balance": balance,
            "level": ctx.levels.of(balance).as_context(),
            "already": not result.new,
        }
        template = self.template if result.new else self.already_template
        return say(template, context, event, ctx, mentions=(event.member,))
