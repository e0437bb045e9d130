"""The clock's supported range: the cheap year check agrees with the exact comparison."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.clock import LATEST, supported

OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))


@given(when=st.datetimes(min_value=datetime(9997, 1, 1)), zone=OFFSETS)
@example(when=datetime(9998, 12, 31, 23, 59, 59, 999999), zone=UTC)
@example(when=datetime(9999, 1, 1, 5), zone=timezone(timedelta(hours=8)))  # 9998-12-31 21:00 UTC
@example(when=datetime(9999, 1, 1, 7, 59), zone=timezone(timedelta(hours=8)))
@example(when=datetime(9998, 12, 31, 20), zone=timezone(timedelta(hours=-5)))  # 9999-01-01 01:00
def test_a_time_is_supported_exactly_when_it_is_before_the_latest(
    when: datetime, zone: timezone
) -> None:
    aware = when.replace(tzinfo=zone)
    if aware < LATEST:
        assert supported(aware) is aware
    else:
        with pytest.raises(ValueError, match="past the last supported time"):
            supported(aware)


def test_an_ordinary_time_is_supported_and_a_naive_one_is_not() -> None:
    now = datetime(2026, 12, 5, 8, tzinfo=UTC)
    assert supported(now) is now
    with pytest.raises(ValueError, match="timezone-aware"):
        supported(now.replace(tzinfo=None))
