"""Loguru set-up: stderr only (stdout belongs to transcripts), with the bound context shown."""

from __future__ import annotations

import sys
from typing import Any

from loguru import logger


def _format(record: Any) -> str:
    extra = " ".join(f"{k}={v}" for k, v in record["extra"].items())
    suffix = f" | {extra}" if extra else ""
    return (
        "{time:HH:mm:ss} {level:<7} {message}"
        + suffix.replace("{", "{{").replace("}", "}}")
        + "\n{exception}"
    )


def configure(level: str) -> None:
    logger.remove()
    logger.add(sys.stderr, level=level.upper(), format=_format, backtrace=False, diagnose=False)
