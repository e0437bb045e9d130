"""Operators' broadcasts: one message to chosen groups (or every group), now, at a time, or
on a cron schedule; rendered per group; delivered through the outbox, once per group and run.
A segment broadcast (``layer=quiet``) goes only to groups that have members of the segment
when it runs, and @mentions them, a bounded number per message.

Shared by the CLI (``qunbot broadcast``) and the chat command; both go through
:class:`Broadcasts`, which validates, stores, schedules and audits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from loguru import logger

from core.effects import Effect
from core.events import clean_text
from core.jobs import JobId, JobSpec, Schedule
from core.layers import LayerThresholds
from core.statuses import BroadcastStatus
from storage.broadcasts import BroadcastRow
from storage.layers import MemberLayer
from storage.store import StoreTx
from triggers.actions.base import mentioned
from triggers.segments import Segment, parse_segment
from triggers.templates import Renderable, TemplateProblem, Templates, TemplateSource, render

BROADCAST_PRIORITY = 10
# A broadcast due while the bot was down still goes out this late; later, it is skipped.
BROADCAST_GRACE = timedelta(hours=1)

VARIABLES = frozenset({"group", "now"})
SAMPLE: dict[str, Any] = {
    "group": {"id": "g1", "name": "示例群", "members": 120},
    "now": datetime(2026, 11, 24, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
}
# A segment broadcast's template may also say whom it reaches in the group.
SEGMENT_VARIABLES = VARIABLES | {"segment"}
SEGMENT_SAMPLE: dict[str, Any] = {
    **SAMPLE,
    "segment": {"size": 2, "names": ["小明", "小红"], "layer": "quiet", "tag": ""},
}


class BroadcastError(ValueError):
    """A broadcast that cannot be made as asked; the message says why, for an operator."""


@dataclass(frozen=True, slots=True)
class BroadcastRequest:
    text: str
    groups: tuple[str, ...] | None  # None: every group the bot serves
    at: datetime | None  # None with no cron: now
    cron: str | None = None
    segment: Segment | None = None


def job_spec(row: BroadcastRow) -> JobSpec:
    if row.cron is not None:
        return JobSpec(
            CronTrigger.from_crontab(row.cron, timezone=ZoneInfo(row.timezone)), BROADCAST_GRACE
        )
    assert row.at is not None
    return JobSpec(DateTrigger(run_date=row.at), BROADCAST_GRACE)


@dataclass(frozen=True, slots=True)
class Reach:
    """How a segment broadcast finds whom to @mention: each group's zone, the layer
    thresholds, and how many members one message may @mention."""

    zone_of: Callable[[str], ZoneInfo]
    thresholds: LayerThresholds
    per_message: int

    def members(
        self, tx: StoreTx, segment: Segment, group: str, now: datetime
    ) -> list[MemberLayer]:
        return segment.reachable(tx, group, self.zone_of(group), self.thresholds, now)


class Broadcasts:
    def __init__(
        self,
        templates: Templates,
        jobs: Schedule,
        served: Callable[[StoreTx], list[str]],
        group_name: Callable[[StoreTx, str], str],
        timezone: str,
        room_of: Callable[[str], str],
        reach: Reach,
    ) -> None:
        """``reach``: how a segment broadcast finds its members (the rules' layers)."""
        self._room_of = room_of
        self._reach = reach
        self._templates = templates
        self._jobs = jobs
        self._served = served
        self._group_name = group_name
        self._timezone = timezone

    def compile(self, text: str, segmented: bool = False) -> Renderable:
        variables, sample = (
            (SEGMENT_VARIABLES, SEGMENT_SAMPLE) if segmented else (VARIABLES, SAMPLE)
        )
        try:
            return self._templates.compile(TemplateSource(text=text), variables, sample)
        except TemplateProblem as problem:
            raise BroadcastError(str(problem)) from None

    def create(
        self, tx: StoreTx, request: BroadcastRequest, actor: str, now: datetime, confirmed: bool
    ) -> int:
        """Store a broadcast; schedule it unless it still waits for confirmation."""
        # Control characters are invisible in a chat and refused by PostgreSQL.
        request = replace(request, text=clean_text(request.text))
        self.compile(request.text, request.segment is not None)
        if request.cron is not None:
            self._check_cron(request.cron, now)
        if request.at is not None and request.at < now.replace(second=0, microsecond=0):
            # An explicit time is never quietly turned into "now"; the same minute still counts.
            zone = request.at.tzinfo
            raise BroadcastError(
                f"{request.at:%Y-%m-%d %H:%M} ({zone}) is in the past: "
                f"it is now {now.astimezone(zone):%Y-%m-%d %H:%M} ({zone})"
            )
        if request.groups is not None:
            request = replace(request, groups=self._rooms(tx, request.groups))
        at = request.at
        if request.cron is None:
            at = max(at or now, now)
        segment = str(request.segment) if request.segment is not None else None
        broadcast_id = tx.create_broadcast(
            request.text, request.groups, at, request.cron, self._timezone, actor, now, segment
        )
        if confirmed:
            self.schedule(tx, broadcast_id, now)
        else:
            tx.set_broadcast_status(broadcast_id, BroadcastStatus.UNCONFIRMED, now)
        return broadcast_id

    def _rooms(self, tx: StoreTx, names: Sequence[str]) -> tuple[str, ...]:
        """Targets as room ids: a config id, a config topic (once bound) or a room id."""
        if not names:
            raise BroadcastError("no groups given")
        served = self._served(tx)
        rooms = {name: self._room_of(name) for name in names}
        unknown = [name for name, room in rooms.items() if room not in served]
        if unknown:
            unbound = [name for name in unknown if rooms[name].startswith("\0")]
            hint = (
                f"; {', '.join(unbound)}: named in config.yaml, but the bot has not seen that "
                "room yet (it binds on the room's first message)"
                if unbound
                else ""
            )
            known = ", ".join(self.labels(tx, served)) or "none yet"
            raise BroadcastError(f"unknown group(s): {', '.join(unknown)}{hint}; groups: {known}")
        return tuple(dict.fromkeys(rooms.values()))

    def _check_cron(self, line: str, now: datetime) -> None:
        try:
            trigger = CronTrigger.from_crontab(line, timezone=ZoneInfo(self._timezone))
        except ValueError as error:
            raise BroadcastError(f"invalid cron line {line!r}: {error}") from None
        if trigger.get_next_fire_time(None, now) is None:
            raise BroadcastError(f"cron line {line!r} never fires (no such date)")

    def schedule(self, tx: StoreTx, broadcast_id: int, now: datetime) -> datetime | None:
        row = tx.broadcast(broadcast_id)
        if row is None:
            raise BroadcastError(f"no broadcast #{broadcast_id}")
        if row.status not in (BroadcastStatus.SCHEDULED, BroadcastStatus.UNCONFIRMED):
            raise BroadcastError(f"broadcast #{broadcast_id} is {row.status}")
        tx.set_broadcast_status(broadcast_id, BroadcastStatus.SCHEDULED, now)
        return self._jobs.add(JobId.for_broadcast(broadcast_id), job_spec(row), now)

    def cancel(self, tx: StoreTx, broadcast_id: int, now: datetime) -> int:
        """Cancel a broadcast and withdraw what it has not sent yet; returns how many."""
        row = tx.broadcast(broadcast_id)
        if row is None:
            raise BroadcastError(f"no broadcast #{broadcast_id}")
        if row.status in (BroadcastStatus.CANCELLED, BroadcastStatus.DONE):
            raise BroadcastError(f"broadcast #{broadcast_id} is already {row.status}")
        tx.set_broadcast_status(broadcast_id, BroadcastStatus.CANCELLED, now)
        job = JobId.for_broadcast(broadcast_id)
        self._jobs.remove(job)
        return tx.withdraw(broadcast_id)

    def labels(self, tx: StoreTx, groups: Sequence[str]) -> list[str]:
        """Groups as people read them: ``一群 (g1)``, or the bare id when it has no name."""
        named = ((group, self._group_name(tx, group)) for group in groups)
        return [f"{name} ({group})" if name and name != group else group for group, name in named]

    def targets(self, tx: StoreTx, row: BroadcastRow) -> list[str]:
        return list(row.groups) if row.groups is not None else self._served(tx)

    def reached(
        self, tx: StoreTx, segment: Segment, groups: Sequence[str], now: datetime
    ) -> dict[str, list[MemberLayer]]:
        """The segment's members in each group that has any, as of ``now``."""
        found = {g: self._reach.members(tx, segment, g, now) for g in groups}
        return {g: members for g, members in found.items() if members}

    def messages(
        self, tx: StoreTx, row: BroadcastRow, group: str, now: datetime, zone: ZoneInfo
    ) -> list[tuple[str, tuple[str, ...]]]:
        """The broadcast's messages for ``group``, each with the members it @mentions: one
        for a whole-group broadcast; for a segment, one per ``mentions_per_message`` of its
        members there (none when it has none)."""
        context: dict[str, Any] = {
            "group": {
                "id": group,
                "name": self._group_name(tx, group),
                "members": tx.active_members(group),
            },
            "now": now.astimezone(zone),
        }
        if row.segment is None:
            return [(render(self.compile(row.text), context), ())]
        segment = parse_segment(row.segment)
        template = self.compile(row.text, segmented=True)
        members = self._reach.members(tx, segment, group, now)
        size, step = len(members), self._reach.per_message
        out = []
        for first in range(0, size, step):
            chunk = members[first : first + step]
            names = [m.name or m.member for m in chunk]
            context["segment"] = {
                "size": size,
                "names": names,
                "layer": segment.layer.value if segment.layer else "",
                "tag": segment.tag or "",
            }
            text = mentioned(render(template, context), names)
            out.append((text, tuple(m.member for m in chunk)))
        return out

    def run(
        self,
        tx: StoreTx,
        broadcast_id: int,
        scheduled: datetime,
        now: datetime,
        zone_of: Callable[[str], ZoneInfo],
    ) -> list[Effect]:
        """A due broadcast: one keyed message per target group."""
        row = tx.broadcast(broadcast_id)
        if row is None or row.status != BroadcastStatus.SCHEDULED:
            return []
        stamp = scheduled.astimezone(ZoneInfo(row.timezone)).strftime("%Y-%m-%dT%H:%M")
        job = JobId.for_broadcast(broadcast_id)
        replies = []
        targets = self.targets(tx, row)
        failed = 0
        for group in targets:
            try:
                messages = self.messages(tx, row, group, now, zone_of(group))
            except TemplateProblem as problem:
                # Checked when it was scheduled; real data can still break a limit.
                logger.bind(group=group, rule=job.key).error(
                    "broadcast #{} not sent to this group: {}", broadcast_id, problem
                )
                failed += 1
                continue
            for n, (text, mentions) in enumerate(messages):
                part = f":{group}" if row.segment is None else f":{group}:{n}"
                replies.append(
                    Effect(
                        group=group,
                        text=text,
                        at=now.astimezone(zone_of(group)),
                        rule=job.key,
                        key=job.message_key(stamp, part),
                        mentions=mentions,
                        broadcast=broadcast_id,
                        priority=BROADCAST_PRIORITY,
                    )
                )
        if row.cron is None:
            # A segment nobody is in any more is done, not failed: there was no one to tell.
            status = BroadcastStatus.FAILED if failed and not replies else BroadcastStatus.DONE
            tx.set_broadcast_status(broadcast_id, status, now)
        return replies


def parse_groups(text: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in text.split(",") if g.strip())
