"""Assembling a bot: config + store + engine + dispatcher, and running it on an adapter."""

from __future__ import annotations

import asyncio
import signal
import tempfile
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loguru import logger

from bot import heap
from bot.adapters.base import Adapter
from bot.clock import Clock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from bot.runtime import RunOptions, run
from core.effects import Effect
from storage.db import masked_url
from storage.encryption import DataKeys
from storage.store import Store, StoreTx
from triggers.alerts import failure_alerts
from triggers.engine import Engine
from triggers.loader import load_ruleset
from triggers.ruleset import RuleSet


class Bot:
    """A loaded config and an open store, ready to run on any adapter."""

    def __init__(self, ruleset: RuleSet, store: Store, config_path: Path | None = None) -> None:
        self.store = store
        self.dispatcher = Dispatcher(store, Engine(ruleset), config_path)

    @property
    def ruleset(self) -> RuleSet:
        """The rules in force: a reload swaps them."""
        return self.dispatcher.engine.ruleset

    def run(
        self,
        adapter: Adapter,
        clock: Clock,
        options: RunOptions,
        paced: bool = False,
        graceful: bool = False,
    ) -> None:
        """Run on an adapter; ``paced`` sends at the config's ``sending`` pace (a real account),
        otherwise messages go out as soon as they are decided."""
        logger.bind(store=masked_url(self.store.url)).info(
            "qunbot ready: {} rule(s), {} FAQ entries, {} group(s) configured",
            len(self.ruleset.rules),
            len(self.ruleset.faq),
            len(self.ruleset.config.groups),
        )
        pacing = self._pacing if paced else Pacing.immediate()
        outbox = Outbox(self.store, adapter, clock, pacing, self.zone_of, on_failed=self._failed)
        heap.settle()  # the last of startup: what lives now lives for the whole run
        work = run(adapter, self.dispatcher, outbox, clock, options)
        asyncio.run(until_signalled(work) if graceful else work)

    def _failed(self, tx: StoreTx, effect: Effect, reason: str, at: datetime) -> list[Effect]:
        return failure_alerts(tx, self.ruleset, effect, reason, at)

    def zone_of(self, group: str) -> ZoneInfo:
        """The zone the rules in force give the group (a reload may change it)."""
        return self.ruleset.zone_of(group)

    def _pacing(self) -> Pacing:
        return Pacing.from_config(self.ruleset.config.sending)


async def until_signalled(work: Coroutine[Any, Any, None]) -> None:
    """Run until done or until SIGTERM/SIGINT (a service manager stopping the bot).

    A signal cancels the work, so the adapter closes its connection and the last batch's
    replies stay in the outbox for the next start, instead of the process dying mid-send.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        logger.info("qunbot stopped by a signal")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


@contextmanager
def open_bot(config: Path, db_url: str | None, keys: DataKeys | None = None) -> Iterator[Bot]:
    """Load the config, open the store (a throwaway SQLite file when ``db_url`` is None);
    ``keys`` seal member data at rest."""
    ruleset = load_ruleset(config)
    with _database(db_url) as url:
        store = Store(url, keys)
        if keys is None:
            logger.warning(
                "member data is stored unencrypted: set QUNBOT_DATA_KEY in .env "
                "(`qunbot keys new` makes one; README, Privacy and access)"
            )
        bot = Bot(ruleset, store, config)
        try:
            yield bot
        finally:
            bot.dispatcher.close()
            store.close()


@contextmanager
def _database(db_url: str | None) -> Iterator[str]:
    if db_url is not None:
        yield db_url
        return
    with tempfile.TemporaryDirectory(prefix="qunbot-") as folder:
        yield f"sqlite:///{Path(folder) / 'qunbot.db'}"
