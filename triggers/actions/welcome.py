"""The welcome pack (入群欢迎): greet newcomers by name, state the rules, give the guide.

A join only queues the newcomer (durably, in the store); the welcome is sent when the
group's burst window closes, so twenty joins in a minute get one message, not twenty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

from pydantic import Field

from core.effects import Effect
from core.events import Event
from core.jobs import WELCOME
from storage.welcomes import PendingWelcome
from triggers.actions.base import (
    ActionContext,
    BuildKit,
    GroupInfo,
    Match,
    Templated,
    mentioned,
)
from triggers.schema_types import Duration, EventType
from triggers.templates import Renderable, render

VARIABLES = frozenset({"members", "names", "group_rules", "guide"})
SAMPLE: dict[str, Any] = {
    "members": [
        {"id": "wxid_a", "name": "阿花", "inviter": "wxid_b", "inviter_name": "小明"},
        {"id": "wxid_c", "name": "Bob", "inviter": None, "inviter_name": None},
    ],
    "names": "阿花、Bob",
    "group_rules": ["禁止广告"],
    "guide": "新人指南",
}


class WelcomeConfig(Templated):
    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.JOIN})
    action: Literal["welcome"]
    burst_window: Duration = Field(
        default=timedelta(seconds=30),
        description="joins within this window of the first one share one welcome",
    )
    max_delay: Duration = Field(
        default=timedelta(hours=2),
        description="a welcome still unsent this long after it was due (bot was down) is dropped",
    )
    group_rules: list[str] = Field(default_factory=list, description="the group rules to state")
    guide: str = Field(default="", description="the newcomer's guide: a link or a few lines")

    def build(self, kit: BuildKit) -> WelcomeAction:
        template = self.build_template(kit, "welcome.j2", VARIABLES, SAMPLE)
        assert template is not None
        return WelcomeAction(
            self.burst_window, self.max_delay, tuple(self.group_rules), self.guide, template
        )


@dataclass(frozen=True, slots=True)
class WelcomeAction:
    burst_window: timedelta
    max_delay: timedelta
    group_rules: tuple[str, ...]
    guide: str
    template: Renderable

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        due = ctx.tx.queue_welcome(event.group, event.member, ctx.rule, self.burst_window)
        ctx.wake(due, WELCOME)
        return []

    def is_stale(self, due: datetime, now: datetime) -> bool:
        return now - due > self.max_delay

    def greet(
        self, group: GroupInfo, pending: Sequence[PendingWelcome], now: datetime, rule: str
    ) -> Effect:
        members = [
            {"id": p.member, "name": p.name, "inviter": p.inviter, "inviter_name": p.inviter_name}
            for p in pending
        ]
        local_now = now.astimezone(group.tz)
        context = {
            "member": members[0],
            "group": {"id": group.id, "name": group.name},
            "now": local_now,
            "members": members,
            "names": "、".join(p.name for p in pending),
            "group_rules": list(self.group_rules),
            "guide": self.guide,
        }
        return Effect(
            group=group.id,
            text=mentioned(render(self.template, context), [p.name or p.member for p in pending]),
            at=local_now,
            mentions=tuple(p.member for p in pending),
            rule=rule,
        )
