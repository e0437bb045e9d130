"""The WeChat link itself: connect, stay connected, translate events, send."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from loguru import logger

from bot.adapters.base import NotConnected, TransientSendError
from bot.adapters.wechaty.client import (
    WechatyRefused,
    WechatySettings,
    classify_send_error,
    discover_endpoint,
    explain,
    is_refusal,
    load_client,
    scan_prompt,
    tame_library_logs,
    within,
)
from bot.adapters.wechaty.inbound import Inbound
from bot.adapters.wechaty.status_file import publish
from bot.clock import Clock
from bot.redact import mask, register
from core.effects import Effect, EffectKind
from core.events import Event


class WechatyAdapter:
    # A removal needs the bot account to own or administer the group; the service says no otherwise.
    effects = frozenset({EffectKind.SEND_TEXT, EffectKind.REMOVE_MEMBER})

    def __init__(
        self, settings: WechatySettings, clock: Clock, rng: random.Random | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._rng = rng or random.Random()
        self.puppet: Any = None
        self.self_id: str | None = None
        self._online_since: datetime | None = None
        self.inbound = Inbound(self)
        self._logged_in_once = False
        register(settings.token)

    @property
    def online_since(self) -> datetime | None:
        return self._online_since if self.self_id else None

    # --- connection ---------------------------------------------------------------------

    async def events(self) -> AsyncIterator[Event]:
        runner = asyncio.create_task(self._stay_connected(), name="wechaty-connection")
        try:
            while True:
                getter = asyncio.create_task(self.inbound.queue.get())
                done, _ = await asyncio.wait({getter, runner}, return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                else:
                    getter.cancel()
                    runner.result()  # re-raise what stopped the connection for good
        finally:
            runner.cancel()
            await self._close()

    async def _stay_connected(self) -> None:
        """Connect; when the link drops or stalls, connect again.

        Failures in a row back off exponentially (jitter inside the cap), and a link that
        reached a login resets the count, so a service that flaps ten times an hour is
        rejoined within a second or two each time. While the endpoint refuses connections
        the wait is cut short the moment it accepts them again.
        """
        failures = 0
        client = load_client()
        tame_library_logs(self.settings.token)
        while True:
            self._logged_in_once = False
            try:
                self._state("connecting")
                endpoint = self.settings.endpoint or await discover_endpoint(self.settings.token)
                self.puppet = self._new_puppet(client, endpoint)
                reason = await self._session()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or task.cancelling():
                    raise  # the bot is stopping
                reason = "a call was cut off by the client library"
            except Exception as error:  # every failure but a refusal means "reconnect"
                if is_refusal(error):
                    raise WechatyRefused(
                        f"the puppet service at {self.settings.endpoint} refused the token "
                        f"{mask(self.settings.token)} ({explain(error)})"
                    ) from None
                reason = explain(error)
            self.self_id = None
            await self._drop_puppet()
            self._state("disconnected", reason=reason)
            failures = 0 if self._logged_in_once else failures + 1
            delay = self._backoff(failures + 1)
            logger.bind(endpoint=self.settings.endpoint).warning(
                "puppet connection lost ({}); reconnecting in at most {:.1f}s", reason, delay
            )
            await self._wait_to_reconnect(delay)

    async def _session(self) -> str:
        """One connection, until its stream ends or it stops answering; why it ended."""
        stream = asyncio.create_task(self._open_stream(), name="wechaty-stream")
        watchdog = asyncio.create_task(self._watch_liveness(), name="wechaty-liveness")
        try:
            done, _ = await asyncio.wait({stream, watchdog}, return_when=asyncio.FIRST_COMPLETED)
            if stream in done:
                if stream.cancelled():  # gRPC cancels its own calls when the link breaks
                    return "the event stream was cut off"
                stream.result()  # raises what ended it
                return "the event stream ended"
            if watchdog.cancelled():
                return "the liveness probe was cut off"
            stalled = watchdog.result()
            self._state("stalled", reason=stalled)
            return f"stalled: {stalled}"
        finally:
            for task in (stream, watchdog):
                task.cancel()
            # Abandoned, not awaited: a call on a dead link may never see its cancellation.
            await asyncio.wait({stream, watchdog}, timeout=5)

    async def _open_stream(self) -> None:
        """The client's ``start``, step by step, each call with a deadline.

        ``PuppetService.start`` (wechaty-puppet-service 0.8.10, pinned) sets up the channel,
        asks the service to stop and start the puppet, then listens; a service just back
        from a crash can leave those calls unanswered for good, so here each has the
        liveness window to answer, and the link is retried otherwise.
        """
        puppet = self.puppet
        puppet._init_puppet()  # the channel and stub, as the client's own start does
        deadline = self.settings.liveness.total_seconds()
        with contextlib.suppress(Exception):  # the client ignores a failed stop, too
            await within(puppet.puppet_stub.stop(), deadline)
        await within(puppet.puppet_stub.start(), deadline)
        # The service answers; the login (or a QR code to scan) comes on the stream.
        self._state("waiting_for_login")
        await puppet._listen_for_event()

    async def _watch_liveness(self) -> str:
        """Probe the service once the link is up; return why it is considered stalled.

        Logged in or not: a service frozen before the login would otherwise hang the
        connection attempt for good.
        """
        window = self.settings.liveness.total_seconds()
        while True:
            await self.clock.sleep(window / 2)
            if self.puppet is None or not _link_open(self.puppet):
                continue
            try:
                await within(self.puppet.ding("qunbot-liveness"), window)
            except TimeoutError:
                return f"no answer to a probe within {window:g}s"
            except Exception as error:
                return f"probe failed: {explain(error)}"

    async def _drop_puppet(self) -> None:
        puppet, self.puppet = self.puppet, None
        if puppet is None:
            return
        try:
            await within(puppet.stop(), 5)
        except Exception as error:  # the link is gone already: nothing more to close
            logger.debug("puppet stop after a drop: {}", explain(error))

    async def _wait_to_reconnect(self, delay: float) -> None:
        """Sleep ``delay``, but reconnect at once when a refusing endpoint accepts again."""
        step = self.settings.reconnect_min.total_seconds()
        waited = 0.0
        refused = not await self._reachable()
        while waited < delay:
            await self.clock.sleep(min(step, delay - waited))
            waited += step
            if await self._reachable():
                if refused:
                    return
            else:
                refused = True

    async def _reachable(self) -> bool:
        """Whether the endpoint takes a TCP connection (True without an endpoint: unknown)."""
        endpoint = self.settings.endpoint
        if not endpoint:
            return True
        host, _, port = endpoint.rpartition(":")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 1.0)
        except (OSError, TimeoutError, ValueError):
            return False
        writer.close()
        return True

    def _new_puppet(self, client: Any, endpoint: str) -> Any:
        from wechaty_puppet import PuppetOptions

        options = PuppetOptions(end_point=endpoint, token=self.settings.token)
        puppet = client.PuppetService(options)
        for name, handler in (
            ("login", self._on_login),
            ("logout", self._on_logout),
            ("scan", self._on_scan),
            ("message", self.inbound.on_message),
            ("room-join", self.inbound.on_room_join),
            ("room-leave", self.inbound.on_room_leave),
            ("room-topic", self.inbound.on_room_topic),
            ("error", self._on_error),
        ):
            puppet.on(name, handler)
        return puppet

    def _backoff(self, attempt: int) -> float:
        """The wait before connection attempt ``attempt`` (1: the first retry), jittered
        by ±20% and never above the configured cap."""
        low = self.settings.reconnect_min.total_seconds()
        high = self.settings.reconnect_max.total_seconds()
        delay = low * 2 ** min(max(attempt - 1, 0), 30)
        return float(min(high, delay * (0.8 + 0.4 * self._rng.random())))

    async def _close(self) -> None:
        self.self_id = None
        await self._drop_puppet()
        self._state("stopped")

    # --- puppet events ------------------------------------------------------------------

    async def _on_login(self, payload: Any) -> None:
        self.self_id = payload.contact_id
        self._logged_in_once = True
        self._online_since = self.clock.now()
        name = await self.inbound.name_of(payload.contact_id)
        self._state("logged_in", user=payload.contact_id, name=name)
        logger.bind(user=payload.contact_id).info("qunbot online: logged in to WeChat as {}", name)

    async def _on_logout(self, payload: Any) -> None:
        self.self_id = None
        self._state("logged_out", user=payload.contact_id)
        logger.bind(user=payload.contact_id).warning("logged out of WeChat: {}", payload.data)

    async def _on_scan(self, payload: Any) -> None:
        if payload.qrcode:
            print(scan_prompt(payload.qrcode), flush=True)
        logger.info("waiting for a QR-code scan (status {})", payload.status)

    async def _on_error(self, payload: Any) -> None:
        logger.warning("puppet error: {}", payload)

    # --- sending ------------------------------------------------------------------------

    async def perform(self, effect: Effect) -> None:
        if self.puppet is None or self.self_id is None:
            raise NotConnected("not connected to WeChat")
        timeout = self.settings.send_timeout.total_seconds()
        if effect.kind is EffectKind.REMOVE_MEMBER:
            call = self.puppet.room_delete(effect.group, effect.member)
        else:
            call = self.puppet.message_send_text(effect.group, effect.text, list(effect.mentions))
        try:
            await within(call, timeout)
        except TimeoutError:
            raise TransientSendError(f"no answer from the service within {timeout:g}s") from None
        except (ConnectionError, OSError) as error:
            raise NotConnected(explain(error)) from None
        except Exception as error:
            raise classify_send_error(error) from None

    # --- status -------------------------------------------------------------------------

    def _state(self, state: str, **detail: str) -> None:
        settings = self.settings
        publish(
            state,
            self.clock.now(),
            settings.endpoint,
            settings.token,
            settings.status_file,
            **detail,
        )


def _link_open(puppet: Any) -> bool:
    """Whether the client has opened its gRPC channel (``start`` does that first)."""
    return getattr(puppet, "_puppet_stub", None) is not None
