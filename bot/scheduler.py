"""Scheduled jobs: APScheduler's triggers and persistent job store, run on our clock.

APScheduler 3 reads the wall clock inside its own loop, so it cannot be driven by a
transcript or a test. Here it keeps the jobs (in the bot's database, through
SQLAlchemyJobStore) and computes fire times with its triggers, while *when* a due job
runs is decided by whoever drives the dispatcher: event time in a transcript, the real
clock in a live run. One driver, one path: the job becomes a tick Event on the queue.

Misfires follow APScheduler's own rules: runs missed while the bot was down coalesce into
one, which runs late when it is within the job's grace time, and is skipped (and logged)
otherwise. A job whose trigger did not change keeps its next run time across restarts.

Fire times always move forward, in real time and in the job's wall-clock time: a time of
day in the hour an autumn DST change repeats runs once (the first time), one in the hour
a spring change skips runs once, as much later as the clocks jump (02:30 at 03:30).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from loguru import logger
from sqlalchemy import Engine

from core.jobs import BadJobKey, JobId, JobKind, JobSpec

_STALE = object()

# Runs missed within a grace period beyond this many are not walked one by one.
_MAX_MISSED_RUNS = 100_000
# Tries to get past a repeated wall-clock time before a job that will not advance is ended.
_MAX_PROBES = 8
_TICK = timedelta(microseconds=1)


def job_target(job_id: str) -> str:
    """What the job store references (module:function with ids for arguments, never closures).

    APScheduler never calls it here: due jobs come back from :meth:`JobBook.due` and the
    dispatcher turns each into a tick Event, the one path every job takes.
    """
    return job_id


@dataclass(frozen=True, slots=True)
class DueRun:
    """A job that should run now; ``at`` is when it runs (late runs: the time it catches up)."""

    job: JobId
    scheduled: datetime
    at: datetime


class _DrivenScheduler(BaseScheduler):  # type: ignore[misc]
    """An APScheduler that never wakes by itself: we decide when jobs are due."""

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        """Nothing to wake: no thread, no timer."""


class JobBook:
    """The scheduled jobs of one bot, persistent in its database.

    The schedule is read from the job store once and then kept in memory; every change
    (a job added, removed, advanced) is staged and written back by :meth:`persist` once the
    batch that made it has committed, because the batch holds the database's write lock.
    A crash in between makes a job due again on restart: its replies carry idempotency
    keys, so the outbox stores them once.
    """

    def __init__(self, engine: Engine) -> None:
        self._aps = _DrivenScheduler(
            timezone=UTC,
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._aps.start(paused=True)
        self._specs: dict[JobId, JobSpec] = {}
        self._next_runs: dict[JobId, datetime] = {}
        self._staged: list[tuple[str, JobId, JobSpec | None, datetime | None]] = []
        # persist() may run in a worker thread (the runtime settles after each batch) while
        # the loop reloads: one lock keeps the job store's readers and writers apart.
        self._store_lock = threading.RLock()
        self._earliest: object = _STALE
        self.reload()

    def close(self) -> None:
        self._aps.shutdown(wait=False)

    def reload(self) -> None:
        """Read the job store (another process, such as the CLI, may have changed it)."""
        with self._store_lock:
            self.persist()
            jobs = self._aps.get_jobs()
        known = [(job_id, job) for job in jobs if (job_id := _read_id(job.id)) is not None]
        self._specs = {
            job_id: JobSpec(job.trigger, timedelta(seconds=job.misfire_grace_time or 0))
            for job_id, job in known
        }
        self._next_runs = {job_id: job.next_run_time for job_id, job in known if job.next_run_time}
        self._earliest = _STALE

    def jobs(self, kind: JobKind | None = None) -> dict[JobId, datetime | None]:
        """Jobs (of one kind) with their next run times (None: will not run again)."""
        return {
            job_id: self._next_runs.get(job_id)
            for job_id in self._specs
            if kind is None or job_id.kind is kind
        }

    def add(self, job_id: JobId, spec: JobSpec, now: datetime) -> datetime | None:
        """Schedule (or reschedule) a job from ``now``; returns its first run time."""
        first = _fire_time(spec.trigger, None, now)
        self._specs[job_id] = spec
        self._set_next(job_id, first)
        self._staged.append(("add", job_id, spec, first))
        logger.bind(job=job_id).info("scheduled job set: {} (first run {})", spec.trigger, first)
        return first

    def remove(self, job_id: JobId) -> None:
        if self._specs.pop(job_id, None) is not None:
            self._set_next(job_id, None)
            self._staged.append(("remove", job_id, None, None))
            logger.bind(job=job_id).info("scheduled job removed")

    def sync(self, wanted: Mapping[JobId, JobSpec], kind: JobKind, now: datetime) -> None:
        """Make the jobs of ``kind`` exactly ``wanted``, keeping unchanged jobs' next runs."""
        for job_id in [j for j in self._specs if j.kind is kind and j not in wanted]:
            self.remove(job_id)
        for job_id, spec in wanted.items():
            current = self._specs.get(job_id)
            if current is None or not _same(current, spec):
                self.add(job_id, spec, now)

    def next_due(self) -> datetime | None:
        """Asked before every event: cached, recomputed only when the schedule changes."""
        if self._earliest is _STALE:
            self._earliest = min(self._next_runs.values(), default=None)
        return self._earliest  # type: ignore[return-value]

    def due(self, now: datetime, catch_up: bool) -> list[DueRun]:
        """Runs due by ``now``, in time order, each job advanced to its next fire time.

        Normally the clock passes through each fire time, so the run is at its own time.
        With ``catch_up`` (the first look after a start, or after the clock jumped) the bot
        was down: the latest run within the job's grace runs at ``now``; older missed runs
        are skipped with one warning, however many there were.
        """
        runs: list[DueRun] = []
        for job_id, next_run in sorted(self._next_runs.items(), key=lambda item: item[1]):
            if next_run > now:
                break
            spec = self._specs[job_id]
            log = logger.bind(job=job_id)
            if not catch_up:
                runs.append(DueRun(job_id, next_run, next_run))
                following = _after(spec.trigger, next_run)
            elif (latest := _latest_run(spec.trigger, next_run, now, spec.grace)) is None:
                # The first missed run: after a long jump, later ones are not walked to.
                late = now - next_run
                log.warning("run at {} missed by {} (beyond grace): skipped", next_run, late)
                following = _after(spec.trigger, now)
            else:
                runs.append(DueRun(job_id, latest, now))
                if latest < now:
                    log.info(
                        "run at {} is {} late: running now (within grace)", latest, now - latest
                    )
                following = _after(spec.trigger, latest)
            self._set_next(job_id, following)
            self._staged.append(("advance", job_id, None, following))
        return runs

    def _set_next(self, job_id: JobId, when: datetime | None) -> None:
        if when is None:
            self._next_runs.pop(job_id, None)
        else:
            self._next_runs[job_id] = when
        self._earliest = _STALE

    @property
    def unsaved(self) -> bool:
        """Whether changes wait to be written (most batches change no schedule)."""
        return bool(self._staged)

    def persist(self) -> None:
        """Write the staged changes to the job store (call it outside any batch).

        Safe from a worker thread: it takes the changes staged so far and leaves new ones
        for the next call.
        """
        with self._store_lock:
            staged, self._staged = self._staged, []
            self._write(staged)

    def _write(self, staged: list[tuple[str, JobId, JobSpec | None, datetime | None]]) -> None:
        for change, job, spec, next_run in staged:
            job_id = job.key
            if change == "add":
                assert spec is not None
                self._aps.add_job(
                    job_target,
                    trigger=spec.trigger,
                    args=[job_id],
                    id=job_id,
                    name=job_id,
                    misfire_grace_time=int(spec.grace.total_seconds()),
                    next_run_time=next_run,
                    replace_existing=True,
                )
            elif self._aps.get_job(job_id) is None:
                continue  # removed meanwhile (another process, or a later staged change)
            elif change == "remove" or next_run is None:
                self._aps.remove_job(job_id)
            else:
                self._aps.modify_job(job_id, next_run_time=next_run)


def _read_id(key: str) -> JobId | None:
    """A stored job's id; one this version cannot read is left alone, with a warning."""
    try:
        return JobId.parse(key)
    except BadJobKey as error:
        logger.warning("job store: {}; ignored", error)
        return None


def _fire_time(trigger: BaseTrigger, previous: datetime | None, now: datetime) -> datetime | None:
    """The trigger's next fire time, None past the end of the calendar (year 9999)."""
    try:
        when: datetime | None = trigger.get_next_fire_time(previous, now)
    except (OverflowError, ValueError):
        return None
    return when


def _after(trigger: BaseTrigger, run: datetime) -> datetime | None:
    """The trigger's first fire time after ``run`` both in real time and on the wall clock.

    Asked from just after ``run``, APScheduler's cron trigger returns the second instance of
    a wall-clock time an autumn DST change repeats, and from there that same instant again
    and again. Such an answer is passed over by asking again from the later instance of
    ``run``'s wall-clock time. Every answer must be later than the last question, so a
    trigger that does not move forward (a one-off date, a broken trigger) has no next run,
    and the loop is bounded.
    """
    zone = getattr(trigger, "timezone", UTC)
    wall = _wall(run, zone)
    # In UTC: aware times sharing a zone compare by wall clock, blind to ``fold``.
    again = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    probe = run.astimezone(UTC)
    for _ in range(_MAX_PROBES):
        if probe >= datetime.max.replace(tzinfo=UTC) - _TICK:
            return None
        following = _fire_time(trigger, None, probe + _TICK)
        if following is None or following <= probe:
            return None
        if _wall(following, zone) > wall:
            return following
        probe = max(following.astimezone(UTC), again)
    logger.bind(trigger=str(trigger)).error("trigger does not move past {}: no further runs", run)
    return None


def _wall(when: datetime, zone: tzinfo) -> datetime:
    """The wall-clock reading of ``when`` in ``zone`` (by way of UTC: a time the trigger
    gives in its own zone may be one a spring change skips, such as 02:30 for 03:30)."""
    return when.astimezone(UTC).astimezone(zone).replace(tzinfo=None)


def _latest_run(
    trigger: BaseTrigger, first: datetime, now: datetime, grace: timedelta
) -> datetime | None:
    """The last fire time from ``first`` to ``now`` within ``grace`` of ``now``, if any.

    Walked from the start of the grace period, never from a first run long ago: a clock
    that jumps years ahead costs no more than one that jumps an hour.
    """
    start = now - grace
    latest = first if first >= start else _after(trigger, start - _TICK)
    if latest is None or latest > now:
        return None
    for _ in range(_MAX_MISSED_RUNS):
        following = _after(trigger, latest)
        if following is None or following > now:
            break
        latest = following
    return latest


def _same(current: JobSpec, wanted: JobSpec) -> bool:
    return (
        str(current.trigger) == str(wanted.trigger)
        and _zone(current.trigger) == _zone(wanted.trigger)
        and int(current.grace.total_seconds()) == int(wanted.grace.total_seconds())
    )


def _zone(trigger: BaseTrigger) -> str:
    return str(getattr(trigger, "timezone", ""))
