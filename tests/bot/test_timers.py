"""The dispatcher's one-shot timers against a plain model: what is due, in what order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.timers import Timers
from core.jobs import JobId, Tick

START = datetime(2026, 12, 4, tzinfo=UTC)
JOBS = [Tick(JobId.for_layers(f"g{i}")) for i in range(4)]

# (True, job, minute): wake the job at that minute; (False, _, minute): pop what is due then.
steps = st.lists(
    st.tuples(st.booleans(), st.integers(0, len(JOBS) - 1), st.integers(0, 30)), max_size=60
)


@given(steps)
def test_timers_act_like_a_table_of_earliest_requests(plan: list[tuple[bool, int, int]]) -> None:
    timers = Timers()
    model: dict[Tick, tuple[datetime, int]] = {}  # job -> (time, order of the request that set it)
    for order, (wake, index, minute) in enumerate(plan):
        at = START + timedelta(minutes=minute)
        if wake:
            job = JOBS[index]
            timers.wake(at, job)
            if job not in model or at < model[job][0]:
                model[job] = (at, order)
        else:
            due = [(when, seq, job) for job, (when, seq) in model.items() if when <= at]
            expected = min(due, key=lambda d: (d[0], d[1])) if due else None
            popped = timers.pop_due(at)
            if expected is None:
                assert popped is None
            else:
                assert popped == (expected[0], expected[2])
                del model[expected[2]]
        assert timers.next_due() == min((when for when, _ in model.values()), default=None)


def test_an_earlier_request_replaces_the_later_one_whole() -> None:
    timers = Timers()
    job = JOBS[0]
    timers.wake(START + timedelta(minutes=5), job)
    timers.wake(START + timedelta(minutes=1), job)
    assert timers.pop_due(START + timedelta(minutes=10)) == (START + timedelta(minutes=1), job)
    assert timers.next_due() is None  # the later request went with it
    assert timers.pop_due(START + timedelta(minutes=10)) is None
