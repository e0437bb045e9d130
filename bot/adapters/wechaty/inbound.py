"""Puppet notifications (messages, joins, leaves, topics) translated into platform-neutral Events.

The connection (``adapter.py``) decides when the link is up; this side only turns what the
service reports into :class:`core.events.Event` values, with the names and topics it looks up
cached, and each message id handled once across reconnects.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from typing import Any, Protocol

from loguru import logger

from bot.adapters.wechaty.client import WechatySettings, content_of, explain
from bot.adapters.wechaty.pictures import qr_codes_in
from bot.clock import Clock
from core.events import Event, EventKind

_LEADING_MENTION = re.compile(r"^\s*@[^\s\u2005]+[\s\u2005]+")
_SEEN_IDS = 10_000


class Link(Protocol):
    """What translation needs of the connection: the live client and who the bot is."""

    settings: WechatySettings
    clock: Clock
    puppet: Any
    self_id: str | None


class Inbound:
    """The queue of translated events the adapter yields, fed by the puppet's callbacks."""

    def __init__(self, link: Link) -> None:
        self._link = link
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self._names: dict[str, str] = {}
        self._topics: dict[str, str] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    async def on_message(self, payload: Any) -> None:
        message_id = payload.message_id
        if message_id in self._seen:
            return  # delivered twice (a reconnect): handle it once
        self._seen[message_id] = None
        while len(self._seen) > _SEEN_IDS:
            self._seen.popitem(last=False)
        try:
            message = await self._link.puppet.message_payload(message_id)
        except Exception as error:
            logger.bind(message=message_id).warning(
                "message payload unavailable: {}", explain(error)
            )
            return
        talker = message.from_id
        if talker == self._link.self_id:
            return  # our own message, echoed back: never answer ourselves
        conversation = message.room_id
        if not conversation:
            if not self._link.settings.private_chats:
                logger.bind(member=talker).debug(
                    "private chat ignored (QUNBOT_PRIVATE_CHATS=false)"
                )
                return
            conversation = talker
        content = content_of(message.type)
        text = (message.text or "") if content == "text" else ""
        scan = content == "image" and self._link.settings.scan_images
        timeout = self._link.settings.send_timeout.total_seconds()
        codes = await qr_codes_in(self._link.puppet, message_id, timeout) if scan else ()
        if self._link.self_id and self._link.self_id in (message.mention_ids or []):
            text = _LEADING_MENTION.sub("", text, count=1)
        await self.queue.put(
            Event(
                kind=EventKind.MESSAGE,
                group=conversation,
                at=self._link.clock.now(),
                member=talker,
                name=await self.name_of(talker),
                text=text,
                mentions=tuple(message.mention_ids or ()),
                group_name=await self.topic_of(message.room_id) if message.room_id else None,
                content=content,
                codes=codes,
                source_id=message_id,
            )
        )

    async def on_room_join(self, payload: Any) -> None:
        room = payload.room_id
        topic = await self.topic_of(room)
        for invitee in payload.invited_ids:
            if invitee == self._link.self_id:
                logger.bind(group=room).info("the bot was added to group {}", topic)
                continue
            await self.queue.put(
                Event(
                    kind=EventKind.JOIN,
                    group=room,
                    at=self._link.clock.now(),
                    member=invitee,
                    name=await self.name_of(invitee),
                    inviter=payload.inviter_id or None,
                    group_name=topic,
                )
            )

    async def on_room_leave(self, payload: Any) -> None:
        for removed in payload.removed_ids:
            await self.queue.put(
                Event(
                    kind=EventKind.LEAVE,
                    group=payload.room_id,
                    at=self._link.clock.now(),
                    member=removed,
                    group_name=await self.topic_of(payload.room_id),
                )
            )

    async def on_room_topic(self, payload: Any) -> None:
        self._topics[payload.room_id] = payload.new_topic
        await self.queue.put(
            Event(
                kind=EventKind.TOPIC,
                group=payload.room_id,
                at=self._link.clock.now(),
                member=payload.changer_id or "",
                group_name=payload.new_topic,
            )
        )

    async def name_of(self, contact: str) -> str:
        if contact not in self._names:
            try:
                self._names[contact] = (
                    await self._link.puppet.contact_payload(contact)
                ).name or contact
            except Exception:
                return contact
        return self._names[contact]

    async def topic_of(self, room: str) -> str:
        if room not in self._topics:
            try:
                self._topics[room] = (await self._link.puppet.room_payload(room)).topic or room
            except Exception:
                return room
        return self._topics[room]
