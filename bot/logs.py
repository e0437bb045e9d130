"""Loguru set-up: stderr only (stdout belongs to transcripts), with the bound context shown."""

from __future__ import annotations

import sys
import textwrap
from typing import Any

from loguru import logger

from bot.redact import redact_record

_TEXT = "_text"  # the rendered line, handed to the format as a value (never parsed as markup)


def _format(record: Any) -> str:
    """The context goes on the message's first line; further lines (a list of config
    problems) are indented beneath it, so no context trails the last one or wraps away."""
    extra = " ".join(f"{k}={v}" for k, v in record["extra"].items() if k != _TEXT)
    head, _, rest = record["message"].partition("\n")
    text = f"{head} | {extra}" if extra else head
    if rest:
        text += "\n" + textwrap.indent(rest, "    ")
    record["extra"][_TEXT] = text
    return "{time:HH:mm:ss} {level:<7} {extra[" + _TEXT + "]}\n{exception}"


def configure(level: str) -> None:
    logger.remove()
    logger.configure(patcher=redact_record)
    logger.add(sys.stderr, level=level.upper(), format=_format, backtrace=False, diagnose=False)
