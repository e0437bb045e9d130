"""End-to-end fixtures: a real Wechaty puppet-service server to talk to, scripted by the test.

The peer (``puppet_server/server.mjs``) is a Node process: the official ``PuppetServer`` from
``wechaty-puppet-service`` around a scripted ``PuppetMock``, with a JSON control API on a
second loopback port. It is a test peer only, never part of the product. The fixtures here
install its npm packages once, start it on free loopback ports, and hand tests a small
standard-library client for the control API (:class:`PuppetServerPeer`).

When ``node``/``npm`` are missing (or the install fails), e2e tests are skipped with the
reason -- unless ``QUNBOT_REQUIRE_E2E=1``, where a CI job that must run them fails instead.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

SERVER_DIR = Path(__file__).parent / "puppet_server"
SERVER_SCRIPT = SERVER_DIR / "server.mjs"
NODE_MODULES = SERVER_DIR / "node_modules"
INSTALL_STAMP = NODE_MODULES / ".qunbot-install-stamp"
TOKEN = "insecure_qunbot_e2e"
REQUIRE_ENV = "QUNBOT_REQUIRE_E2E"

NPM_INSTALL_TIMEOUT = 300.0
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
CONTROL_TIMEOUT = 5.0
POLL_INTERVAL = 0.05
READY_LINE = re.compile(r"^READY grpc=(\d+) control=(\d+)$", re.MULTILINE)

# A member is {"id": ..., "name": ...} or a bare id (then name = id).
Member = Mapping[str, str] | str
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker here: pyproject.toml is not ours to edit, and --strict-markers is on."""
    config.addinivalue_line(
        "markers",
        "e2e: end-to-end test against the Node puppet-service peer (tests/e2e/puppet_server); "
        "needs node and npm, skipped without them unless QUNBOT_REQUIRE_E2E=1",
    )


def _unavailable(reason: str) -> NoReturn:
    """Skip, or fail where e2e coverage is mandatory: a silent skip must not pass CI there."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


def _install_digest(node: str) -> str:
    """What the installed node_modules depend on: package.json and the Node major version."""
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()
    digest = hashlib.sha256((SERVER_DIR / "package.json").read_bytes())
    digest.update(version.split(".")[0].encode())
    return digest.hexdigest()


@pytest.fixture(scope="session")
def puppet_server_node() -> str:
    """The node executable, with the peer's npm packages installed (once per package.json)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _unavailable(
            "e2e tests need node and npm on PATH (Node >= 18) to run the puppet-service peer"
        )
    assert node is not None and npm is not None
    digest = _install_digest(node)
    if INSTALL_STAMP.is_file() and INSTALL_STAMP.read_text().strip() == digest:
        return node
    command = [npm, "install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock"]
    try:
        result = subprocess.run(
            command,
            cwd=SERVER_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_INSTALL_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        _unavailable(f"`npm install` in {SERVER_DIR} took over {NPM_INSTALL_TIMEOUT:.0f} s")
    if result.returncode != 0:
        tail = (result.stdout + result.stderr).strip()[-2000:]
        _unavailable(f"`npm install` in {SERVER_DIR} failed ({result.returncode}):\n{tail}")
    INSTALL_STAMP.write_text(digest + "\n")
    return node


class ControlError(RuntimeError):
    """The peer refused a control call (4xx/5xx): a test scripting mistake, usually."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class PuppetServerPeer:
    """One puppet-service peer process and a client for its control API.

    Control calls are blocking but answered at once (the peer never waits for the gRPC
    client), so async tests may call them directly; only the ``wait_*`` pollers must use
    their ``*_async`` forms inside an event loop, or the client under test could not run.
    The world (account, contacts, rooms) and the sent log survive :meth:`kill`/:meth:`restart`.
    """

    token = TOKEN
    ControlError = ControlError  # for pytest.raises in tests, which cannot import a conftest

    def __init__(self, node: str, workdir: Path) -> None:
        self._node = node
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None
        self._starts = 0
        self.grpc_port = 0
        self.control_port = 0
        self._world: dict[str, Any] | None = None  # last /state seen, replayed on restart
        self._sent_before: list[dict[str, Any]] = []  # what earlier processes recorded
        # Loopback only: never route control calls through a proxy from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # -- process lifecycle

    @property
    def endpoint(self) -> str:
        """What a puppet-service client dials: ``host:port``, plaintext, token as authority."""
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, grpc_port: int = 0, control_port: int = 0, world: Path | None = None) -> None:
        """Start the node process and wait for its READY line (0 = let it pick free ports);
        ``world``: a ``/state`` snapshot file it holds before its gRPC port listens."""
        if self.running:
            raise RuntimeError("the puppet server is already running")
        self._starts += 1
        self._log = self._workdir / f"server-{self._starts}.log"
        env = {
            **os.environ,
            "WECHATY_LOG": os.environ.get("WECHATY_LOG", "warn"),
            "TMPDIR": str(self._workdir),  # its FileBox registry leaves files behind on SIGKILL
        }
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [
                    self._node,
                    str(SERVER_SCRIPT),
                    "--grpc-port",
                    str(grpc_port),
                    "--control-port",
                    str(control_port),
                    "--token",
                    self.token,
                    "--exit-on-stdin-eof",
                    *(["--world", str(world)] if world else []),
                ],
                cwd=SERVER_DIR,
                env=env,
                stdin=subprocess.PIPE,  # closing it makes the peer exit, even if we crash
                stdout=log,  # a file, not a pipe: nobody has to keep draining it
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            ready = READY_LINE.search(self._log.read_text(errors="replace"))
            if ready:
                self.grpc_port, self.control_port = int(ready[1]), int(ready[2])
                return
            if self._process.poll() is not None or time.monotonic() > deadline:
                why = "exited" if self._process.poll() is not None else "did not get ready"
                self._reap(signal.SIGKILL)
                raise RuntimeError(f"the puppet server {why}; its log:\n{self.log_tail()}")
            time.sleep(POLL_INTERVAL)

    def kill(self) -> None:
        """SIGKILL the peer mid-connection, as a crash would; its world is kept for restart()."""
        if not self.running:
            raise RuntimeError("the puppet server is not running")
        self._save_world()
        self._reap(signal.SIGKILL)

    def restart(self) -> None:
        """Start again on the same ports with the same world, so a reconnecting client sees it.

        Messages and their payloads are not carried over (ids from before are unknown now);
        the sent log is, through :meth:`sent`. Kills the running process first, if any.
        """
        if self.running:
            self.kill()
        world = None
        if self._world is not None:
            # Loaded before the gRPC port listens: a client reconnecting at once must find
            # the account there, as it would on a real service back from a crash.
            world = self._workdir / "world.json"
            world.write_text(json.dumps(self._world), encoding="utf-8")
        self.start(self.grpc_port, self.control_port, world)

    def stop(self) -> None:
        """Graceful SIGTERM (SIGKILL after a few seconds); safe to call when already stopped."""
        if self._process is not None:
            self._reap(signal.SIGTERM)

    def _save_world(self) -> None:
        """Keep the world and the sent log of a process about to die (best effort)."""
        try:
            self._world = self._request("GET", "/state")
            self._sent_before.extend(self._request("GET", "/sent"))
        except (OSError, ControlError):
            pass  # already dead: the last snapshot taken after a control call stands

    def _reap(self, sig: signal.Signals) -> None:
        """Stop the process and release its pipe, leaving no zombie and no ResourceWarning."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT)
        if process.stdin is not None:
            process.stdin.close()

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the current process's output, for failure messages."""
        return self._log.read_text(errors="replace")[-chars:] if self._log else ""

    # -- control API

    def _request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.control_port}{path}",
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=CONTROL_TIMEOUT) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                payload = error.read().decode(errors="replace")
            try:
                message = json.loads(payload)["error"]
            except (ValueError, KeyError, TypeError):
                message = payload
            raise ControlError(error.code, message) from None

    def _mutate(self, path: str, body: Mapping[str, Any]) -> Any:
        """A world-changing call; the snapshot after it is what restart() falls back on."""
        result = self._request("POST", path, body)
        self._world = self._request("GET", "/state")
        return result

    @staticmethod
    def _members(members: Sequence[Member]) -> list[dict[str, str]]:
        return [{"id": m, "name": m} if isinstance(m, str) else dict(m) for m in members]

    @staticmethod
    def _extra(force: bool, timestamp: float | None) -> dict[str, Any]:
        extra: dict[str, Any] = {"force": True} if force else {}
        if timestamp is not None:
            extra["timestamp"] = timestamp
        return extra

    def login(self, id: str, name: str | None = None) -> dict[str, Any]:
        """The account the client runs as; logged in now if a client runs, else on its start."""
        return dict(self._mutate("/login", {"id": id, "name": name or id}))

    def removals(self) -> list[dict[str, Any]]:
        """Every room-member removal the client asked for: {room, member, at, ok}."""
        return list(self._request("GET", "/removals"))

    def logout(self, reason: str = "logout by the test") -> dict[str, Any]:
        """Log the puppet out (a logout event); it logs in again when a client next starts."""
        return dict(self._request("POST", "/logout", {"reason": reason}))

    def room(
        self, id: str, topic: str, members: Sequence[Member], owner: str | None = None
    ) -> dict[str, Any]:
        """Create a room the account is in (the account is added as a member). No event."""
        body: dict[str, Any] = {"id": id, "topic": topic, "members": self._members(members)}
        if owner:
            body["owner"] = owner
        return dict(self._mutate("/room", body))

    def say(
        self,
        room: str,
        sender: str,
        text: str,
        mentions: Sequence[str] = (),
        *,
        force: bool = False,
        timestamp: float | None = None,
    ) -> str:
        """A member speaks in a room; returns the message id. ``text`` is sent verbatim:
        real WeChat puts "@Name\u2005" into the text of a mention, add it if the test needs it."""
        body = {"room": room, "from": sender, "text": text, "mentions": list(mentions)}
        return str(self._request("POST", "/say", body | self._extra(force, timestamp))["id"])

    def picture(self, room: str, sender: str, data: bytes, *, force: bool = False) -> str:
        """A member posts a picture (image file bytes); returns the message id."""
        body = {"room": room, "from": sender, "base64": base64.b64encode(data).decode()}
        return str(self._request("POST", "/picture", body | self._extra(force, None))["id"])

    def say_private(
        self,
        sender: str,
        text: str,
        name: str | None = None,
        *,
        force: bool = False,
        timestamp: float | None = None,
    ) -> str:
        """A private message to the account (an unknown sender becomes a contact)."""
        body: dict[str, Any] = {"from": sender, "text": text}
        if name:
            body["name"] = name
        return str(self._mutate("/say-private", body | self._extra(force, timestamp))["id"])

    def join(
        self,
        room: str,
        invitees: Sequence[Member],
        inviter: str,
        *,
        force: bool = False,
        timestamp: float | None = None,
    ) -> None:
        """Members join (one room-join event for all of them), invited by ``inviter``."""
        body = {"room": room, "invitees": self._members(invitees), "inviter": inviter}
        self._mutate("/join", body | self._extra(force, timestamp))

    def leave(
        self,
        room: str,
        members: Sequence[str],
        remover: str | None = None,
        *,
        force: bool = False,
        timestamp: float | None = None,
    ) -> None:
        """Members leave (one room-leave event); no remover = the first left by themselves."""
        body: dict[str, Any] = {"room": room, "members": list(members)}
        if remover:
            body["remover"] = remover
        self._mutate("/leave", body | self._extra(force, timestamp))

    def topic(
        self,
        room: str,
        topic: str,
        changer: str,
        *,
        force: bool = False,
        timestamp: float | None = None,
    ) -> None:
        """Someone renames the room (a room-topic event)."""
        body = {"room": room, "topic": topic, "changer": changer}
        self._mutate("/topic", body | self._extra(force, timestamp))

    def heartbeat(self, data: str = "heartbeat from the e2e peer", *, force: bool = False) -> None:
        """Emit one heartbeat event (the peer sends none by itself after the first)."""
        self._request("POST", "/heartbeat", {"data": data} | self._extra(force, None))

    def sent(self) -> list[dict[str, Any]]:
        """Everything the client sent, oldest first, across restarts: entries are
        ``{"id", "type": "text"|"contact"|"url", "conversation", "text", "mentions", "at", ...}``."""
        current = self._request("GET", "/sent") if self.running else []
        return [*self._sent_before, *current]

    def health(self) -> dict[str, Any]:
        """``{"ready", "clients", "logged_in", "started", "account"}``."""
        return dict(self._request("GET", "/health"))

    def state(self) -> dict[str, Any]:
        """The world as the peer has it now: ``{"account", "contacts", "rooms"}``."""
        return dict(self._request("GET", "/state"))

    # -- waiting (poll with a deadline, never a fixed sleep)

    def wait_sent(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Poll :meth:`sent` until ``predicate(sent)`` holds; return that list. Blocking."""
        return _poll_sync(self.sent, predicate, timeout, "sent messages")

    async def wait_sent_async(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """:meth:`wait_sent` for code running in an event loop (yields between polls)."""
        return await _poll_async(self.sent, predicate, timeout, "sent messages")

    def wait_health(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Poll :meth:`health`, e.g. ``lambda h: h["clients"] == 1 and h["logged_in"]``."""
        return _poll_sync(self.health, predicate, timeout, "health")

    async def wait_health_async(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
    ) -> dict[str, Any]:
        """:meth:`wait_health` for code running in an event loop."""
        return await _poll_async(self.health, predicate, timeout, "health")


def _poll_sync(
    fetch: Callable[[], T], predicate: Callable[[T], bool], timeout: float, what: str
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting on {what}; last: {value!r}")
        time.sleep(POLL_INTERVAL)


async def _poll_async(
    fetch: Callable[[], T], predicate: Callable[[T], bool], timeout: float, what: str
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()  # a loopback round trip of a millisecond or so: fine inside the loop
        if predicate(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting on {what}; last: {value!r}")
        await asyncio.sleep(POLL_INTERVAL)


@pytest.fixture
def puppet_server(
    puppet_server_node: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PuppetServerPeer]:
    """A fresh peer per test, on free loopback ports; stopped (and reaped) at teardown."""
    peer = PuppetServerPeer(puppet_server_node, tmp_path_factory.mktemp("puppet_server"))
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()
