"""The outbox hands the worker the effects this process enqueued from memory: exactly
what a fresh read of the table gives, whatever else wrote to it meanwhile."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from core.effects import Effect, EffectKind
from storage.outbox import OutboxRow
from storage.store import Store
from storage.unit_of_work import EFFECTS_KEPT

START = datetime(2026, 11, 24, 8, tzinfo=timezone(timedelta(hours=8)))


class Boom(Exception):
    pass


def effect(n: int, key: int | None, priority: int, kind: EffectKind, mentions: int) -> Effect:
    return Effect(
        "g1",
        f"第{n}条" if kind is EffectKind.SEND_TEXT else "",
        START + timedelta(seconds=n),
        mentions=tuple(f"m{i}" for i in range(mentions)),
        key=None if key is None else f"k{key}",
        priority=priority,
        kind=kind,
        member="m0" if kind is EffectKind.REMOVE_MEMBER else None,
        requester=f"m{n % 3}",
    )


EFFECTS = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 6)),
        st.sampled_from([0, 0, 5]),
        st.sampled_from(list(EffectKind)),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=5,
)
# What happens next: "enqueue" here, "rollback" (enqueued, then the transaction fails),
# "elsewhere" (another process enqueues), "send" (the worker performs the first due one).
STEPS = st.lists(
    st.tuples(st.sampled_from(["enqueue", "enqueue", "rollback", "elsewhere", "send"]), EFFECTS),
    min_size=1,
    max_size=8,
)


def due(store: Store, now: datetime, by_turns: bool) -> list[OutboxRow]:
    with store.transaction() as tx:
        return tx.due_messages(now, 50, None, by_turns=by_turns)


def assert_as_read_afresh(store: Store, url: str, by_turns: bool) -> None:
    """What ``store`` gives as due equals what a store that remembers nothing reads."""
    later = START + timedelta(days=1)
    fresh = Store(url)
    try:
        assert due(store, later, by_turns) == due(fresh, later, by_turns)
    finally:
        fresh.close()


@settings(max_examples=40, deadline=None)
@given(STEPS, st.booleans())
def test_remembered_effects_are_what_the_table_holds(
    steps: list[tuple[str, list[tuple[int | None, int, EffectKind, int]]]], by_turns: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'q.db'}"
        store, other = Store(url), Store(url)
        n = 0
        try:
            for step, specs in steps:
                batch = [effect(n + i, *spec) for i, spec in enumerate(specs)]
                n += len(batch)
                if step == "send":
                    rows = due(store, START + timedelta(days=1), by_turns)
                    if rows:
                        store.confirm_sent(rows[0].id, START + timedelta(days=1))
                    store.fold_sent()
                    continue
                writer = other if step == "elsewhere" else store
                try:
                    with writer.transaction() as tx:
                        tx.enqueue(batch)
                        if step == "rollback":
                            raise Boom
                except Boom:
                    pass
                assert_as_read_afresh(store, url, by_turns)
        finally:
            store.close()
            other.close()


def test_a_batch_of_new_effects_is_not_read_back(tmp_path: Path) -> None:
    """The point of it: the worker reads only the rows' state, not their effects."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        batch = [effect(n, None, 0, EffectKind.SEND_TEXT, 1) for n in range(3)]
        with store.transaction() as tx:
            tx.enqueue(batch)
        rows = due(store, START + timedelta(hours=1), by_turns=False)
        assert [row.effect for row in rows] == batch
        assert all(row.effect is sent for row, sent in zip(rows, batch, strict=True))
        store.confirm_sent(rows[0].id, datetime(2026, 11, 24, 1, tzinfo=UTC))
        store.fold_sent()
        assert [row.effect for row in due(store, START + timedelta(hours=1), False)] == batch[1:]
    finally:
        store.close()


def test_a_batch_with_a_key_already_stored_is_read_back(tmp_path: Path) -> None:
    """One row of the batch was dropped: which id each effect took is unknown, so none is
    remembered and the worker reads the table."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        first = effect(0, 1, 0, EffectKind.SEND_TEXT, 0)
        with store.transaction() as tx:
            tx.enqueue([first])
        store.confirm_sent(due(store, START + timedelta(hours=1), False)[0].id, START)
        store.fold_sent()
        again = [
            effect(1, None, 0, EffectKind.SEND_TEXT, 0),
            effect(2, 1, 0, EffectKind.SEND_TEXT, 0),
        ]
        with store.transaction() as tx:
            assert tx.enqueue(again) == 1
        [row] = due(store, START + timedelta(hours=1), False)
        assert row.effect == again[0] and row.effect is not again[0]
    finally:
        store.close()


def test_what_is_remembered_stays_bounded_and_right(tmp_path: Path) -> None:
    """A backlog larger than what is kept (paced sending behind a big fan-out): the oldest
    are forgotten, and the worker reads them from the table instead."""
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = Store(url)
    try:
        for first in range(0, EFFECTS_KEPT + 100, 1000):
            with store.transaction() as tx:
                tx.enqueue(
                    [
                        effect(n, None, 0, EffectKind.SEND_TEXT, 0)
                        for n in range(first, first + 1000)
                    ]
                )
        assert len(store._known.effects) <= EFFECTS_KEPT
        assert_as_read_afresh(store, url, by_turns=False)
    finally:
        store.close()
