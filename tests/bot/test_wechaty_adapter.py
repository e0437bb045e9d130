"""The Wechaty adapter's translation and error handling, against a fake puppet.

The end-to-end tests (tests/e2e) run the same adapter against a real puppet-service server;
these pin down each translation rule without a network.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.base import PermanentSendError, TransientSendError
from bot.adapters.wechaty import WechatyAdapter, WechatySettings, content_of, mask
from bot.clock import FakeClock
from core.events import Event, EventKind, Reply

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Kind:
    """Stands in for the client's MessageType enum members."""

    def __init__(self, name: str) -> None:
        self.name = name


@dataclass
class FakePuppet:
    messages: dict[str, Any] = field(default_factory=dict)
    sent: list[tuple[str, str, list[str]]] = field(default_factory=list)
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
    adapter._puppet = puppet
    asyncio.run(adapter._on_login(SimpleNamespace(contact_id="bot_wxid")))
    return adapter, puppet


def drain(adapter: WechatyAdapter) -> list[Event]:
    events = []
    while not adapter._queue.empty():
        events.append(adapter._queue.get_nowait())
    return events


def deliver(
    adapter: WechatyAdapter, puppet: FakePuppet, message_id: str, payload: Any
) -> list[Event]:
    puppet.messages[message_id] = payload
    asyncio.run(adapter._on_message(SimpleNamespace(message_id=message_id)))
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
        adapter._on_room_join(
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
    asyncio.run(adapter._on_room_leave(SimpleNamespace(room_id="room1", removed_ids=["bob"])))
    asyncio.run(
        adapter._on_room_topic(
            SimpleNamespace(room_id="room1", new_topic="新群名", changer_id="alice")
        )
    )
    leave, topic = drain(adapter)
    assert (leave.kind, leave.member) == (EventKind.LEAVE, "bob")
    assert (topic.kind, topic.group_name, topic.member) == (EventKind.TOPIC, "新群名", "alice")
    asyncio.run(
        adapter._on_room_join(SimpleNamespace(room_id="room1", invited_ids=["dave"], inviter_id=""))
    )
    [later] = drain(adapter)
    assert later.group_name == "新群名" and later.inviter is None


def test_sending_maps_failures_to_retry_or_give_up() -> None:
    adapter, puppet = online()
    asyncio.run(adapter.send(Reply("room1", "hi @Bob", T0, mentions=("bob",))))
    assert puppet.sent == [("room1", "hi @Bob", ["bob"])]
    puppet.fail_with = ConnectionRefusedError("refused")
    with pytest.raises(TransientSendError):
        asyncio.run(adapter.send(Reply("room1", "x", T0)))
    puppet.fail_with = type(
        "GRPCError", (Exception,), {"status": SimpleNamespace(name="NOT_FOUND")}
    )("gone")
    with pytest.raises(PermanentSendError):
        asyncio.run(adapter.send(Reply("room1", "x", T0)))
    asyncio.run(adapter._on_logout(SimpleNamespace(contact_id="bot_wxid", data="bye")))
    assert adapter.online_since is None
    with pytest.raises(TransientSendError, match="not connected"):
        asyncio.run(adapter.send(Reply("room1", "x", T0)))


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
