"""One masking layer for secrets: every log line, status file and CLI error passes it.

The puppet token reaches places qunbot does not write itself: a gRPC error's text, the
service-directory URL a library logs, an exception from a third party. So the token is
registered once, when the settings are read, and masked wherever text leaves the process,
in clear or URL-encoded.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

_SECRETS: set[str] = set()


def mask(secret: str) -> str:
    """Enough of a secret to tell two apart, never enough to use it."""
    return f"{secret[:4]}…{secret[-2:]}" if len(secret) > 8 else "***"


def register(secret: str | None) -> None:
    """Mask ``secret`` from now on (short values would mask ordinary words: ignored)."""
    if secret and len(secret) >= 6:
        _SECRETS.add(secret)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, mask(secret))
        encoded = quote(secret, safe="")
        if encoded != secret and encoded in text:
            text = text.replace(encoded, mask(secret))
    return text


def redact_record(record: Any) -> None:
    """A loguru patcher: the message and every bound value, masked."""
    if not _SECRETS:
        return
    record["message"] = redact(record["message"])
    for key, value in record["extra"].items():
        if isinstance(value, str):
            record["extra"][key] = redact(value)
    if record["exception"] is not None:
        kind, error, _ = record["exception"]
        if error is not None and redact(str(error)) != str(error):
            masked = RuntimeError(f"{kind.__name__}: {redact(str(error))}")
            record["exception"] = record["exception"]._replace(value=masked)
