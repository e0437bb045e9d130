"""Log lines: the bound context stays readable when a message spans several lines."""

from __future__ import annotations

import pytest
from loguru import logger

from bot.logs import configure


def test_a_multi_line_message_keeps_its_context_on_the_first_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A refused reload lists problems; `actor=` must not trail the last one (or wrap)."""
    configure("INFO")
    logger.bind(actor="file-watch").error(
        "config reload refused, the old rules stay:\n{}",
        "config.yaml:3:1: a <b> {c}\nconfig.yaml:5:1: d",
    )
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].endswith(
        " ERROR   config reload refused, the old rules stay: | actor=file-watch"
    )
    assert lines[1:] == ["    config.yaml:3:1: a <b> {c}", "    config.yaml:5:1: d"]
