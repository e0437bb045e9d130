"""The morning briefing (早报): the date, today's items, yesterday's numbers, the leaderboard.

It runs on a schedule trigger, once per group and scheduled time: the reply carries an
idempotency key, so no restart or reload can send a group two briefings for one morning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from loguru import logger
from pydantic import Field

from core.effects import Effect
from core.events import Event
from triggers.actions.base import ActionContext, BuildError, BuildKit, Match, Templated, say
from triggers.schema_types import EventType
from triggers.templates import Renderable

WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")

VARIABLES = frozenset(
    {"date", "weekday", "weekday_name", "is_weekend", "items", "yesterday", "leaders"}
)
SAMPLE: dict[str, Any] = {
    "date": date(2026, 11, 24),
    "weekday": 1,
    "weekday_name": "星期二",
    "is_weekend": False,
    "items": ["今晚 20:00 直播"],
    "yesterday": {
        "date": date(2026, 11, 23),
        "joins": 3,
        "leaves": 1,
        "messages": 120,
        "active_members": 25,
        "checkins": 18,
        "first_checkins": ["阿花", "小明"],
    },
    "leaders": [{"rank": 1, "member": "wxid_a", "name": "阿花", "points": 120}],
}


class BriefingConfig(Templated):
    """Runs on a schedule trigger; ``items_file`` is read at send time, so it can change daily."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.SCHEDULE})

    action: Literal["briefing"]
    items: list[str] = Field(
        default_factory=list, description="today's items, listed in the config"
    )
    items_file: str | None = Field(
        default=None,
        description="a file of today's items (next to config.yaml): one per line in .txt/.md, "
        "a JSON list, or a JSON object of lists keyed by date (YYYY-MM-DD)",
    )
    leaderboard_size: int = Field(default=5, ge=0, le=20, description="0 leaves it out")
    first_checkins: int = Field(default=3, ge=0, le=20, description="early risers to name")

    def build(self, kit: BuildKit) -> BriefingAction:
        template = self.build_template(kit, "briefing.j2", VARIABLES, SAMPLE)
        assert template is not None
        items_file = None
        if self.items_file is not None:
            items_file = (kit.config_dir or Path.cwd()) / self.items_file
            if not items_file.is_file():
                raise BuildError("items_file", f"file not found: {items_file}")
        return BriefingAction(
            tuple(self.items), items_file, self.leaderboard_size, self.first_checkins, template
        )


def read_items(path: Path, today: date) -> list[str]:
    """Today's items from a file: lines of text (list markers dropped), or JSON."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get(today.isoformat(), [])
        if not isinstance(data, list):
            raise ValueError("expected a JSON list, or an object of lists keyed by date")
        return [str(item) for item in data]
    items = []
    for line in text.splitlines():
        stripped = line.strip().lstrip("-*•").strip()
        if stripped and not stripped.startswith("#"):
            items.append(stripped)
    return items


@dataclass(frozen=True, slots=True)
class BriefingAction:
    items: tuple[str, ...]
    items_file: Path | None
    leaderboard_size: int
    first_checkins: int
    template: Renderable

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        local = ctx.local(event.at)
        today = local.date()
        yesterday = today - timedelta(days=1)
        start = datetime.combine(yesterday, time(0), tzinfo=ctx.group.tz)
        stats = ctx.tx.day_stats(
            event.group, yesterday, start, start + timedelta(days=1), self.first_checkins
        )
        leaders = (
            ctx.tx.leaderboard(event.group, None, self.leaderboard_size)
            if self.leaderboard_size
            else []
        )
        context = {
            **ctx.base_context(event),
            "date": today,
            "weekday": local.weekday(),
            "weekday_name": WEEKDAYS[local.weekday()],
            "is_weekend": local.weekday() >= 5,
            "items": [*self.items, *self._file_items(today, ctx)],
            "yesterday": {
                "date": yesterday,
                "joins": stats.joins,
                "leaves": stats.leaves,
                "messages": stats.messages,
                "active_members": stats.active_members,
                "checkins": stats.checkins,
                "first_checkins": list(stats.first_checkins),
            },
            "leaders": [
                {"rank": r.rank, "member": r.member, "name": r.name, "points": r.points}
                for r in leaders
            ],
        }
        return say(self.template, context, event, ctx)

    def _file_items(self, today: date, ctx: ActionContext) -> list[str]:
        if self.items_file is None:
            return []
        try:
            return read_items(self.items_file, today)
        except (OSError, ValueError) as error:
            # The ritual matters more than the content: send the briefing without the file.
            logger.bind(group=ctx.group.id, rule=ctx.rule).warning(
                "briefing items file {} unusable: {}", self.items_file, error
            )
            return []
