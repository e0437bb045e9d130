"""The Wechaty adapter's translation and error handling, against a fake puppet.

The end-to-end tests (tests/e2e) run the same adapter against a real puppet-service server;
these pin down each translation rule without a network.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loguru import logger

from bot.adapters.base import NotConnected, PermanentSendError, TransientSendError
from bot.adapters.wechaty import (
    WechatyAdapter,
    WechatyRefused,
    WechatySettings,
    classify_send_error,
    content_of,
)
from bot.clock import FakeClock
from bot.logs import configure
from bot.outbox import Outbox, Pacing
from bot.redact import mask
from core.effects import Effect, EffectKind
from core.events import Event, EventKind
from storage.store import Store

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Kind:
    """Stands in for the client's MessageType enum members."""

    def __init__(self, name: str) -> None:
        self.name = name


@dataclass
class FakePuppet:
    messages: dict[str, Any] = field(default_factory=dict)
    sent: list[tuple[str, str, list[str]]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    fail_with: Exception | None = None

    async def message_payload(self, message_id: str) -> Any:
        return self.messages[message_id]

    async def contact_payload(self, contact: str) -> Any:
        return SimpleNamespace(name=contact.capitalize())

    async def room_payload(self, room: str) -> Any:
        return SimpleNamespace(topic=f"topic of {room}")

    async def message_send_text(self, conversation: str, text: str, mentions: list[str]) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append((conversation, text, mentions))
        return "id"

    async def room_delete(self, room: str, contact: str) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.removed.append((room, contact))


def message(
    text: str,
    talker: str = "alice",
    room: str = "room1",
    kind: str = "MESSAGE_TYPE_TEXT",
    mentions: list[str] | None = None,
) -> Any:
    return SimpleNamespace(
        text=text, from_id=talker, room_id=room, type=Kind(kind), mention_ids=mentions or []
    )


def online(
    tmp_path: Path | None = None, private: bool = False
) -> tuple[WechatyAdapter, FakePuppet]:
    settings = WechatySettings(
        endpoint="127.0.0.1:1",
        token="insecure_secret_token_01",
        private_chats=private,
        status_file=tmp_path / "status.json" if tmp_path else None,
    )
    adapter = WechatyAdapter(settings, FakeClock(T0))
    puppet = FakePuppet()
    adapter.puppet = puppet
    asyncio.run(adapter._on_login(SimpleNamespace(contact_id="bot_wxid")))
    return adapter, puppet


def drain(adapter: WechatyAdapter) -> list[Event]:
    events = []
    while not adapter.inbound.queue.empty():
        events.append(adapter.inbound.queue.get_nowait())
    return events


def deliver(
    adapter: WechatyAdapter, puppet: FakePuppet, message_id: str, payload: Any
) -> list[Event]:
    puppet.messages[message_id] = payload
    asyncio.run(adapter.inbound.on_message(SimpleNamespace(message_id=message_id)))
    return drain(adapter)


def test_a_room_text_message_becomes_a_message_event() -> None:
    adapter, puppet = online()
    [event] = deliver(adapter, puppet, "m1", message("签到"))
    assert (event.kind, event.group, event.member, event.name, event.text, event.content) == (
        EventKind.MESSAGE,
        "room1",
        "alice",
        "Alice",
        "签到",
        "text",
    )
    assert event.group_name == "topic of room1"


def test_a_leading_mention_of_the_bot_is_stripped_so_commands_work() -> None:
    adapter, puppet = online()
    [event] = deliver(adapter, puppet, "m1", message("@QunBot\u2005签到", mentions=["bot_wxid"]))
    assert event.text == "签到"
    assert event.mentions == ("bot_wxid",)
    [other] = deliver(adapter, puppet, "m2", message("@Bob 你好", mentions=["bob"]))
    assert other.text == "@Bob 你好"


def test_own_messages_duplicates_and_private_chats_are_handled_deliberately() -> None:
    adapter, puppet = online()
    assert deliver(adapter, puppet, "m1", message("我自己说的", talker="bot_wxid")) == []
    assert len(deliver(adapter, puppet, "m2", message("hi"))) == 1
    assert deliver(adapter, puppet, "m2", message("hi")) == []  # delivered twice
    assert deliver(adapter, puppet, "m3", message("私聊", room="")) == []
    private, puppet = online(private=True)
    [event] = deliver(private, puppet, "m4", message("私聊", room=""))
    assert (event.group, event.group_name) == ("alice", None)


def test_other_message_types_are_recorded_with_their_type_and_no_text() -> None:
    adapter, puppet = online()
    [event] = deliver(adapter, puppet, "m1", message("<img …>", kind="MESSAGE_TYPE_IMAGE"))
    assert (event.content, event.text) == ("image", "")
    assert content_of(Kind("MESSAGE_TYPE_MINI_PROGRAM")) == "mini_program"
    assert content_of(None) == "unspecified"


def test_room_join_leave_and_topic() -> None:
    adapter, _ = online()
    asyncio.run(
        adapter.inbound.on_room_join(
            SimpleNamespace(
                room_id="room1", invited_ids=["bob", "carol", "bot_wxid"], inviter_id="alice"
            )
        )
    )
    joins = drain(adapter)
    assert [(e.kind, e.member, e.name, e.inviter) for e in joins] == [
        (EventKind.JOIN, "bob", "Bob", "alice"),
        (EventKind.JOIN, "carol", "Carol", "alice"),
    ]
    asyncio.run(
        adapter.inbound.on_room_leave(SimpleNamespace(room_id="room1", removed_ids=["bob"]))
    )
    asyncio.run(
        adapter.inbound.on_room_topic(
            SimpleNamespace(room_id="room1", new_topic="新群名", changer_id="alice")
        )
    )
    leave, topic = drain(adapter)
    assert (leave.kind, leave.member) == (EventKind.LEAVE, "bob")
    assert (topic.kind, topic.group_name, topic.member) == (EventKind.TOPIC, "新群名", "alice")
    asyncio.run(
        adapter.inbound.on_room_join(
            SimpleNamespace(room_id="room1", invited_ids=["dave"], inviter_id="")
        )
    )
    [later] = drain(adapter)
    assert later.group_name == "新群名" and later.inviter is None


def test_sending_maps_failures_to_retry_or_give_up() -> None:
    adapter, puppet = online()
    asyncio.run(adapter.perform(Effect("room1", "hi @Bob", T0, mentions=("bob",))))
    assert puppet.sent == [("room1", "hi @Bob", ["bob"])]
    puppet.fail_with = ConnectionRefusedError("refused")
    with pytest.raises(TransientSendError):
        asyncio.run(adapter.perform(Effect("room1", "x", T0)))
    puppet.fail_with = type(
        "GRPCError", (Exception,), {"status": SimpleNamespace(name="NOT_FOUND")}
    )("gone")
    with pytest.raises(PermanentSendError):
        asyncio.run(adapter.perform(Effect("room1", "x", T0)))
    asyncio.run(adapter._on_logout(SimpleNamespace(contact_id="bot_wxid", data="bye")))
    assert adapter.online_since is None
    with pytest.raises(TransientSendError, match="not connected"):
        asyncio.run(adapter.perform(Effect("room1", "x", T0)))


def test_a_removal_goes_to_the_room_and_a_refusal_is_final() -> None:
    adapter, puppet = online()
    assert EffectKind.REMOVE_MEMBER in adapter.effects
    asyncio.run(adapter.perform(Effect.remove_member("room1", "spammer", T0)))
    assert (puppet.removed, puppet.sent) == ([("room1", "spammer")], [])
    puppet.fail_with = type(
        "GRPCError", (Exception,), {"status": SimpleNamespace(name="PERMISSION_DENIED")}
    )("not an admin of this room")
    with pytest.raises(PermanentSendError, match="not an admin"):
        asyncio.run(adapter.perform(Effect.remove_member("room1", "bob", T0)))


def test_backoff_grows_with_jitter_and_caps() -> None:
    adapter, _ = online()
    delays = [adapter._backoff(n) for n in range(1, 10)]
    assert 0.8 <= delays[0] <= 1.2
    assert 1.6 <= delays[1] <= 2.4
    assert all(d <= 60 * 1.2 for d in delays) and delays[-1] >= 60 * 0.8


def test_the_token_is_masked_and_the_status_file_says_who_and_since(tmp_path: Path) -> None:
    assert mask("insecure_secret_token_01") == "inse…01"
    assert "secret" not in mask("insecure_secret_token_01")
    adapter, _ = online(tmp_path)
    state = json.loads((tmp_path / "status.json").read_text())
    assert (state["state"], state["user"], state["name"]) == ("logged_in", "bot_wxid", "Bot_wxid")
    assert datetime.fromisoformat(state["since"]) == T0
    assert "token" not in json.dumps(state)
    assert adapter.online_since == T0


def test_a_scan_prints_the_qr_code_and_a_url_to_open() -> None:
    from bot.adapters.wechaty import scan_prompt

    prompt = scan_prompt("https://login.weixin.qq.com/l/abc==")
    art, _, url_line = prompt.rpartition("\n")
    assert len(art.splitlines()) > 10  # a real QR code drawn in characters
    assert url_line.endswith(
        "https://wechaty.js.org/qrcode/https%3A%2F%2Flogin.weixin.qq.com%2Fl%2Fabc%3D%3D"
    )


# --- the link: reconnects, liveness, offline sends, secrets ----------------------------


class ScriptOver(BaseException):
    """Ends the adapter's connection loop when a test's script has run out."""


class Stub:
    """The client's gRPC stub: puppet stop/start calls, answered (or never, when frozen)."""

    def __init__(self, frozen: bool = False) -> None:
        self.frozen = frozen

    async def stop(self) -> None:
        if self.frozen:
            await asyncio.Event().wait()

    async def start(self) -> None:
        if self.frozen:
            await asyncio.Event().wait()


class ScriptedPuppet(FakePuppet):
    """One connection: logs in (or not), then ends with ``ending`` or hangs."""

    def __init__(self, adapter: WechatyAdapter, login: bool, ending: Exception | None) -> None:
        super().__init__()
        self._adapter, self._login, self._ending = adapter, login, ending
        self.stopped = False
        self.puppet_stub = Stub()
        self._puppet_stub: Stub | None = None

    def on(self, name: str, handler: Any) -> None:
        pass

    def _init_puppet(self) -> None:
        self._puppet_stub = self.puppet_stub  # the channel is open, as in the client

    async def _listen_for_event(self) -> None:
        if self._login:
            await self._adapter._on_login(SimpleNamespace(contact_id="bot_wxid"))
        if self._ending is None:
            await asyncio.Event().wait()  # a frozen service: the stream never ends
        raise self._ending

    async def stop(self) -> None:
        self.stopped = True

    async def ding(self, data: str) -> None:
        await asyncio.Event().wait()  # frozen: never answers


def run_connections(
    monkeypatch: pytest.MonkeyPatch,
    script: list[tuple[bool, Exception | None]],
    tmp_path: Path | None = None,
    liveness: float = 30.0,
) -> tuple[WechatyAdapter, list[float], list[ScriptedPuppet]]:
    """Play connection outcomes in order; the waits the adapter chose before each retry."""
    clock = FakeClock(T0)
    settings = WechatySettings(
        endpoint="127.0.0.1:1",
        token="insecure_secret_token_01",
        status_file=tmp_path / "status.json" if tmp_path else None,
        liveness=timedelta(seconds=liveness),
    )
    adapter = WechatyAdapter(settings, clock, random.Random(7))
    waits: list[float] = []
    puppets: list[ScriptedPuppet] = []

    def new_puppet(client: Any, endpoint: str) -> ScriptedPuppet:
        if not script:
            raise ScriptOver  # the script is over: stop the loop
        login, ending = script.pop(0)
        puppets.append(ScriptedPuppet(adapter, login, ending))
        return puppets[-1]

    async def unreachable() -> bool:
        return False

    async def wait(delay: float) -> None:
        waits.append(delay)

    monkeypatch.setattr("bot.adapters.wechaty.adapter.load_client", lambda: None)
    monkeypatch.setattr(adapter, "_new_puppet", new_puppet)
    monkeypatch.setattr(adapter, "_reachable", unreachable)
    monkeypatch.setattr(adapter, "_wait_to_reconnect", wait)
    if tmp_path is not None:
        record = adapter._state

        def recorded(state: str, **detail: str) -> None:
            with (tmp_path / "states.log").open("a") as log:
                log.write(" ".join([state, *detail.get("reason", "").split()]).strip() + "\n")
            record(state, **detail)

        monkeypatch.setattr(adapter, "_state", recorded)
    with pytest.raises(ScriptOver):
        asyncio.run(adapter._stay_connected())
    return adapter, waits, puppets


def test_a_healthy_connection_resets_the_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    down = ConnectionRefusedError("refused")
    ended = ConnectionResetError("stream reset")
    script = [(False, down), (False, down), (False, down), (True, ended)] + [(True, ended)] * 9
    _, waits, _ = run_connections(monkeypatch, script)
    for wait, base in zip(waits[:3], (2, 4, 8), strict=True):  # failures in a row back off
        assert 0.8 * base <= wait <= 1.2 * base
    # Ten flaps of a link that logged in each time: each is rejoined within ~1 s.
    assert all(w <= 1.2 for w in waits[3:]) and len(waits) == 13


@given(attempt=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_jitter_stays_inside_the_cap(attempt: int, seed: int) -> None:
    settings = WechatySettings(endpoint=None, token="t", reconnect_max=timedelta(seconds=60))
    adapter = WechatyAdapter(settings, FakeClock(T0), random.Random(seed))
    assert 0.8 <= adapter._backoff(attempt) <= 60.0


def test_the_wait_ends_as_soon_as_a_refusing_endpoint_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = FakeClock(T0)
    adapter = WechatyAdapter(WechatySettings(endpoint="127.0.0.1:1", token="t"), clock)
    answers = iter([False, False, False, True])

    async def reachable() -> bool:
        return next(answers)

    monkeypatch.setattr(adapter, "_reachable", reachable)
    asyncio.run(adapter._wait_to_reconnect(60.0))
    assert clock.now() - T0 == timedelta(seconds=3)  # back after 3 s, not after 60


def test_a_frozen_service_is_reported_stalled_and_dropped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, waits, puppets = run_connections(
        monkeypatch, [(True, None), (True, None)], tmp_path, liveness=0.05
    )
    assert all(p.stopped for p in puppets)  # each stalled link was closed, then replaced
    assert len(waits) == 2 and waits[0] <= 1.2  # it had logged in: rejoin at once
    log = (tmp_path / "states.log").read_text().splitlines()
    assert log[:5] == [
        "connecting",
        "waiting_for_login",
        "logged_in",
        "stalled no answer to a probe within 0.05s",
        "disconnected stalled: no answer to a probe within 0.05s",
    ]


def test_a_send_while_offline_waits_without_spending_an_attempt(store: Store) -> None:
    adapter, puppet = online()
    asyncio.run(adapter._on_logout(SimpleNamespace(contact_id="bot_wxid", data="bye")))
    clock = FakeClock(T0)

    class Flaky:
        online_since: datetime | None = T0
        effects = adapter.effects

        async def perform(self, effect: Effect) -> None:
            await adapter.perform(effect)

    flaky = Flaky()
    outbox = Outbox(store, flaky, clock, Pacing.immediate(), lambda group: ZoneInfo("UTC"))
    with store.transaction() as tx:
        tx.enqueue([Effect(group="room1", text="答复", at=T0)])
    assert asyncio.run(outbox.send_due()) == 0  # the link dropped under it
    with store.transaction() as tx:
        [row] = tx.due_messages(T0, 10)
    assert row.attempts == 0
    asyncio.run(adapter._on_login(SimpleNamespace(contact_id="bot_wxid")))
    assert asyncio.run(outbox.send_due()) == 1 and puppet.sent == [("room1", "答复", [])]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("NOT_FOUND", PermanentSendError),
        ("INVALID_ARGUMENT", PermanentSendError),
        ("FAILED_PRECONDITION", PermanentSendError),
        ("UNAVAILABLE", NotConnected),
        ("CANCELLED", NotConnected),
        ("INTERNAL", TransientSendError),
        ("RESOURCE_EXHAUSTED", TransientSendError),
    ],
)
def test_refused_sends_are_classified_by_their_grpc_code(code: str, kind: type) -> None:
    error = type("GRPCError", (Exception,), {"status": SimpleNamespace(name=code)})("no")
    assert type(classify_send_error(error)) is kind


def test_a_send_the_service_never_answers_times_out() -> None:
    adapter, puppet = online()
    adapter.settings = WechatySettings(
        endpoint=None, token="t", send_timeout=timedelta(milliseconds=20)
    )

    async def hang(*args: Any) -> None:
        await asyncio.Event().wait()

    puppet.message_send_text = hang  # type: ignore[method-assign]
    with pytest.raises(TransientSendError, match="no answer"):
        asyncio.run(adapter.perform(Effect("room1", "x", T0)))


def test_a_refusal_that_repeats_the_token_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    token = "insecure_secret_token_01"
    refusal = type("GRPCError", (Exception,), {"status": SimpleNamespace(name="UNAUTHENTICATED")})(
        f"token {token} is not valid; see http://dir/hosties/{token}"
    )
    seen: list[str] = []
    configure("DEBUG")
    handler = logger.add(lambda m: seen.append(str(m)), level="DEBUG")
    try:
        with pytest.raises(WechatyRefused) as caught:
            run_connections(monkeypatch, [(False, refusal)])
    finally:
        logger.remove(handler)
    assert token not in str(caught.value) and "inse…01" in str(caught.value)
    logger.bind(url=f"http://dir/{token}").error("directory lookup failed: {}", refusal)
    assert not any(token in line for line in seen)


def test_a_service_frozen_before_the_login_is_dropped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    _, waits, puppets = run_connections(monkeypatch, [(False, None)], liveness=0.05)
    assert puppets[0].stopped and len(waits) == 1


def test_a_call_the_client_library_cancels_means_reconnect_not_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """grpclib cancels its calls when the link breaks; the loop must not take that as a stop."""
    _, waits, _ = run_connections(
        monkeypatch, [(True, asyncio.CancelledError()), (True, None)], liveness=0.05
    )
    assert len(waits) == 2 and waits[0] <= 1.2


def test_a_service_back_from_a_crash_that_never_starts_the_puppet_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its ding may answer while its start call never does: the start has a deadline too."""
    real = ScriptedPuppet.__init__

    def frozen_start(self: ScriptedPuppet, *args: Any) -> None:
        real(self, *args)
        self.puppet_stub = Stub(frozen=not self._login)

    monkeypatch.setattr(ScriptedPuppet, "__init__", frozen_start)

    async def answering(self: ScriptedPuppet, data: str) -> None:
        return None

    monkeypatch.setattr(ScriptedPuppet, "ding", answering)  # the link itself is alive
    _, waits, puppets = run_connections(
        monkeypatch, [(False, None), (True, ConnectionResetError("x"))], liveness=0.05
    )
    assert len(waits) == 2 and puppets[0].stopped  # the stuck start was given up, then retried
