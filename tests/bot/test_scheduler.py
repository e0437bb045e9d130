"""The scheduler's fire times across DST changes and far-off dates: always forward, once a day."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.scheduler import _after, _latest_run

ZONES = sorted(available_timezones())


def daily(zone: str, at_: str) -> CronTrigger:
    hour, minute = map(int, at_.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(zone))


def fire_times(trigger: CronTrigger, start: datetime, count: int) -> list[datetime]:
    runs = [trigger.get_next_fire_time(None, start)]
    while len(runs) < count and (following := _after(trigger, runs[-1])) is not None:
        runs.append(following)
    return runs


def local(runs: list[datetime], zone: str) -> list[str]:
    return [run.astimezone(UTC).astimezone(ZoneInfo(zone)).isoformat() for run in runs]


def test_the_repeated_autumn_hour_runs_once_and_the_next_day_follows() -> None:
    ny = fire_times(daily("America/New_York", "01:30"), at("2026-10-31T12:00-04:00"), 3)
    assert local(ny, "America/New_York") == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-02T01:30:00-05:00",
        "2026-11-03T01:30:00-05:00",
    ]
    berlin = fire_times(daily("Europe/Berlin", "02:30"), at("2026-10-24T12:00+02:00"), 2)
    assert local(berlin, "Europe/Berlin") == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]


def test_started_inside_the_repeated_hour_after_its_run_goes_to_the_next_day() -> None:
    trigger = daily("America/New_York", "01:30")
    second = at("2027-11-07T01:30-05:00")  # the second 01:30 of that night
    assert _after(trigger, second) == at("2027-11-08T01:30-05:00")


def test_a_time_the_spring_change_skips_runs_once_an_hour_late() -> None:
    runs = fire_times(daily("Europe/Berlin", "02:30"), at("2026-03-28T12:00+01:00"), 3)
    assert local(runs, "Europe/Berlin") == [
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_a_quarter_hourly_job_keeps_its_runs_up_to_the_autumn_change() -> None:
    trigger = CronTrigger(minute="*/15", timezone=ZoneInfo("America/New_York"))
    runs = fire_times(trigger, at("2026-11-01T01:30-04:00"), 4)
    # 01:30 and 01:45 run once (the first time round); the wall clock then resumes at 02:00.
    assert local(runs, "America/New_York") == [
        "2026-11-01T01:30:00-04:00",
        "2026-11-01T01:45:00-04:00",
        "2026-11-01T02:00:00-05:00",
        "2026-11-01T02:15:00-05:00",
    ]


def test_the_end_of_the_calendar_means_no_further_run() -> None:
    trigger = daily("Asia/Shanghai", "08:00")
    assert _after(trigger, at("9999-12-31T08:00+08:00")) is None
    assert _after(DateTrigger(at("2026-11-24T08:00+08:00")), at("2026-11-24T08:00+08:00")) is None


def test_catching_up_years_walks_only_the_grace_period() -> None:
    minutely = CronTrigger(minute="*", timezone=UTC)
    now = at("9998-06-01T12:00:30+00:00")
    late = _latest_run(minutely, at("2026-01-01T00:00+00:00"), now, timedelta(minutes=30))
    assert late == at("9998-06-01T12:00+00:00")
    daily_ = daily("UTC", "08:00")
    assert _latest_run(daily_, at("2026-01-01T08:00+00:00"), now, timedelta(minutes=30)) is None


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    zone=st.sampled_from(ZONES),
    # Mostly the small hours, where DST changes happen.
    at_=st.one_of(st.times(max_value=time(3, 59)), st.times()).map(
        lambda t: f"{t.hour:02d}:{t.minute:02d}"
    ),
    start=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
)
def test_fire_times_strictly_increase_with_at_most_one_run_a_local_day(
    zone: str, at_: str, start: datetime
) -> None:
    runs = fire_times(daily(zone, at_), start.replace(tzinfo=UTC), 370)  # both DST changes
    assert len(runs) == 370
    assert all(a < b for a, b in pairwise(runs))
    days = [run.astimezone(UTC).astimezone(ZoneInfo(zone)).date() for run in runs]
    assert len(set(days)) == len(days)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)
