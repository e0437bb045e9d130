"""The link's state where operators and `qunbot status` read it: the log and a JSON file.

The file is replaced whole (written beside it, then renamed), so a reader never sees half
of it, and it passes the redactor: an endpoint or a reason may carry the token.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger

from bot.redact import mask, redact


def publish(
    state: str, at: datetime, endpoint: str | None, token: str, path: Path | None, **detail: str
) -> None:
    logger.bind(endpoint=endpoint, token=mask(token)).info(
        "wechaty adapter: {}{}", state, f" {detail}" if detail else ""
    )
    if path is None:
        return
    status = {
        "state": state,
        "pid": os.getpid(),
        "since": at.astimezone(UTC).isoformat(),
        "endpoint": endpoint,
        **detail,
    }
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(redact(json.dumps(status, ensure_ascii=False)), encoding="utf-8")
    temporary.replace(path)
