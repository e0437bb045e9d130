"""Job ids are values; their text form is written and read in one place, one way only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.jobs import BadJobKey, JobId


@given(rule=st.text(min_size=1), group=st.text(min_size=1), number=st.integers(0, 10**9))
def test_every_job_reads_back_from_its_key(rule: str, group: str, number: int) -> None:
    for job in (
        JobId.for_rule(rule, group),
        JobId.for_broadcast(number),
        JobId.welcome(),
        JobId.for_layers(group),
    ):
        assert JobId.parse(job.key) == job


def test_keys_written_by_earlier_versions_still_read() -> None:
    assert JobId.parse("rule:早报:g1") == JobId.for_rule("早报", "g1")
    assert JobId.parse("rule:早报:123@chatroom") == JobId.for_rule("早报", "123@chatroom")
    assert JobId.parse("broadcast:17") == JobId.for_broadcast(17)
    assert JobId.parse("welcome") == JobId.welcome()


def test_a_colon_in_a_rule_name_cannot_shift_the_group() -> None:
    job = JobId.for_rule("早报:周一", "g:1")
    assert job.key == "rule:早报%3A周一:g%3A1"
    assert JobId.parse(job.key).group == "g:1"


@pytest.mark.parametrize(
    "key", ["", "rule:", "rule:a", "broadcast:x", "welcome:1", "cron:1", "layers:", "layers:a:b"]
)
def test_an_unknown_key_is_refused(key: str) -> None:
    with pytest.raises(BadJobKey):
        JobId.parse(key)


def test_message_keys_start_with_the_job() -> None:
    job = JobId.for_broadcast(3)
    assert job.message_key("2026-11-24T20:00", ":g1") == "broadcast:3@2026-11-24T20:00:g1"
