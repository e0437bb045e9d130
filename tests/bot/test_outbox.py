"""The outbox: durable, idempotent, paced, retrying; a crash mid-fan-out sends nothing twice."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.base import AlwaysOnline, PermanentSendError, TransientSendError
from bot.clock import FakeClock
from bot.outbox import Outbox, Pacing
from core.effects import Effect, EffectKind
from core.events import Event
from storage.store import Store

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Crash(BaseException):
    """The process dies: not an error the worker may handle."""


class RecordingAdapter(AlwaysOnline):
    """Records what was sent and when; can fail on cue."""

    def __init__(
        self,
        clock: FakeClock,
        fail: dict[str, list[Exception]] | None = None,
        crash_after: int | None = None,
    ) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, Effect]] = []
        self.fail = fail or {}
        self.crash_after = crash_after

    async def events(self) -> AsyncIterator[Event]:  # pragma: no cover - never iterated
        return
        yield

    async def perform(self, effect: Effect) -> None:
        if self.crash_after is not None and len(self.sent) == self.crash_after:
            raise Crash
        failures = self.fail.get(effect.group)
        if failures:
            raise failures.pop(0)
        self.sent.append((self.clock.now(), effect))


def enqueue(store: Store, messages: list[Effect]) -> int:
    with store.transaction() as tx:
        return tx.enqueue(messages)


def fan_out(groups: int, key: str = "broadcast:1", priority: int = 10) -> list[Effect]:
    return [
        Effect(
            group=f"g{i:03d}",
            text=f"通知 {i}",
            at=T0,
            key=f"{key}:g{i:03d}",
            priority=priority,
            broadcast=1,
        )
        for i in range(groups)
    ]


def outbox(store: Store, adapter: RecordingAdapter, pacing: Pacing, seed: int = 7) -> Outbox:
    return Outbox(store, adapter, adapter.clock, pacing, lambda _g: SHANGHAI, random.Random(seed))


def test_the_same_key_is_stored_once(store: Store) -> None:
    assert enqueue(store, fan_out(3)) == 3
    assert enqueue(store, fan_out(3)) == 0
    unkeyed = Effect(group="g1", text="hi", at=T0)
    assert enqueue(store, [unkeyed, unkeyed]) == 2  # replies to members carry no key
    with store.transaction() as tx:
        assert tx.outbox_counts().pending == 5


def test_replies_go_before_broadcasts(store: Store) -> None:
    enqueue(store, fan_out(3))
    enqueue(store, [Effect(group="g9", text="answer", at=T0)])
    clock = FakeClock(T0)
    adapter = RecordingAdapter(clock)
    asyncio.run(outbox(store, adapter, Pacing.immediate()).send_due())
    assert [r.text for _, r in adapter.sent] == ["answer", "通知 0", "通知 1", "通知 2"]
    assert adapter.sent[0][1].at == T0


def test_every_effect_reaches_the_adapter_in_its_group_s_time(store: Store) -> None:
    """Effects decided in this run in the group's zone go as they are; others (a UTC time,
    or a previous run's, read back from the store in UTC) are moved into it first."""
    enqueue(store, [Effect("g1", "local", T0), Effect("g1", "utc", T0.astimezone(UTC))])
    store.close()
    reopened = Store(str(store.engine.url))
    enqueue(reopened, [Effect("g1", "decided now", T0)])
    adapter = RecordingAdapter(FakeClock(T0))
    try:
        asyncio.run(outbox(reopened, adapter, Pacing.immediate()).send_due())
    finally:
        reopened.close()
    assert [effect.text for _, effect in adapter.sent] == ["local", "utc", "decided now"]
    for _, effect in adapter.sent:
        assert effect.at == T0 and effect.at.tzinfo is SHANGHAI, effect


def test_effects_keep_their_kind_member_and_account_through_the_store(store: Store) -> None:
    removal = replace(Effect.remove_member("g1", "spammer", T0, rule="踢"), account="second")
    enqueue(store, [Effect("g1", "已移出", T0, ("alice",)), removal])
    adapter = RecordingAdapter(FakeClock(T0))
    asyncio.run(outbox(store, adapter, Pacing.immediate()).send_due())
    assert [effect for _, effect in adapter.sent] == [
        Effect("g1", "已移出", T0, ("alice",)),
        removal,
    ]


def test_an_effect_the_adapter_cannot_perform_fails_at_once_with_the_reason(store: Store) -> None:
    enqueue(store, [Effect.remove_member("g1", "spammer", T0), Effect("g1", "hi", T0)])
    adapter = RecordingAdapter(FakeClock(T0))
    adapter.effects = frozenset({EffectKind.SEND_TEXT})
    assert asyncio.run(outbox(store, adapter, Pacing.immediate()).send_due()) == 1
    assert [effect.text for _, effect in adapter.sent] == ["hi"]
    with store.transaction() as tx:
        [failed] = tx.failed_messages()
    assert (failed.text, failed.attempts) == ("remove spammer from g1", 1)
    assert failed.error == "PermanentSendError: this platform adapter cannot remove_member"


def test_pacing_keeps_the_gap_and_the_minute_cap(store: Store) -> None:
    enqueue(store, fan_out(60))
    clock = FakeClock(T0)
    adapter = RecordingAdapter(clock)
    pacing = replace(
        Pacing.default(), min_gap=timedelta(seconds=1), jitter=timedelta(seconds=2), per_minute=20
    )
    asyncio.run(outbox(store, adapter, pacing).send_due())
    times = [at for at, _ in adapter.sent]
    assert len(times) == 60
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0
    assert max(gaps) > 1.0  # the jitter is really there
    for i, start in enumerate(times):
        in_minute = [t for t in times[i:] if t - start < timedelta(minutes=1)]
        assert len(in_minute) <= 20


def test_a_transient_failure_is_retried_with_backoff_then_sent(store: Store) -> None:
    enqueue(store, [Effect(group="g1", text="hi", at=T0, key="k1")])
    clock = FakeClock(T0)
    adapter = RecordingAdapter(
        clock, fail={"g1": [TransientSendError("timeout"), ConnectionError("down")]}
    )
    worker = outbox(
        store,
        adapter,
        replace(Pacing.immediate(), backoff=timedelta(seconds=10)),
    )
    asyncio.run(worker.send_due())
    assert adapter.sent == []
    with store.transaction() as tx:
        assert tx.next_message_due() == T0 + timedelta(seconds=10)
    clock.set(T0 + timedelta(seconds=10))
    asyncio.run(worker.send_due())
    assert adapter.sent == []
    with store.transaction() as tx:
        assert tx.next_message_due() == T0 + timedelta(seconds=30)  # backoff doubles
    clock.set(T0 + timedelta(seconds=30))
    asyncio.run(worker.send_due())
    assert [r.text for _, r in adapter.sent] == ["hi"]
    with store.transaction() as tx:
        assert tx.outbox_counts().sent == 1


def test_a_permanent_failure_is_marked_failed_with_its_reason(store: Store) -> None:
    enqueue(store, [Effect(group="gone", text="hi", at=T0, key="k")])
    clock = FakeClock(T0)
    adapter = RecordingAdapter(clock, fail={"gone": [PermanentSendError("room not found")]})
    asyncio.run(outbox(store, adapter, Pacing.immediate()).send_due())
    with store.transaction() as tx:
        counts = tx.outbox_counts()
        error = tx._c.execute(
            __import__("sqlalchemy").text("select error from outbox")
        ).scalar_one()
    assert (counts.pending, counts.failed) == (0, 1)
    assert error == "PermanentSendError: room not found"


def test_attempts_run_out(store: Store) -> None:
    enqueue(store, [Effect(group="g1", text="hi", at=T0, key="k")])
    clock = FakeClock(T0)
    adapter = RecordingAdapter(clock, fail={"g1": [TransientSendError("x")] * 10})
    worker = outbox(
        store,
        adapter,
        replace(Pacing.immediate(), max_attempts=3, backoff=timedelta(seconds=1)),
    )
    for _ in range(5):
        asyncio.run(worker.send_due())
        clock.advance(timedelta(minutes=1))
    with store.transaction() as tx:
        assert tx.outbox_counts().failed == 1
    assert len(adapter.fail["g1"]) == 7  # three attempts, then no more


@pytest.mark.parametrize(
    "pacing", [Pacing.default(), Pacing.immediate()], ids=["paced", "immediate"]
)
def test_a_crash_mid_fan_out_sends_every_group_exactly_once(db_url: str, pacing: Pacing) -> None:
    first = Store(db_url)
    enqueue(first, fan_out(200))
    clock = FakeClock(T0)
    dying = RecordingAdapter(clock, crash_after=57)
    with pytest.raises(Crash):
        asyncio.run(outbox(first, dying, pacing).send_due())
    first.close()
    assert len(dying.sent) == 57

    second = Store(db_url)
    revived = RecordingAdapter(clock)
    asyncio.run(outbox(second, revived, pacing).send_due())
    delivered = [r.group for _, r in dying.sent + revived.sent]
    assert sorted(delivered) == [f"g{i:03d}" for i in range(200)]
    with second.transaction() as tx:
        assert tx.outbox_counts() == tx.outbox_counts(1)
        assert tx.outbox_counts().sent == 200
    second.close()


class FlakyLink(RecordingAdapter):
    """A platform connection that can be down, or freshly logged in."""

    def __init__(self, clock: FakeClock, since: datetime | None) -> None:
        super().__init__(clock)
        self.since = since

    @property
    def online_since(self) -> datetime | None:
        return self.since


def test_nothing_is_sent_and_no_attempt_spent_while_the_platform_is_down(store: Store) -> None:
    enqueue(store, [Effect(group="g1", text="hi", at=T0, key="k")])
    clock = FakeClock(T0)
    link = FlakyLink(clock, since=None)
    worker = outbox(store, link, Pacing.immediate())
    assert asyncio.run(worker.send_due()) == 0
    with store.transaction() as tx:
        row = tx.due_messages(T0, 10)[0]
    assert row.attempts == 0
    link.since = T0
    assert asyncio.run(worker.send_due()) == 1


def test_after_a_login_answers_go_out_and_broadcasts_wait_out_the_quiet_period(
    store: Store,
) -> None:
    enqueue(store, fan_out(2))
    enqueue(store, [Effect(group="g9", text="answer", at=T0)])
    clock = FakeClock(T0)
    link = FlakyLink(clock, since=T0 - timedelta(minutes=1))
    worker = outbox(store, link, replace(Pacing.immediate(), login_quiet=timedelta(minutes=5)))
    asyncio.run(worker.send_due())
    assert [r.text for _, r in link.sent] == ["answer"]
    clock.set(T0 + timedelta(minutes=4))
    asyncio.run(worker.send_due())
    assert [r.text for _, r in link.sent] == ["answer", "通知 0", "通知 1"]


@pytest.mark.parametrize("kill_at", [0.03, 0.35, 0.75])
def test_a_kill_during_a_burst_of_confirmations_repeats_at_most_one_message(
    db_url: str, tmp_path: Path, kill_at: float
) -> None:
    """SIGKILL while messages leave as fast as the platform takes them, then a restart."""
    burst = 20_000 if db_url.startswith("sqlite") else 3_000  # a commit per message there
    kill_after = int(burst * kill_at)
    out = tmp_path / "platform.txt"
    command = [sys.executable, str(Path(__file__).with_name("burst_child.py")), db_url, str(out)]
    dying = subprocess.Popen([*command, str(burst)], env={**os.environ, "PYTHONPATH": "."})
    deadline = time.monotonic() + 60
    while _lines(out) < kill_after and dying.poll() is None:
        assert time.monotonic() < deadline, "the burst never got going"
        time.sleep(0.001)
    dying.send_signal(signal.SIGKILL)
    dying.wait(timeout=10)
    at_kill = _lines(out)
    assert at_kill < burst, "the burst ended before the kill: nothing was tested"
    subprocess.run(
        [*command, str(burst)], check=True, timeout=120, env={**os.environ, "PYTHONPATH": "."}
    )
    said = out.read_text().splitlines()
    assert set(said) == {f"m{n}" for n in range(burst)}
    assert len(said) - burst <= 1, (at_kill, len(said) - burst)


def _lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_one_round_sends_everything_due_chunk_after_chunk(store: Store) -> None:
    """A full chunk means more may wait: the round reads again; a short one ends it."""
    enqueue(store, fan_out(600))
    adapter = RecordingAdapter(FakeClock(T0))
    assert asyncio.run(outbox(store, adapter, Pacing.immediate()).send_due()) == 600
    assert len(adapter.sent) == 600
