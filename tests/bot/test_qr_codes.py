"""QR codes in pictures: read within bounds, and handed to the rules by the WeChat adapter."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import qrcode
from PIL import Image
from test_wechaty_adapter import FakePuppet, deliver, message, online

from bot.adapters.qr_codes import MAX_BYTES, read_qr_codes


def picture(*texts: str, fmt: str = "PNG", size: int = 0) -> bytes:
    """An image with each text as a QR code, side by side, on a white canvas."""
    codes = [qrcode.make(text).get_image().convert("RGB") for text in texts]
    width = sum(c.width for c in codes) + 40 * (len(codes) + 1)
    height = max([c.height for c in codes], default=100) + 80
    canvas = Image.new("RGB", (max(width, size), max(height, size)), "white")
    x = 40
    for code in codes:
        canvas.paste(code, (x, 40))
        x += code.width + 40
    out = io.BytesIO()
    canvas.save(out, format=fmt)
    return out.getvalue()


def test_codes_are_read_from_png_and_jpeg_pictures() -> None:
    assert read_qr_codes(picture("https://u.wechat.com/EAbc123")) == (
        "https://u.wechat.com/EAbc123",
    )
    assert read_qr_codes(picture("加我微信 shop88", fmt="JPEG")) == ("加我微信 shop88",)
    assert set(read_qr_codes(picture("a1", "b2"))) == {"a1", "b2"}


def test_pictures_without_a_code_and_files_that_are_not_pictures_have_none() -> None:
    assert read_qr_codes(picture()) == ()
    assert read_qr_codes(b"") == ()
    assert read_qr_codes(b"GIF89a not really") == ()
    assert read_qr_codes(picture("x")[:200]) == ()  # cut short


def test_huge_pictures_are_not_decoded() -> None:
    """A 1-bit 5000 × 5000 PNG is a few kilobytes that would decode to 25 megapixels."""
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000), 1).save(bomb, format="PNG")
    assert len(bomb.getvalue()) < 50_000
    assert read_qr_codes(bomb.getvalue()) == ()
    assert read_qr_codes(b"\0" * (MAX_BYTES + 1)) == ()


class PicturePuppet(FakePuppet):
    boxes: dict[str, Any]

    async def message_image(self, message_id: str, image_type: int) -> Any:
        box = self.boxes[message_id]
        if isinstance(box, Exception):
            raise box
        return box


def picture_adapter(scan: bool = True) -> tuple[Any, PicturePuppet]:
    adapter, _ = online()
    puppet = PicturePuppet()
    puppet.boxes = {}
    adapter.puppet = puppet
    adapter.settings = replace(adapter.settings, scan_images=scan)
    return adapter, puppet


def test_the_adapter_puts_the_codes_of_a_picture_on_its_event() -> None:
    adapter, puppet = picture_adapter()
    data = base64.b64encode(picture("https://weixin.qq.com/g/AbC")).decode()
    puppet.boxes = {
        "p1": SimpleNamespace(base64=data),
        "p2": SimpleNamespace(base64=f"data:image/png;base64,{data}"),
        "p3": SimpleNamespace(qrCode="https://u.wechat.com/direct"),
        "p4": SimpleNamespace(remoteUrl="https://cdn.example.com/x.jpg"),  # not downloaded
        "p5": ConnectionError("the service hung up"),
        "p6": SimpleNamespace(base64="!!! not base64 !!!"),
    }
    found = {
        mid: deliver(adapter, puppet, mid, message("", kind="MESSAGE_TYPE_IMAGE"))[0].codes
        for mid in puppet.boxes
    }
    assert found == {
        "p1": ("https://weixin.qq.com/g/AbC",),
        "p2": ("https://weixin.qq.com/g/AbC",),
        "p3": ("https://u.wechat.com/direct",),
        "p4": (),
        "p5": (),
        "p6": (),
    }


def test_scanning_off_fetches_no_picture() -> None:
    adapter, puppet = picture_adapter(scan=False)
    puppet.boxes = {"p1": AssertionError("fetched although scanning is off")}
    [event] = deliver(adapter, puppet, "p1", message("", kind="MESSAGE_TYPE_IMAGE"))
    assert (event.content, event.codes) == ("image", ())
