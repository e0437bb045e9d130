"""The one dispatch path: a batch of events in, replies out, state committed in between.

Every event is recorded, handed to the engine inside its own savepoint, and the whole
batch commits once (group commit) before any of its replies is released.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from bot import heap
from bot.operations import SYSTEM, Operations
from bot.reply_budget import ReplyBudget
from bot.scheduler import JobBook
from bot.timers import Timers
from core.actors import ROLE_RANK, Actor
from core.effects import Effect
from core.events import Event, EventKind
from core.jobs import WELCOME, JobKind, Tick
from storage.members import Speaker
from storage.seen import KEEP_SEEN
from storage.store import Store, StoreTx
from triggers.engine import Engine, Outcome
from triggers.grants import audit_ended
from triggers.loader import ConfigError, load_ruleset
from triggers.templates import TemplateProblem

# How long a failing timer job waits before it is tried again.
_RETRY_AFTER = timedelta(seconds=60)
# A timer job that keeps failing is left for the next start after this many retries, so a
# job that can never succeed (a broken template, a bug) cannot spin for the bot's lifetime.
MAX_TICK_RETRIES = 5
# A clock that moves further than this at once (a transcript's gap, /clock, a suspended
# machine) counts as the bot having been down: missed work follows the misfire policy.
# Shorter gaps are lived through run by run, so a transcript may skip quiet days.
MAX_CLOCK_STEP = timedelta(days=7)


class _RefusedReload(Exception):
    """The file watcher found a config that does not load (audited as an error)."""


class Dispatcher:
    def __init__(self, store: Store, engine: Engine, config_path: Path | None = None) -> None:
        self.store = store
        self.engine = engine
        self.timers = Timers()
        # Job-store writes skip the fsync: a lost "next run" re-runs a job, and its messages'
        # idempotency keys make that harmless.
        self.jobs = JobBook(store.light_engine)
        self.config_path = config_path
        self._config_stamp = _stamp(config_path)
        self._catching_up = False
        self._clock_seen: datetime | None = None
        self._tick_failures: dict[Tick, int] = {}
        self.operations = Operations(
            lambda: self.engine.ruleset, self.jobs, self.reload, self.engine.grants
        )
        self.budget = ReplyBudget(self._member_limits)

    def reload(self, now: datetime, actor: str) -> list[str]:
        """Swap in the config file's rules if valid, else keep the old ones; the problems.

        Schedule changes are staged and written after the current batch (see JobBook)."""
        log = logger.bind(actor=actor)
        if self.config_path is None:
            return ["this bot was started without a config file"]
        self._config_stamp = _stamp(self.config_path)
        try:
            ruleset = load_ruleset(self.config_path, self.engine.ruleset.bindings)
        except ConfigError as error:
            problems = [str(problem) for problem in error.problems]
            log.error("config reload refused, the old rules stay:\n{}", "\n".join(problems))
            return problems
        ruleset.learn(self.engine.ruleset.faq.learned)  # what operators taught stays
        self.engine.swap(ruleset)
        heap.settle()
        self.sync_schedule(now)
        log.info("config reloaded: {} rule(s)", len(ruleset.rules))
        return []

    def reload_if_changed(self, now: datetime) -> None:
        """The file watcher: reload when the config file changed on disk (outside any batch)."""
        if self.config_path is None or _stamp(self.config_path) == self._config_stamp:
            return
        problems = self.reload(now, "file-watch")
        self.jobs.persist()
        watcher = Actor("file-watch", SYSTEM)
        detail = "\n".join(problems[:20])
        with (
            self.store.transaction() as tx,
            suppress(_RefusedReload),
            self.operations.audited(tx, watcher, "reload", detail, now),
        ):
            if problems:
                raise _RefusedReload

    def restore(self, now: datetime) -> None:
        """Set up the schedule and re-arm what a previous run left pending. The first look
        at the clock after this catches up: work that fell due while the bot was down runs
        when it is back (or is dropped past its grace)."""
        self.jobs.reload()
        with self.store.transaction() as tx:
            bindings = tx.group_bindings()
            tx.forget_seen_before(now - KEEP_SEEN)
            learned = tx.learned()
            self.engine.grants.load(tx.open_grants())
        if bindings != self.engine.ruleset.bindings:
            self.engine.swap(self.engine.ruleset.rebound(bindings))
        self.engine.ruleset.learn(learned)
        self.sync_schedule(now)
        self.jobs.persist()
        with self.store.transaction() as tx:
            due = tx.next_welcome_due()
        if due is not None:
            self.timers.wake(due, WELCOME)
        self._catching_up = True
        self._clock_seen = now

    def sync_schedule(self, now: datetime) -> None:
        self.jobs.sync(self.engine.ruleset.scheduled_jobs(), JobKind.RULE, now)
        self.jobs.sync(self.engine.ruleset.layer_jobs(), JobKind.LAYERS, now)
        self.jobs.sync(self.engine.ruleset.alert_jobs(), JobKind.ALERTS, now)
        self.jobs.sync(self.engine.ruleset.retention_jobs(), JobKind.RETENTION, now)

    def close(self) -> None:
        self.settle()
        self.jobs.close()

    def process(self, events: Sequence[Event]) -> list[Effect]:
        """Handle a batch; its replies go to the outbox in the same transaction as its state."""
        replies: list[Effect] = []
        with self.store.transaction() as tx:
            tx.expect_speakers(self._speakers(events))
            self.engine.expect(events, tx)
            for event in events:
                replies += self._fire_due(event.at, tx)
                if event.kind is not EventKind.TICK or event.tick is not None:
                    replies += self._handle(event, tx) or []
                replies += self._fire_due(event.at, tx)
            if events:  # grants that ran out by the batch's last event: audited with it
                audit_ended(self.engine.grants, tx, max(e.at for e in events))
            replies = self.budget.admit(replies, self._staff)
            tx.enqueue(replies)
        return replies

    def _speakers(self, events: Sequence[Event]) -> list[Speaker]:
        """Who the batch's messages come from, in the groups this config serves."""
        ruleset = self.engine.ruleset
        return [
            Speaker(
                e.group,
                e.member,
                e.at,
                e.name,
                e.group_name or "",
                ruleset.group_info(e.group, e.group_name or "").name,
            )
            for e in events
            if e.kind is EventKind.MESSAGE and e.member and ruleset.serves(e.group)
        ]

    def _member_limits(self) -> tuple[int, timedelta]:
        sending = self.engine.ruleset.config.sending
        return sending.member_budget, sending.member_window

    def _staff(self, group: str, member: str) -> bool:
        """Operators and above: their replies are not counted against a budget."""
        at = self._clock_seen or datetime.now(UTC)
        role = self.engine.role_of(self.engine.ruleset, group, member, at)[0]
        return ROLE_RANK[role.value] > 0

    def reload_grants(self) -> None:
        """Grants an operator made from the CLI meanwhile (the runtime looks now and then)."""
        with self.store.transaction() as tx:
            self.engine.grants.load(tx.open_grants())

    def settle(self) -> None:
        """Write what the schedule learned (next run times) to the job store, after the
        replies are out: losing it only makes a job due again (harmless: idempotency keys)."""
        self.jobs.persist()

    def next_due(self) -> datetime | None:
        """When the dispatcher next has timer work, for the live clock to wake it."""
        timer, job = self.timers.next_due(), self.jobs.next_due()
        if timer is None or (job is not None and job < timer):
            return job
        return timer

    def drain(self) -> list[Effect]:
        """Fire every pending timer at its own time (the end of a transcript)."""
        replies: list[Effect] = []
        while (due := self.timers.next_due()) is not None:
            with self.store.transaction() as tx:
                fired = self._fire_due(due, tx)
                tx.enqueue(fired)
            replies += fired
        return replies

    def _fire_due(self, now: datetime, tx: StoreTx) -> list[Effect]:
        """Everything due by ``now``, in time order: welcome timers and scheduled jobs."""
        self._watch_clock(now)
        if not self._catching_up and ((soonest := self.next_due()) is None or soonest > now):
            return []  # the common case, twice per event
        replies: list[Effect] = []
        if self._catching_up:
            self._catching_up = False
            for run in self.jobs.due(now, catch_up=True):
                replies += self._tick(Tick(run.job, run.scheduled), run.at, tx)
            while (item := self.timers.pop_due(now)) is not None:
                replies += self._tick(item[1], now, tx)
        while True:
            timer, job = self.timers.next_due(), self.jobs.next_due()
            if job is not None and job <= now and (timer is None or job <= timer):
                for run in self.jobs.due(job, catch_up=False):
                    replies += self._tick(Tick(run.job, run.scheduled), run.at, tx)
            elif (item := self.timers.pop_due(now)) is not None:
                replies += self._tick(item[1], item[0], tx)
            else:
                return replies

    def _watch_clock(self, now: datetime) -> None:
        """Count a jump of the clock beyond :data:`MAX_CLOCK_STEP` as downtime.

        Walking a year-long jump run by run would say a year of briefings at once; instead
        the next look catches up as after a restart: one late run within grace, else none.
        """
        seen = self._clock_seen
        if seen is now:  # the second look for the same event
            return
        if seen is not None and now - seen > MAX_CLOCK_STEP:
            logger.warning(
                "the clock jumped {} ({} -> {}): counted as downtime, missed runs catch up "
                "within their grace or are skipped",
                now - seen,
                seen.isoformat(),
                now.isoformat(),
            )
            self._catching_up = True
        if seen is None or now > seen:
            self._clock_seen = now

    def _tick(self, job: Tick, at: datetime, tx: StoreTx) -> list[Effect]:
        handled = self._handle(Event(kind=EventKind.TICK, group="", at=at, tick=job), tx)
        if handled is None:
            failures = self._tick_failures[job] = self._tick_failures.get(job, 0) + 1
            if failures > MAX_TICK_RETRIES:
                logger.bind(job=job).warning(
                    "timer job failed {} times: no more retries until the next start", failures
                )
                return []
            try:
                self.timers.wake(at + _RETRY_AFTER, job)
            except OverflowError:
                logger.bind(job=job).error("no retry after {}: the calendar ends", at)
            return []
        self._tick_failures.pop(job, None)
        return handled

    def _handle(self, event: Event, tx: StoreTx) -> list[Effect] | None:
        """Record the event, then let the rules react; None when it failed and was rolled back.

        One savepoint holds the event and its rules' changes. If a rule fails, all of it
        rolls back and the event is recorded again without rules: it still counts.
        """
        if event.kind is not EventKind.TICK and not self.engine.ruleset.serves(event.group):
            topic = event.group_name or ""
            if topic not in self.engine.ruleset.pending_topics:
                _log(event).debug("event from a group this config does not serve: ignored")
                return []
            self._bind(topic, event, tx)
        try:
            with tx.savepoint():
                outcome = self._record_and_react(event, tx, react=True)
        except _RulesFailed as failed:
            log = _log(event)
            if isinstance(failed.error, TemplateProblem):  # the admin's to fix, not a bug
                log.error("rules failed on this event, rolled back: {}", failed.error)
            else:
                log.opt(exception=failed.error).error(
                    "rules failed on this event; their changes were rolled back"
                )
            try:
                with tx.savepoint():
                    outcome = self._record_and_react(event, tx, react=False)
            except Exception:
                _log(event).exception("event failed; its changes were rolled back")
                return None
        except Exception:
            _log(event).exception("event failed; its changes were rolled back")
            return None
        if outcome is None:
            _log(event).info("repeated {}: no news, no rules", event.kind.value)
            return []
        for name in outcome.fired:  # keywords go to the record's extra; no bound logger made
            logger.debug(
                "rule fired",
                group=event.group,
                member=event.member,
                kind=event.kind.value,
                rule=name,
            )
        return outcome.replies

    def _record_and_react(self, event: Event, tx: StoreTx, react: bool) -> Outcome | None:
        """The event's record and, when ``react``, its rules' outcome; None for a repeat."""
        if event.kind is not EventKind.TICK and not self._record(event, tx):
            return None
        outcome = Outcome()
        if react:
            try:
                outcome = self.engine.handle(event, tx, self.timers.wake, self.operations)
            except Exception as error:
                if event.kind is EventKind.TICK:
                    raise  # a job's failure is the job's: see _tick
                raise _RulesFailed(error) from error
        if event.kind is EventKind.MESSAGE:
            rule = outcome.fired[0] if outcome.fired else None
            text = event.text if event.content == "text" else None
            kind = "message" if event.content == "text" else event.content
            tx.record_interaction(event.group, event.member, kind, event.at, text, rule)
        return outcome

    def _bind(self, topic: str, event: Event, tx: StoreTx) -> None:
        """A group the config names by topic speaks for the first time: bind it for good."""
        tx.bind_group(topic, event.group, event.at)
        bindings = {**self.engine.ruleset.bindings, topic: event.group}
        self.engine.swap(self.engine.ruleset.rebound(bindings))
        self.sync_schedule(event.at)
        logger.bind(group=event.group).info(
            "group {!r} from the config bound to room {}", topic, event.group
        )

    def _record(self, event: Event, tx: StoreTx) -> bool:
        """Record what the event changes; False for a repeated join, leave or message.

        A message shows its sender is in the group, whoever left earlier: a join the
        platform did not report makes them a current member again (see ``observe``).
        """
        if event.source_id is not None and not tx.first_sight(event.source_id, event.at):
            return False  # delivered again (a reconnect, a restart): handled already
        info = self.engine.ruleset.group_info(event.group, event.group_name or "")
        tx.observe(
            event.group,
            event.member,
            event.at,
            group_name=event.group_name or "",
            name=event.name,
            new_group_name=info.name,
            present=event.kind not in (EventKind.JOIN, EventKind.LEAVE),
        )
        if event.inviter:
            tx.observe(event.group, event.inviter, event.at)
        if event.mentions:
            staff = self._staff(event.group, event.member)
            tx.mentioned(event.group, event.member, event.mentions, staff, event.at)
        if event.kind is EventKind.JOIN:
            if not tx.record_join(event.group, event.member, event.at, event.inviter):
                return False
            tx.record_interaction(event.group, event.member, "join", event.at)
        elif event.kind is EventKind.LEAVE:
            if not tx.record_leave(event.group, event.member, event.at):
                return False
            tx.record_interaction(event.group, event.member, "leave", event.at)
        elif event.kind is EventKind.TOPIC:
            tx.record_interaction(event.group, event.member, "topic", event.at, event.group_name)
        return True


class _RulesFailed(Exception):
    """A rule raised while handling an event: the event is recorded again without rules."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _log(event: Event) -> Any:
    """The logger with the event's context: bound only when there is something to log."""
    return logger.bind(group=event.group, member=event.member, kind=event.kind.value)


def _stamp(path: Path | None) -> tuple[float, int] | None:
    """A config file's identity for the watcher: modification time and size."""
    if path is None:
        return None
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime, info.st_size
