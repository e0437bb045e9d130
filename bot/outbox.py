"""The outbox worker: performs stored effects at a pace that keeps the account safe.

Every effect (a message, a removal) is a row before it is performed (see
``StoreTx.enqueue``). The worker performs due rows in priority order, spaced per account by
a minimum gap with random jitter and a per-minute cap, retries transient failures with
backoff and marks permanent ones failed. A crash between performing and confirming repeats
at most the one effect that was in flight.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loguru import logger

from bot.adapters.base import Adapter, NotConnected, PermanentSendError, TransientSendError
from bot.clock import Clock
from core.effects import Effect
from storage.outbox import OutboxRow
from storage.store import Store, StoreTx
from triggers.operations_config import SendingConfig

# (tx, the effect, why it failed, when) -> effects to enqueue in the same transaction
FailureHook = Callable[[StoreTx, Effect, str, datetime], list[Effect]]

_TRANSIENT = (TransientSendError, ConnectionError, TimeoutError, OSError)
_CHUNK = 256  # a batch's replies: one read and one fold for them
_CANDIDATES = 20  # paced: how many due effects compete for the next slot


@dataclass(frozen=True, slots=True)
class Pacing:
    """How fast one bot account may speak (WeChat restricts accounts that send too fast)."""

    min_gap: timedelta
    jitter: timedelta
    per_minute: int
    max_attempts: int
    backoff: timedelta
    login_quiet: timedelta = timedelta(0)

    @classmethod
    def default(cls) -> Pacing:
        return cls.from_config(SendingConfig())

    @classmethod
    def from_config(cls, config: SendingConfig) -> Pacing:
        return cls(
            min_gap=config.min_gap,
            jitter=config.jitter,
            per_minute=config.per_minute,
            max_attempts=config.max_attempts,
            backoff=config.backoff,
            login_quiet=config.login_quiet,
        )

    @classmethod
    def immediate(cls) -> Pacing:
        """No spacing at all: transcripts, the console and tests of the decisions."""
        return cls(timedelta(0), timedelta(0), per_minute=0, max_attempts=5, backoff=timedelta(0))

    @property
    def paced(self) -> bool:
        return self.min_gap > timedelta(0) or self.jitter > timedelta(0) or self.per_minute > 0


class Outbox:
    """``pacing`` is read before every message, so a config reload changes it at once."""

    def __init__(
        self,
        store: Store,
        adapter: Adapter,
        clock: Clock,
        pacing: Pacing | Callable[[], Pacing],
        zone_of: Callable[[str], ZoneInfo],
        rng: random.Random | None = None,
        on_failed: FailureHook | None = None,
    ) -> None:
        """``on_failed``: what an effect that failed for good leads to (an operator alert),
        enqueued in the transaction that marks it failed."""
        self._store = store
        self._on_failed = on_failed
        self._adapter = adapter
        self._clock = clock
        self._pacing_of = pacing if callable(pacing) else lambda: pacing
        self._zone_of = zone_of
        self._rng = rng or random.Random()
        self._last_sent: datetime | None = None
        self._recent: deque[datetime] = deque()
        self._served: deque[str | None] = deque(maxlen=_CANDIDATES)  # requesters, latest last

    def next_due(self) -> datetime | None:
        with self._store.transaction() as tx:
            return tx.next_message_due()

    @property
    def _pacing(self) -> Pacing:
        return self._pacing_of()

    async def send_due(self) -> int:
        """Perform every effect that is due now; returns how many were performed."""
        sent = 0
        self._store.fold_sent()  # what a run that crashed journaled, before reading the outbox
        while rows := await self._next_rows():
            failed = False
            try:
                for row in rows:
                    error = await self._send(row)
                    if isinstance(error, NotConnected):
                        # The link dropped: the message waits for it, its attempts unspent.
                        logger.bind(group=row.effect.group).info(
                            "not sent, the platform is offline ({}): waiting for it", error
                        )
                        return sent
                    sent += error is None
                    failed |= error is not None
                    # Each mark is journaled at once: a crash repeats only the one in flight.
                    self._confirm(row, self._clock.now(), error)
            finally:
                self._store.fold_sent()  # the chunk's marks, in one transaction
            if len(rows) < _CHUNK and not failed and not self._pacing.paced:
                # That was all that was due: what is decided meanwhile pokes anew, and only
                # a failure enqueues something here (its operator alert, due at once).
                break
        return sent

    async def _next_rows(self) -> list[OutboxRow]:
        """What goes out next: unpaced, a chunk in order; paced, one effect, chosen once the
        pace allows it, so that an answer decided during the wait can take the slot.

        Paced, requesters take turns: among the oldest candidates, the one whose requester
        was served least in the last few sends goes first (a member's backlog never holds
        up another member's answer by more than a slot or two).
        """
        if not self._pacing.paced:
            return self._due(_CHUNK)
        if not self._due(1):
            return []
        await self._pace()
        candidates = self._due(_CANDIDATES)
        if not candidates:
            return []
        served = self._served
        chosen = min(
            enumerate(candidates),
            key=lambda pair: (
                pair[1].effect.priority,
                served.count(pair[1].effect.requester) if pair[1].effect.requester else 0,
                pair[0],
            ),
        )
        return [chosen[1]]

    def _due(self, limit: int) -> list[OutboxRow]:
        online_since = self._adapter.online_since
        if online_since is None:
            return []  # the platform is down: everything stays pending
        now = self._clock.now()
        # Right after a login, only answers go out; broadcasts wait out the quiet period.
        quiet = now < online_since + self._pacing.login_quiet
        with self._store.transaction() as tx:
            return tx.due_messages(now, limit, 0 if quiet else None, by_turns=self._pacing.paced)

    async def _send(self, row: OutboxRow) -> Exception | None:
        effect = row.effect
        if effect.kind not in self._adapter.effects:
            return PermanentSendError(f"this platform adapter cannot {effect.kind.value}")
        zone = self._zone_of(effect.group)
        # Effects decided in this run carry their group's time already; those read back
        # from the store are in UTC.
        local = (
            effect if effect.at.tzinfo is zone else replace(effect, at=effect.at.astimezone(zone))
        )
        try:
            await self._adapter.perform(local)
        except (PermanentSendError, *_TRANSIENT) as error:
            return error
        now = self._clock.now()
        self._last_sent = now
        self._recent.append(now)
        self._served.append(effect.requester)
        return None

    def _confirm(self, row: OutboxRow, at: datetime, error: Exception | None) -> None:
        if error is None:
            self._store.confirm_sent(row.id, at)
            return
        log = logger.bind(group=row.effect.group, rule=row.effect.rule, key=row.effect.key)
        attempts = row.attempts + 1
        final = isinstance(error, PermanentSendError) or attempts >= self._pacing.max_attempts
        with self._store.transaction(durable=final) as tx:
            if final:
                reason = f"{type(error).__name__}: {error}"
                tx.mark_failed(row.id, reason)
                log.error("message failed for good after {} attempt(s): {}", attempts, error)
                if self._on_failed is not None:
                    tx.enqueue(self._on_failed(tx, row.effect, reason, at))
            else:
                delay = self._pacing.backoff * (2**row.attempts)
                tx.retry_later(row.id, at + delay, f"{type(error).__name__}: {error}")
                log.warning("send failed ({}); retrying in {}", error, delay)

    async def _pace(self) -> None:
        """Wait until this account may send again: the gap with jitter, then the minute cap."""
        pacing = self._pacing
        if not pacing.paced:
            return
        now = self._clock.now()
        wait = 0.0
        if self._last_sent is not None:
            gap = pacing.min_gap + pacing.jitter * self._rng.random()
            wait = (self._last_sent + gap - now).total_seconds()
        while self._recent and now - self._recent[0] >= timedelta(minutes=1):
            self._recent.popleft()
        if pacing.per_minute and len(self._recent) >= pacing.per_minute:
            wait = max(wait, (self._recent[0] + timedelta(minutes=1) - now).total_seconds())
        if wait > 0:
            await self._clock.sleep(wait)
