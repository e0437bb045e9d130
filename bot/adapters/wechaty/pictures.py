"""A picture a member posted, fetched from the puppet service to read its QR codes.

The service answers with a file box: its content in base64 (what wechaty-puppet-service
sends for files it holds), the text of a QR code it generated itself, or a web URL, which
the bot does not download (no requests to the open web on a member's behalf).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import Any

from loguru import logger

from bot.adapters import qr_codes  # its zxing and Pillow load on first use (see there)
from bot.adapters.wechaty.client import explain, within

IMAGE_HD = 2  # the protocol's IMAGE_TYPE_HD: a thumbnail may be too small to read


async def qr_codes_in(puppet: Any, message_id: str, timeout: float) -> tuple[str, ...]:
    """What QR codes a picture message holds; () when the picture is not to be had."""
    log = logger.bind(message=message_id)
    try:
        box = await within(puppet.message_image(message_id, IMAGE_HD), timeout)
    except Exception as error:
        log.info("picture not fetched for scanning: {}", explain(error))
        return ()
    qr_text = getattr(box, "qrCode", None)
    if isinstance(qr_text, str):
        return (qr_text,)  # the service sent the code itself
    data = box_bytes(box)
    if data is None:
        log.debug("picture not scanned: the service gave no content")
        return ()
    return await asyncio.to_thread(qr_codes.read_qr_codes, data)


def box_bytes(box: Any) -> bytes | None:
    """A file box's content when it carries it (base64 or a buffer), within the size limit."""
    encoded = getattr(box, "base64", None)
    if isinstance(encoded, str | bytes):
        raw = encoded.encode() if isinstance(encoded, str) else encoded
        raw = raw.split(b",", 1)[-1]  # a data URL's "data:image/png;base64," prefix
        if len(raw) > qr_codes.MAX_BYTES * 4 // 3 + 4:
            return None
        try:
            return base64.b64decode(raw, validate=False)
        except (binascii.Error, ValueError):
            return None
    buffer = getattr(box, "buffer", None)
    return bytes(buffer) if isinstance(buffer, bytes | bytearray) else None
