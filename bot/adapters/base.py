"""The adapter interface every platform implements."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Protocol

from core.effects import Effect, EffectKind
from core.events import Event


class Adapter(Protocol):
    """Turns platform traffic into Events, and performs Effects on the platform.

    ``events`` ends when the source is exhausted (a transcript, closed stdin); a live
    platform adapter never ends it on its own. ``effects`` are the kinds ``perform`` can
    do; the outbox fails any other kind for good instead of retrying it.
    """

    effects: frozenset[EffectKind]

    def events(self) -> AsyncIterator[Event]: ...

    async def perform(self, effect: Effect) -> None: ...

    @property
    def online_since(self) -> datetime | None:
        """When the platform connection last came up; None while it is down (the outbox
        then keeps messages pending instead of spending their attempts)."""
        ...


class TransientSendError(Exception):
    """The platform could not take the message now (network, rate limit): try again later."""


class NotConnected(TransientSendError):
    """The platform link is down: the message waits, spending none of its attempts."""


class PermanentSendError(Exception):
    """The platform will never take this message (the group is gone, the text is refused)."""


EVERY_EFFECT = frozenset(EffectKind)


class AlwaysOnline:
    """For adapters with no connection to lose: transcripts and the console."""

    effects: frozenset[EffectKind] = EVERY_EFFECT

    @property
    def online_since(self) -> datetime | None:
        return datetime.min.replace(tzinfo=UTC)
