"""Sent marks folded as runs of consecutive ids: exactly the marked rows, at their times."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from core.effects import Effect
from core.statuses import OutboxStatus
from storage.outbox import SENT_AT_GRAIN
from storage.store import Store
from storage.tables import OUTBOX

START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
ROWS = 12

# Which of the rows were sent, in the order the worker sent them, each some ms after the last.
MARKS = st.lists(
    st.tuples(st.integers(1, ROWS), st.integers(0, 1500)), unique_by=lambda m: m[0], max_size=ROWS
)


def stored(path: Path) -> tuple[Store, list[int]]:
    store = Store(f"sqlite:///{path}")
    with store.transaction() as tx:
        tx.enqueue([Effect("g1", f"第{n}条", START) for n in range(ROWS)])
    with store.engine.connect() as connection:
        ids = list(connection.execute(select(OUTBOX.c.id).order_by(OUTBOX.c.id)).scalars())
    return store, ids


@settings(max_examples=60, deadline=None)
@given(MARKS)
def test_folded_runs_mark_exactly_the_sent_rows_at_their_times(
    marks: list[tuple[int, int]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store, ids = stored(Path(folder) / "runs.db")
        try:
            at, sent = START, []
            for number, gap in marks:
                at += timedelta(milliseconds=gap)
                sent.append((ids[number - 1], at))
            with store.transaction() as tx:
                tx.mark_sent(sent)
            with store.engine.connect() as connection:
                rows = connection.execute(
                    select(OUTBOX.c.id, OUTBOX.c.status, OUTBOX.c.sent_at, OUTBOX.c.attempts)
                ).all()
        finally:
            store.close()
    when = dict(sent)
    for mid, status, sent_at, attempts in rows:
        if mid not in when:
            assert (status, sent_at, attempts) == (OutboxStatus.PENDING, None, 0)
            continue
        assert (status, attempts) == (OutboxStatus.SENT, 1)
        # never before it went, and no later than the grain after it
        assert when[mid] <= sent_at <= when[mid] + SENT_AT_GRAIN


def test_a_burst_in_order_is_one_statement_row(tmp_path: Path) -> None:
    """Consecutive ids sent together become one run; a gap in ids or time starts another."""
    store, ids = stored(tmp_path / "burst.db")
    executed: list[list[object]] = []
    try:
        with store.transaction() as tx:
            run_many = tx._run_many

            def counting(statement: object, rows: list[object], keys: tuple[str, ...] = ()) -> int:
                executed.append(list(rows))
                return run_many(statement, rows, keys)  # type: ignore[arg-type]

            tx._run_many = counting  # type: ignore[method-assign,assignment]
            later = START + SENT_AT_GRAIN + timedelta(milliseconds=1)
            burst = [(ids[n], START) for n in (0, 1, 2, 4)]
            tx.mark_sent([*burst, (ids[5], later)])
    finally:
        store.close()
    assert [[(r["low"], r["high"]) for r in rows] for rows in executed] == [  # type: ignore[index]
        [(ids[0], ids[2]), (ids[4], ids[4]), (ids[5], ids[5])]
    ]
