"""The SQLite text of a timestamp reads back as the same instant, through the fast paths."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite

from storage import types
from storage.types import UtcDateTime

ZONES = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
INSTANTS = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9998, 12, 30), timezones=ZONES
)


@given(INSTANTS)
def test_every_aware_time_round_trips_as_the_same_instant(value: datetime) -> None:
    kind = UtcDateTime()
    dialect = sqlite.dialect()
    to_text = kind.bind_processor(dialect)
    to_datetime = kind.result_processor(dialect, None)
    assert to_text is not None and to_datetime is not None
    text = to_text(value)
    assert to_text(value) == text  # the remembered text is the same one
    sqlalchemys = sqlite.DATETIME().bind_processor(dialect)
    assert sqlalchemys is not None  # the text SQLAlchemy writes, so that both sort together
    assert text == sqlalchemys(value.astimezone(UTC).replace(tzinfo=None))
    back = to_datetime(text)
    assert back == value and back.tzinfo is UTC


def test_texts_stay_right_past_the_number_remembered() -> None:
    """Remembered by object, a bounded number: objects freed after a clearing reuse ids."""
    to_text = UtcDateTime().bind_processor(sqlite.dialect())
    assert to_text is not None
    seen = {to_text(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)) for n in range(9000)}
    assert len(seen) == 9000
    assert len(types._TEXTS) <= types._TEXTS_KEPT  # bounded


def test_a_naive_time_is_refused() -> None:
    to_text = UtcDateTime().bind_processor(sqlite.dialect())
    assert to_text is not None
    with pytest.raises(ValueError, match="naive"):
        to_text(datetime(2026, 1, 1))


def test_text_written_by_sqlalchemy_reads_back_through_the_store_type(tmp_path) -> None:  # type: ignore[no-untyped-def]
    table = Table(
        "t", MetaData(), Column("id", Integer, primary_key=True), Column("at", UtcDateTime())
    )
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    table.metadata.create_all(engine)
    value = datetime(2026, 3, 29, 1, 30, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    with engine.begin() as connection:
        connection.execute(insert(table).values(at=value))
        connection.exec_driver_sql("INSERT INTO t (at) VALUES ('2026-03-29 01:30:00')")
        read = connection.execute(select(table.c.at).order_by(table.c.id)).scalars().all()
    engine.dispose()
    assert read == [value, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)]
