"""Scheduled jobs: APScheduler's triggers and persistent job store, run on our clock.

APScheduler 3 reads the wall clock inside its own loop, so it cannot be driven by a
transcript or a test. Here it keeps the jobs (in the bot's database, through
SQLAlchemyJobStore) and computes fire times with its triggers, while *when* a due job
runs is decided by whoever drives the dispatcher: event time in a transcript, the real
clock in a live run. One driver, one path: the job becomes a tick Event on the queue.

Misfires follow APScheduler's own rules: runs missed while the bot was down coalesce into
one, which runs late when it is within the job's grace time, and is skipped (and logged)
otherwise. A job whose trigger did not change keeps its next run time across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from loguru import logger
from sqlalchemy import Engine

# Runs missed beyond this many are not walked one by one (a minutely job down for a year).
_MAX_MISSED_RUNS = 100_000


def job_target(job_id: str) -> str:
    """What the job store references (module:function with ids for arguments, never closures).

    APScheduler never calls it here: due jobs come back from :meth:`JobBook.due` and the
    dispatcher turns each into a tick Event, the one path every job takes.
    """
    return job_id


def tick_job(job_id: str, scheduled: datetime) -> str:
    """The tick's job name: the job id and the run it stands for (idempotency keys use both)."""
    return f"{job_id}@{scheduled.astimezone(UTC).isoformat()}"


def parse_tick_job(job: str) -> tuple[str, datetime]:
    job_id, _, when = job.rpartition("@")
    return job_id, datetime.fromisoformat(when)


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job the config or an operator wants, by id."""

    trigger: BaseTrigger
    grace: timedelta


@dataclass(frozen=True, slots=True)
class DueRun:
    """A job that should run now; ``at`` is when it runs (late runs: the time it catches up)."""

    job_id: str
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

    While a batch is being handled the jobs' next run times live in memory (the batch holds
    the database's write lock); :meth:`persist` writes them back once the batch commits. A
    crash in between makes a job due again on restart: its replies carry idempotency keys,
    so the outbox stores them once.
    """

    def __init__(self, engine: Engine) -> None:
        self._aps = _DrivenScheduler(
            timezone=UTC,
            jobstores={"default": SQLAlchemyJobStore(engine=engine)},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self._aps.start(paused=True)
        self._jobs: dict[str, Job] = {}
        self._next_runs: dict[str, datetime] = {}
        self._changed: dict[str, datetime | None] = {}
        self.reload()

    def close(self) -> None:
        self._aps.shutdown(wait=False)

    def reload(self) -> None:
        """Read the job store (another process, such as the CLI, may have added jobs)."""
        self._jobs = {job.id: job for job in self._aps.get_jobs()}
        self._next_runs = {
            job_id: job.next_run_time for job_id, job in self._jobs.items() if job.next_run_time
        }

    def sync(self, wanted: Mapping[str, JobSpec], prefix: str, now: datetime) -> None:
        """Make the jobs under ``prefix`` exactly ``wanted``, keeping unchanged jobs' next runs."""
        self.persist()
        existing = {job.id: job for job in self._aps.get_jobs() if job.id.startswith(prefix)}
        for job_id in existing.keys() - wanted.keys():
            self._aps.remove_job(job_id)
            logger.bind(job=job_id).info("scheduled job removed")
        for job_id, spec in wanted.items():
            current = existing.get(job_id)
            grace = int(spec.grace.total_seconds())
            if current is not None and _same(current, spec.trigger, grace):
                continue
            self._aps.add_job(
                job_target,
                trigger=spec.trigger,
                args=[job_id],
                id=job_id,
                name=job_id,
                misfire_grace_time=grace,
                next_run_time=spec.trigger.get_next_fire_time(None, now),
                replace_existing=True,
            )
            logger.bind(job=job_id).info("scheduled job set: {}", spec.trigger)
        self.reload()

    def next_due(self) -> datetime | None:
        return min(self._next_runs.values(), default=None)

    def due(self, now: datetime, catch_up: bool) -> list[DueRun]:
        """Runs due by ``now``, in time order, each job advanced to its next fire time.

        Normally the clock passes through each fire time, so the run is at its own time.
        With ``catch_up`` (the first look after a start) the bot was down: the latest missed
        run of each job runs at ``now`` if within its grace, and is skipped otherwise.
        """
        runs: list[DueRun] = []
        for job_id, next_run in sorted(self._next_runs.items(), key=lambda item: item[1]):
            if next_run > now:
                break
            job = self._jobs[job_id]
            latest = _latest_run(job.trigger, next_run, now) if catch_up else next_run
            late = now - latest
            log = logger.bind(job=job_id)
            grace = job.misfire_grace_time
            if catch_up and grace is not None and late > timedelta(seconds=grace):
                log.warning("run at {} missed by {} (beyond grace): skipped", latest, late)
            else:
                runs.append(DueRun(job_id, latest, now if catch_up else latest))
                if catch_up and late > timedelta(0):
                    log.info("run at {} is {} late: running now (within grace)", latest, late)
            following = _after(job.trigger, latest)
            self._changed[job_id] = following
            if following is None:
                del self._next_runs[job_id]
            else:
                self._next_runs[job_id] = following
        return runs

    def persist(self) -> None:
        """Write advanced next run times back to the job store (outside any batch)."""
        for job_id, following in self._changed.items():
            if following is None:
                self._aps.remove_job(job_id)
            else:
                self._aps.modify_job(job_id, next_run_time=following)
        self._changed.clear()


def _after(trigger: BaseTrigger, run: datetime) -> datetime | None:
    """The trigger's first fire time strictly after ``run``."""
    following: datetime | None = trigger.get_next_fire_time(run, run + timedelta(microseconds=1))
    return following


def _latest_run(trigger: BaseTrigger, first: datetime, now: datetime) -> datetime:
    """The last fire time not after ``now``, walking from ``first``."""
    latest = first
    for _ in range(_MAX_MISSED_RUNS):
        following = _after(trigger, latest)
        if following is None or following > now:
            break
        latest = following
    return latest


def _same(job: Any, trigger: BaseTrigger, grace: int) -> bool:
    return (
        str(job.trigger) == str(trigger)
        and job.misfire_grace_time == grace
        and _zone(job.trigger) == _zone(trigger)
    )


def _zone(trigger: BaseTrigger) -> str:
    return str(getattr(trigger, "timezone", ""))
