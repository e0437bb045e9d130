"""The Wechaty client around the adapter: loading it, its logs, settings, errors, the
service directory, and the one-off room listing of `qunbot groups`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import urllib.request
import warnings
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from loguru import logger

from bot.adapters.base import NotConnected, PermanentSendError, TransientSendError
from bot.redact import redact, register

T = TypeVar("T")


class WechatyUnavailable(RuntimeError):
    """The puppet-service client cannot be imported here (an unsupported Python version)."""


class WechatyRefused(RuntimeError):
    """The puppet service will not have us (a wrong token): retrying cannot help."""


def load_client() -> Any:
    """Import the client lazily, so the rest of qunbot works where it cannot load."""
    try:
        with warnings.catch_warnings():
            # Its telnetlib import is deprecated (removed in 3.13): a known upstream issue.
            warnings.filterwarnings("ignore", "'telnetlib' is deprecated", DeprecationWarning)
            import wechaty_puppet_service
    except ImportError as error:  # telnetlib is gone in Python 3.13
        raise WechatyUnavailable(
            f"the WeChat adapter needs wechaty-puppet-service, which cannot load here ({error}); "
            "use Python 3.11 or 3.12"
        ) from None
    return wechaty_puppet_service


_WECHATY_LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


class _ToLoguru(logging.Handler):
    """Wechaty's own loggers, through loguru (and so its masking: they log the token)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        text = redact(record.getMessage())
        logger.bind(library=record.name).log(record.levelname, "wechaty: {}", text)


def tame_library_logs(token: str) -> None:
    """Replace the handlers wechaty_puppet installs on its loggers (stderr, unmasked)."""
    register(token)
    handler = _ToLoguru()
    for candidate in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(candidate, logging.Logger) or candidate.propagate:
            continue
        formats = {getattr(h.formatter, "_fmt", None) for h in candidate.handlers}
        if formats == {_WECHATY_LOG_FORMAT}:
            candidate.handlers = [handler]


@dataclass(frozen=True, slots=True)
class WechatySettings:
    endpoint: str | None
    token: str
    private_chats: bool = False
    scan_images: bool = True
    status_file: Path | None = None
    reconnect_min: timedelta = timedelta(seconds=1)
    reconnect_max: timedelta = timedelta(minutes=1)
    # A send the service has not answered within this long counts as failed (and retried).
    send_timeout: timedelta = timedelta(seconds=20)
    # The service must answer a probe within this long, else the link is "stalled".
    liveness: timedelta = timedelta(seconds=30)


async def within(call: Awaitable[T], seconds: float) -> T:
    """Await with a deadline that holds even when the call ignores its cancellation.

    ``asyncio.wait_for`` waits for a cancelled call to finish; a gRPC call on a half-dead
    link may never do, and the bot would hang with it. Here the call is abandoned.
    """
    task = asyncio.ensure_future(call)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        raise TimeoutError(f"no answer within {seconds:g}s")
    return task.result()


def content_of(message_type: Any) -> str:
    """``MESSAGE_TYPE_IMAGE`` → ``image``: what a message holds, from the client's enum."""
    name = str(getattr(message_type, "name", "") or "MESSAGE_TYPE_UNSPECIFIED")
    return name.removeprefix("MESSAGE_TYPE_").lower()


def scan_prompt(qrcode: str) -> str:
    """The login QR code as terminal art, and a URL that shows it as an image."""
    import qrcode as qr

    code = qr.QRCode(border=1)
    code.add_data(qrcode)
    art = io.StringIO()
    code.print_ascii(out=art, invert=True)
    url = f"https://wechaty.js.org/qrcode/{quote(qrcode, safe='')}"
    return f"{art.getvalue()}\nScan it with WeChat, or open {url}"


def explain(error: BaseException) -> str:
    """One line for a log, not a gRPC stack trace (and never the token in it)."""
    text = redact(str(error).strip().splitlines()[0]) if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# gRPC status codes a puppet service answers a send with, and what they mean for it.
_NEVER = frozenset(
    {
        "NOT_FOUND",
        "INVALID_ARGUMENT",
        "PERMISSION_DENIED",
        "FAILED_PRECONDITION",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "ALREADY_EXISTS",
        "UNAUTHENTICATED",
    }
)
_LINK_DOWN = frozenset({"UNAVAILABLE", "CANCELLED"})


def classify_send_error(error: BaseException) -> Exception:
    """A refused send as the outbox treats it: never (failed at once), link down (waits,
    no attempt spent), or anything else (retried with backoff, attempts counted)."""
    code = getattr(getattr(error, "status", None), "name", "")
    text = f"{code or type(error).__name__}: {explain(error)}"
    if code in _NEVER:
        return PermanentSendError(text)
    if code in _LINK_DOWN:
        return NotConnected(text)
    return TransientSendError(text)


def is_refusal(error: BaseException) -> bool:
    status = getattr(error, "status", None)
    return getattr(status, "name", "") in ("UNAUTHENTICATED", "PERMISSION_DENIED")


DIRECTORY = "https://api.chatie.io/v0/hosties/{token}"
DIRECTORY_TIMEOUT = 10.0


async def discover_endpoint(token: str) -> str:
    """A token-only set-up: ask the Wechaty service directory where the service is.

    The client would do it with no timeout, on the event loop; here it runs in a thread
    with a timeout, and its errors never carry the token (the URL holds it).
    """
    url = DIRECTORY.format(token=quote(token, safe=""))

    def fetch() -> dict[str, Any]:
        with urllib.request.urlopen(url, timeout=DIRECTORY_TIMEOUT) as response:
            return dict(json.loads(response.read().decode("utf-8")))

    try:
        data = await asyncio.wait_for(asyncio.to_thread(fetch), DIRECTORY_TIMEOUT + 1)
    except (OSError, TimeoutError, ValueError) as error:
        raise ConnectionError(f"the service directory did not answer: {explain(error)}") from None
    if not data.get("ip") or data["ip"] == "0.0.0.0" or not data.get("port"):
        raise ConnectionError("the service directory knows no service for this token")
    return f"{data['ip']}:{data['port']}"


@dataclass(frozen=True, slots=True)
class RoomInfo:
    id: str
    topic: str
    members: int


async def list_rooms(settings: WechatySettings, timeout: float = 60.0) -> list[RoomInfo]:
    """Connect once, wait for the login, and list the rooms the account is in."""
    from wechaty_puppet import PuppetOptions

    client = load_client()
    tame_library_logs(settings.token)
    endpoint = settings.endpoint or await discover_endpoint(settings.token)
    puppet = client.PuppetService(PuppetOptions(end_point=endpoint, token=settings.token))
    logged_in = asyncio.Event()

    async def on_login(_payload: Any) -> None:
        logged_in.set()

    puppet.on("login", on_login)
    runner = asyncio.create_task(puppet.start())
    waiter = asyncio.create_task(logged_in.wait())
    try:
        done, _ = await asyncio.wait(
            {runner, waiter}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if runner in done:
            error = runner.exception()
            raise ConnectionError(explain(error) if error else "the service closed the stream")
        if waiter not in done:
            raise TimeoutError(f"no login from the puppet service within {timeout:.0f}s")
        rooms = []
        for room_id in await puppet.room_list():
            payload = await puppet.room_payload(room_id)
            rooms.append(RoomInfo(room_id, payload.topic, len(payload.member_ids)))
        return rooms
    finally:
        waiter.cancel()
        runner.cancel()
        try:
            await within(puppet.stop(), 5)
        except Exception as error:  # best effort: the link may be gone already
            logger.debug("puppet stop: {}", explain(error))
