"""Admins' regexes run on RE2, so matching time grows with the message, never explodes.

Python's ``re`` backtracks: ``^(a+)+$`` against thirty "a"s and a "!" takes half a minute,
and every member can send that. RE2 guarantees linear time; the price is that patterns
needing backtracking (backreferences, lookarounds) are refused when the config loads.

Two things keep the Python meaning admins expect: ``\\w``, ``\\d`` and ``\\s`` match Unicode
letters, digits and spaces as in Python (RE2's are ASCII-only), and a literal every match
must contain is looked for first, so most messages never reach RE2 at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

import re2

# Python's Unicode meaning of the shorthand classes, as RE2 writes it inside [...].
_SHORTHANDS = {
    "w": r"\p{L}\p{N}_",
    "d": r"\p{Nd}",
    "s": r"\s\x{0B}\x{1C}-\x{1F}\x{85}\p{Z}",
}
_NEGATED_IN_CLASS = {"D": r"\P{Nd}"}


class UnsupportedRegex(ValueError):
    """A pattern Python accepts that cannot run in linear time."""


@dataclass(frozen=True, slots=True)
class LinearRegex:
    pattern: Any  # re2._Regexp (the binding has no type stubs)
    required: str  # text every match contains; "" when there is none to look for

    def search(self, text: str) -> Any:
        if self.required and self.required not in text:
            return None
        return self.pattern.search(text)


def compile_linear(pattern: str) -> LinearRegex:
    """Compile for RE2 (the pattern already compiles in Python: its errors are clearer)."""
    options = re2.Options()
    options.log_errors = False
    try:
        compiled = re2.compile(_unicode_shorthands(pattern), options)
    except re2.error as error:
        reason = error.args[0].decode() if error.args and isinstance(error.args[0], bytes) else ""
        raise UnsupportedRegex(
            f"this regular expression needs backtracking ({reason}); backreferences, "
            "lookarounds and verbose mode are not supported, so that no message can make "
            "matching slow"
        ) from None
    return LinearRegex(compiled, _required_literal(pattern))


def _unicode_shorthands(pattern: str) -> str:
    out: list[str] = []
    class_start: int | None = None  # index in pattern of the open '[', if inside one
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            if class_start is None and escaped.lower() in _SHORTHANDS:
                negate = "^" if escaped.isupper() else ""
                out.append(f"[{negate}{_SHORTHANDS[escaped.lower()]}]")
            elif class_start is not None and escaped in _SHORTHANDS:
                out.append(_SHORTHANDS[escaped])
            elif class_start is not None and escaped in _NEGATED_IN_CLASS:
                out.append(_NEGATED_IN_CLASS[escaped])
            else:
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if char == "[" and class_start is None:
            class_start = i
        # A ']' first in a class ("[]a]", "[^]a]") is a literal.
        elif (
            char == "]"
            and class_start is not None
            and pattern[class_start + 1 : i] not in ("", "^")
        ):
            class_start = None
        out.append(char)
        i += 1
    return "".join(out)


def _closes(pattern: str, class_start: int, index: int) -> bool:
    """A ']' first in a class ("[]a]", "[^]a]") is a literal, not its end."""
    return pattern[class_start + 1 : index] not in ("", "^")


def _required_literal(pattern: str) -> str:
    """The longest run of plain characters at the pattern's top level (case-sensitive only)."""
    try:
        parsed = sre_parser.parse(pattern)
    except re.error:
        return ""
    if parsed.state.flags & re.IGNORECASE:
        return ""
    best = run = ""
    for op, value in parsed:
        if op is sre_constants.LITERAL:
            run += chr(value)
            best = max(best, run, key=len)
        else:
            run = ""
    return best
