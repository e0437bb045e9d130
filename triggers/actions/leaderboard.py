"""The points leaderboard (排行榜) for today, this week or all time, in the group's own zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from core.effects import Effect
from core.events import Event
from triggers.actions.base import ActionContext, BuildKit, Match, Templated, say
from triggers.schema_types import EventType
from triggers.templates import Renderable
from triggers.text import normalize


class Period(StrEnum):
    TODAY = "today"
    WEEK = "week"
    ALL = "all"


PERIOD_WORDS: dict[str, Period] = {
    **dict.fromkeys(("today", "day", "今日", "今天", "日榜", "日"), Period.TODAY),
    **dict.fromkeys(("week", "本周", "周", "周榜", "这周"), Period.WEEK),
    **dict.fromkeys(("all", "total", "总", "总榜", "全部"), Period.ALL),
}
PERIOD_LABELS = {Period.TODAY: "今日", Period.WEEK: "本周", Period.ALL: "总"}

VARIABLES = frozenset({"period", "period_label", "rows"})
SAMPLE: dict[str, Any] = {
    "period": "all",
    "period_label": "总",
    "rows": [{"rank": 1, "member": "wxid_a", "name": "阿花", "points": 120}],
}


class LeaderboardConfig(Templated):
    """Top members by points; a word after the command picks the period (排行榜 本周)."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE, EventType.SCHEDULE})

    action: Literal["leaderboard"]
    period: Period = Field(default=Period.ALL, description="period when none is asked for")
    size: int = Field(default=10, ge=1, le=50, description="how many members to list")

    def build(self, kit: BuildKit) -> LeaderboardAction:
        template = self.build_template(kit, "leaderboard.j2", VARIABLES, SAMPLE)
        assert template is not None
        return LeaderboardAction(self.period, self.size, template)


def period_start(period: Period, local_now: datetime) -> datetime | None:
    """Local midnight today, local Monday midnight, or None for all time."""
    if period is Period.ALL:
        return None
    midnight = datetime.combine(local_now.date(), time(0), tzinfo=local_now.tzinfo)
    if period is Period.TODAY:
        return midnight
    return midnight - timedelta(days=local_now.weekday())


@dataclass(frozen=True, slots=True)
class LeaderboardAction:
    period: Period
    size: int
    template: Renderable

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        asked = normalize(match.args).split(" ", 1)[0] if match.args else ""
        period = PERIOD_WORDS.get(asked, self.period)
        since = period_start(period, ctx.local(event.at))
        rows = ctx.tx.leaderboard(event.group, since, self.size)
        context = {
            **ctx.base_context(event),
            "period": period.value,
            "period_label": PERIOD_LABELS[period],
            "rows": [
                {"rank": r.rank, "member": r.member, "name": r.name, "points": r.points}
                for r in rows
            ],
        }
        return say(self.template, context, event, ctx)
