"""What every action shares: the match it is handed, the context it runs in, how it is built.

An action is ``(event, match, ctx) -> list[Effect]``: it changes state only through the
store transaction in ``ctx`` and never calls the platform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

from core.actors import Actor
from core.effects import Effect
from core.events import Event, EventKind
from core.jobs import Tick
from core.layers import LayerThresholds
from storage.faq_queue import LearnedRow
from storage.store import StoreTx
from triggers.faq_index import FaqHit
from triggers.schema_types import EventType, StrictModel
from triggers.templates import Renderable, TemplateProblem, Templates, TemplateSource, render

if TYPE_CHECKING:
    from triggers.broadcasts import Broadcasts
    from triggers.moderation.ladder import Ladder
    from triggers.points_levels import Levels

# (kind, group, subject, period, text, at) -> the alert's effects (see triggers.alerts)
RaiseAlert = Callable[[str, str, str, str, str, datetime], list[Effect]]


def _no_alerts(*_: Any) -> list[Effect]:
    return []


class Control(Protocol):
    """The operations layer as admin commands see it (``bot.operations.Operations``)."""

    @property
    def broadcasts(self) -> Broadcasts: ...

    def audited(
        self, tx: StoreTx, actor: Actor, action: str, detail: str, now: datetime
    ) -> AbstractContextManager[None]:
        """Check the actor's role for ``action``, run the block, audit how it ended."""
        ...

    def reload(self, now: datetime, actor: str) -> list[str]:
        """Reload the config; the problems found (the old config then stays), or none."""
        ...

    def learn(self, tx: StoreTx, rows: Sequence[LearnedRow]) -> None:
        """Apply everything taught to the FAQ so far to the rules in force."""
        ...

    def grant_role(
        self,
        tx: StoreTx,
        actor: Actor,
        member: str,
        role: str,
        group: str | None,
        lasting: timedelta,
        now: datetime,
    ) -> datetime:
        """Hand a role for a while; until when (GrantRefused when it cannot be)."""
        ...

    def revoke_roles(
        self, tx: StoreTx, actor: Actor, member: str, group: str | None, now: datetime
    ) -> int:
        """End a member's running grants; how many."""
        ...


@dataclass(frozen=True, slots=True)
class Match:
    """What the trigger found, handed to the action so it never re-parses the message."""

    args: str = ""
    keywords: tuple[str, ...] = ()
    groups: Mapping[str, str] = field(default_factory=dict)
    faq: FaqHit | None = None
    searched: bool = False  # the FAQ was searched at its own threshold: ``faq`` is the answer
    detected: tuple[str, ...] = ()  # what a ``detect:`` trigger found ("链接 t.cn/x")

    def as_context(self) -> dict[str, Any]:
        return {"args": self.args, "keywords": list(self.keywords), "groups": dict(self.groups)}


@dataclass(frozen=True, slots=True)
class GroupInfo:
    id: str
    name: str
    tz: ZoneInfo


@dataclass(slots=True)
class ActionContext:
    """Everything an action may use; ``wake`` asks the dispatcher for a timer tick later."""

    tx: StoreTx
    rule: str
    group: GroupInfo
    levels: Levels
    wake: Callable[[datetime, Tick], None]
    role: str = "member"
    control: Control | None = None
    # The role another member of this group holds (who may act on whom).
    role_of: Callable[[str], str] = field(default=lambda member: "member")
    layers: LayerThresholds = field(default_factory=LayerThresholds)
    ladder: Ladder | None = None
    alert: RaiseAlert = _no_alerts
    grant: str = ""  # when the sender's role is a grant's: which, for the audit log
    # The last time made local: an action asks for its event's time three or four times.
    _last: tuple[datetime, datetime] | None = field(default=None, init=False, repr=False)

    def local(self, at: datetime) -> datetime:
        last = self._last
        if last is not None and last[0] is at:
            return last[1]
        local = at.astimezone(self.group.tz)
        self._last = (at, local)
        return local

    def base_context(self, event: Event) -> dict[str, Any]:
        """Variables every template may use: who, where, when."""
        return {
            "member": {
                "id": event.member,
                "name": event.name or (self.tx.name_of(event.member) if event.member else ""),
            },
            "group": {"id": self.group.id, "name": self.group.name},
            "now": self.local(event.at),
        }


class Action(Protocol):
    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]: ...


class BuildError(Exception):
    """A problem found while compiling an action; ``field`` names the config key at fault."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True, slots=True)
class BuildKit:
    """What actions need at compile time."""

    templates: Templates
    levels: Levels
    faq: Any  # triggers.faq_catalog.FaqCatalog; typed loosely to keep imports one-way
    config_dir: Path | None = None
    regex_groups: tuple[str, ...] = ()  # the rule's regex's named groups, for sample renders
    confirmations: Any = None  # triggers.config.ConfirmationsConfig (loosely typed: one-way)


BASE_VARIABLES = frozenset({"member", "group", "now"})

SAMPLE_BASE: dict[str, Any] = {
    "member": {"id": "wxid_sample", "name": "小明"},
    "group": {"id": "g_sample", "name": "示例群"},
    "now": datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
}


class ActionModel(StrictModel):
    """An action's config: its ``action`` key, the events it accepts, how to build it.

    Every subclass in a module of ``triggers/actions/`` is an action the config accepts
    (see :func:`triggers.actions.action_models`): adding one touches its own module only.
    """

    action: str
    # The trigger kinds the action makes sense on; by default all of them.
    accepts: ClassVar[frozenset[EventType]] = frozenset(EventType)
    # Whether it reads or changes the speaker's points: a batch reads those of the members
    # whose messages trigger such a rule together, and only theirs.
    reads_speaker_points: ClassVar[bool] = False

    def build(self, kit: BuildKit) -> Action:
        raise NotImplementedError


class Templated(ActionModel):
    """For actions that speak: a template file under templates/, or inline ``text``."""

    template: str | None = None
    text: str | None = None

    def source(self, default: str | None) -> TemplateSource | None:
        if self.text is not None and self.template is not None:
            raise BuildError("text", "give either 'text' or 'template', not both")
        if self.text is not None:
            return TemplateSource(text=self.text)
        name = self.template or default
        return TemplateSource(name=name) if name else None

    def build_template(
        self,
        kit: BuildKit,
        default: str | None,
        variables: frozenset[str],
        sample: Mapping[str, Any],
    ) -> Renderable | None:
        source = self.source(default)
        if source is None:
            return None
        try:
            return kit.templates.compile(
                source, variables | BASE_VARIABLES, {**SAMPLE_BASE, **sample}
            )
        except TemplateProblem as problem:
            raise BuildError(
                "text" if source.text is not None else "template", str(problem)
            ) from None


def say(
    template: Renderable | None,
    context: Mapping[str, Any],
    event: Event,
    ctx: ActionContext,
    mentions: tuple[str, ...] = (),
) -> list[Effect]:
    """Render one reply into the event's group, or nothing when the action has no template."""
    if template is None:
        return []
    text = render(template, context)
    if not text:
        return []
    names = [
        (event.name if member == event.member else "") or ctx.tx.name_of(member)
        for member in mentions
    ]
    return [
        Effect(
            event.group,
            mentioned(text, names),
            ctx.local(event.at),
            mentions=mentions,
            rule=ctx.rule,
            requester=event.member if event.kind is EventKind.MESSAGE else None,
        )
    ]


def mentioned(text: str, names: Iterable[str]) -> str:
    """The text as WeChat shows an @mention: "@Name " in front, unless it names them already.

    Decided here, once, so every adapter shows the same text: a WeChat client (and the
    puppet service, which only notifies the ids) never adds the visible "@Name" itself.
    """
    return "".join(f"@{name} " for name in names if f"@{name}" not in text) + text
