"""Smoke tests of the e2e peer, driven by the real Python puppet-service client (not the bot).

They pin down what the bot's adapter can rely on when it talks to the peer: the login on
connect, message payloads with room/talker/text/mentions, room join/leave/topic events, the
record of sent texts with their mentions, the echo of our own messages, and a reconnect after
the server dies. If these fail, a bot e2e failure says nothing about the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from e2e.conftest import PuppetServerPeer
    from wechaty_puppet_service import PuppetService

pytestmark = [
    pytest.mark.e2e,
    # wechaty_puppet_service.utils imports telnetlib (deprecated in 3.11, gone in 3.13).
    pytest.mark.filterwarnings("ignore:'telnetlib' is deprecated:DeprecationWarning"),
]

BOT = "bot_wxid"
ROOM = "room1@chatroom"
EVENT_NAMES = ("login", "logout", "ready", "heartbeat", "message")
ROOM_EVENTS = ("room-join", "room-leave", "room-topic")
STEP_TIMEOUT = 5.0  # any one expected event; generous for a loaded CI machine
SCENARIO_TIMEOUT = 25.0


class Events:
    """Records every client event, so a test can await the next one of a kind in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []  # not yet taken by next()

    def subscribe(self, client: PuppetService) -> None:
        for name in (*EVENT_NAMES, *ROOM_EVENTS):
            client.on(name, self._recorder(name))

    def _recorder(self, name: str) -> Callable[[Any], None]:
        return lambda payload: self.seen.append((name, payload))

    async def next(self, name: str, timeout: float = STEP_TIMEOUT) -> Any:
        """Take the oldest ``name`` event not taken yet (events of other kinds stay)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, (seen_name, payload) in enumerate(self.seen):
                if seen_name == name:
                    del self.seen[index]
                    return payload
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name!r} event within {timeout} s; seen: {self.seen}")
            await asyncio.sleep(0.01)


def new_client(peer: PuppetServerPeer) -> PuppetService:
    """The client as the adapter builds it: endpoint host:port, token; no TLS (none exists in
    this client: it dials plaintext and sends the token as the HTTP/2 :authority)."""
    from wechaty_puppet import PuppetOptions
    from wechaty_puppet_service import PuppetService

    return PuppetService(PuppetOptions(end_point=peer.endpoint, token=peer.token))


async def shut_down(client: PuppetService, task: asyncio.Task[None]) -> None:
    """Stop the client and reap its start() task, leaving no open channel behind."""
    from grpclib.exceptions import StreamTerminatedError

    if task.done():
        if client.channel is not None:
            client.channel.close()
        return
    # stop() asks the server to stop (which ends the event stream), then closes the channel
    # at once: start() then ends normally or, losing that race, with "Connection closed".
    await client.stop()
    with contextlib.suppress(StreamTerminatedError):
        await asyncio.wait_for(task, STEP_TIMEOUT)


@asynccontextmanager
async def connected(peer: PuppetServerPeer) -> AsyncIterator[tuple[PuppetService, Events]]:
    """A started client, logged in; stopped and its task awaited on the way out."""
    client = new_client(peer)
    events = Events()
    events.subscribe(client)
    task = asyncio.create_task(client.start())  # start() runs until the stream ends
    try:
        assert (await events.next("login")).contact_id == BOT
        yield client, events
    finally:
        await shut_down(client, task)


def scripted_world(peer: PuppetServerPeer) -> None:
    peer.login(BOT, "QunBot")
    peer.room(ROOM, "产品交流群", [{"id": "alice", "name": "Alice"}, "carol"])


def test_the_client_sees_the_scripted_world(puppet_server: PuppetServerPeer) -> None:
    scripted_world(puppet_server)

    async def scenario() -> None:
        from wechaty_puppet import MessageType

        async with connected(puppet_server) as (client, events):
            assert client.login_user_id == BOT
            assert puppet_server.health() == {
                "ready": True,
                "clients": 1,
                "logged_in": True,
                "started": True,
                "account": {"id": BOT, "name": "QunBot"},
            }

            message_id = puppet_server.say(ROOM, "alice", "@QunBot\u2005签到", mentions=[BOT])
            assert (await events.next("message")).message_id == message_id
            payload = await client.message_payload(message_id)
            assert (payload.room_id, payload.from_id) == (ROOM, "alice")
            assert payload.text == "@QunBot\u2005签到"
            assert payload.type == MessageType.MESSAGE_TYPE_TEXT
            assert payload.mention_ids == [BOT]
            assert payload.timestamp > 1e12  # milliseconds

            private_id = puppet_server.say_private("dave", "hi", name="Dave")
            assert (await events.next("message")).message_id == private_id
            private = await client.message_payload(private_id)
            assert (private.room_id, private.from_id, private.to_id) == ("", "dave", BOT)
            assert private.text == "hi"

            puppet_server.join(ROOM, ["bob", {"id": "erin", "name": "Erin"}], inviter="alice")
            join = await events.next("room-join")
            assert (join.room_id, join.inviter_id) == (ROOM, "alice")
            assert join.invited_ids == ["bob", "erin"]  # one event for all invitees
            assert await client.room_members(ROOM) == [BOT, "alice", "carol", "bob", "erin"]
            member = await client.room_member_payload(ROOM, "erin")
            assert (member.id, member.name, member.inviter_id) == ("erin", "Erin", "alice")

            puppet_server.leave(ROOM, ["bob"], remover="alice")
            leave = await events.next("room-leave")
            assert (leave.room_id, leave.removed_ids, leave.remover_id) == (ROOM, ["bob"], "alice")
            assert "bob" not in await client.room_members(ROOM)

            puppet_server.topic(ROOM, "产品交流群（二群）", changer="carol")
            topic = await events.next("room-topic")
            assert (topic.room_id, topic.changer_id) == (ROOM, "carol")
            assert (topic.old_topic, topic.new_topic) == ("产品交流群", "产品交流群（二群）")
            assert (await client.room_payload(ROOM)).topic == "产品交流群（二群）"
            assert (await client.contact_payload("erin")).name == "Erin"

    asyncio.run(asyncio.wait_for(scenario(), SCENARIO_TIMEOUT))


def test_sent_texts_keep_mentions_and_come_back(puppet_server: PuppetServerPeer) -> None:
    scripted_world(puppet_server)

    async def scenario() -> None:
        async with connected(puppet_server) as (client, events):
            sent_id = await client.message_send_text(ROOM, "@Alice\u2005签到成功", ["alice"])

            sent = await puppet_server.wait_sent_async(lambda sent: len(sent) == 1)
            assert sent[0]["id"] == sent_id
            assert (sent[0]["type"], sent[0]["conversation"]) == ("text", ROOM)
            assert (sent[0]["text"], sent[0]["mentions"]) == ("@Alice\u2005签到成功", ["alice"])
            assert sent[0]["at"].endswith("Z")

            # The real service echoes our own messages: the bot must recognise and skip them.
            echo = await events.next("message")
            assert echo.message_id == sent_id
            payload = await client.message_payload(sent_id)
            assert (payload.from_id, payload.room_id, payload.mention_ids) == (BOT, ROOM, ["alice"])

            await client.message_send_text("alice", "私聊回复")
            sent = await puppet_server.wait_sent_async(lambda sent: len(sent) == 2)
            assert (sent[1]["conversation"], sent[1]["text"]) == ("alice", "私聊回复")
            assert sent[1]["mentions"] == []

    asyncio.run(asyncio.wait_for(scenario(), SCENARIO_TIMEOUT))


def test_the_client_reconnects_after_the_server_dies(puppet_server: PuppetServerPeer) -> None:
    from grpclib.exceptions import StreamTerminatedError

    scripted_world(puppet_server)
    puppet_server.join(ROOM, ["bob"], "alice", force=True)  # no client yet: nobody hears it

    async def scenario() -> None:
        client = new_client(puppet_server)
        events = Events()
        events.subscribe(client)
        task = asyncio.create_task(client.start())
        try:
            await events.next("login")
            sent_id = await client.message_send_text(ROOM, "before the crash")
            assert (await events.next("message")).message_id == sent_id  # our echo

            puppet_server.kill()
            # The running start() fails; the client does not reconnect by itself.
            with pytest.raises(StreamTerminatedError):
                await asyncio.wait_for(task, STEP_TIMEOUT)

            puppet_server.restart()  # same ports, same world
            assert client.channel is not None
            client.channel.close()  # start() opens a new channel without closing the old one
            task = asyncio.create_task(client.start())  # listeners registered with on() remain
            assert (await events.next("login")).contact_id == BOT

            assert await client.room_members(ROOM) == [BOT, "alice", "carol", "bob"]
            message_id = puppet_server.say(ROOM, "bob", "还在吗")
            assert (await events.next("message")).message_id == message_id
            assert (await client.message_payload(message_id)).text == "还在吗"

            await client.message_send_text(ROOM, "after the restart")
            sent = await puppet_server.wait_sent_async(lambda sent: len(sent) == 2)
            assert [entry["text"] for entry in sent] == ["before the crash", "after the restart"]
        finally:
            await shut_down(client, task)

    asyncio.run(asyncio.wait_for(scenario(), SCENARIO_TIMEOUT))


def test_the_control_api_refuses_bad_scripts(puppet_server: PuppetServerPeer) -> None:
    refused = puppet_server.ControlError
    with pytest.raises(refused, match="POST /login first"):
        puppet_server.room(ROOM, "t", ["alice"])
    scripted_world(puppet_server)
    with pytest.raises(refused, match="no client is connected"):
        puppet_server.say(ROOM, "alice", "lost")
    with pytest.raises(refused, match="unknown room"):
        puppet_server.say("nowhere@chatroom", "alice", "x", force=True)
    with pytest.raises(refused, match="not a member"):
        puppet_server.say(ROOM, "mallory", "x", force=True)
    with pytest.raises(refused, match="already in"):
        puppet_server.join(ROOM, ["alice"], "carol", force=True)
    assert puppet_server.health()["clients"] == 0
    assert puppet_server.sent() == []
