"""Files admins and operators write are UTF-8 text; anything else is reported by position.

A config saved as GBK or a template that is really a picture must fail with the line and
column of the first bad byte, not with a decoder traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class NotUtf8(Exception):
    """The first byte that is not UTF-8, with its 1-based line and column."""

    line: int
    column: int
    byte: int

    @property
    def reason(self) -> str:
        return f"not UTF-8 text (byte 0x{self.byte:02x}); save the file as UTF-8"

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.reason}"


def not_utf8(error: UnicodeDecodeError) -> NotUtf8:
    """Where a decode error happened, counted in the text before it."""
    data = bytes(error.object)
    before = data[: error.start].decode("utf-8", errors="replace")
    line_start = before.rfind("\n") + 1
    return NotUtf8(before.count("\n") + 1, len(before) - line_start + 1, data[error.start])


def read_utf8(path: Path) -> str:
    """The file's text; :class:`NotUtf8` if it is not UTF-8, OSError if it cannot be read."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise not_utf8(error) from None
