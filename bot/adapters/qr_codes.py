"""QR codes in a picture: what they say, read at the edge so rules see text, not images.

A group's join code or a seller's personal code is the commonest ad in WeChat groups, and
it is a picture. Pictures come from members, so reading one is bounded: at most
:data:`MAX_BYTES` of file and :data:`MAX_PIXELS` of image (checked from the header, before
anything is decoded: a small file can claim a huge image), and anything Pillow or zxing
cannot read is simply "no code". zxing and Pillow load with the first picture: a bot that
never scans one (the console, replays, every CLI command) does not carry them.
"""

from __future__ import annotations

import io
import warnings

from loguru import logger

MAX_BYTES = 8_000_000
MAX_PIXELS = 16_000_000  # a 4000 × 4000 photo
MAX_CODES = 5
MAX_CODE_CHARS = 500


def read_qr_codes(data: bytes) -> tuple[str, ...]:
    """The texts of the QR codes in an image file (PNG, JPEG, GIF, WebP …); () when none."""
    if not data or len(data) > MAX_BYTES:
        return ()
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                logger.bind(width=width, height=height).info("picture too large to scan")
                return ()
            image.load()
        qr = zxingcpp.BarcodeFormats([zxingcpp.BarcodeFormat.QRCode])
        found = zxingcpp.read_barcodes(image, formats=qr)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombWarning) as error:
        logger.debug("picture not scanned: {}", error)
        return ()
    codes = [code.text[:MAX_CODE_CHARS] for code in found if code.valid and code.text]
    return tuple(dict.fromkeys(codes))[:MAX_CODES]
