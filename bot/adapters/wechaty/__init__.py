"""The real WeChat connection: the Wechaty puppet-service gRPC protocol.

The only package that imports Wechaty code. It runs the ``wechaty-puppet-service`` client
(the ``wechaty`` package itself does not import on Python 3.11), translates puppet events
into platform-neutral Events and Replies back into ``messageSendText`` with @mentions, and
keeps the connection alive: the client neither reconnects nor replays anything by itself.
"""

from bot.adapters.wechaty.adapter import WechatyAdapter
from bot.adapters.wechaty.client import (
    RoomInfo,
    WechatyRefused,
    WechatySettings,
    WechatyUnavailable,
    classify_send_error,
    content_of,
    discover_endpoint,
    list_rooms,
    load_client,
    scan_prompt,
)

__all__ = [
    "RoomInfo",
    "WechatyAdapter",
    "WechatyRefused",
    "WechatySettings",
    "WechatyUnavailable",
    "classify_send_error",
    "content_of",
    "discover_endpoint",
    "list_rooms",
    "load_client",
    "scan_prompt",
]
