"""Admins' regexes match in linear time, with Python's meaning of \\w, \\d and \\s."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import ruleset_from

from triggers.loader import ConfigError
from triggers.regex import UnsupportedRegex, compile_linear


def test_a_catastrophic_pattern_cannot_block_the_bot() -> None:
    # With Python's backtracking engine this takes hours; the child is killed at 60 s.
    probe = textwrap.dedent(
        """
        import sys
        sys.path[:0] = ["tests"]
        from support import ruleset_from
        ruleset = ruleset_from(
            "rules:\\n  - name: a\\n    when: {regex: '^(a+)+$'}\\n"
            "    do: {action: reply, text: x}\\n"
        )
        assert ruleset.matcher.match("a" * 60 + "!") == ()
        assert ruleset.matcher.match("a" * 60) != ()
        """
    )
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)


@pytest.mark.parametrize(
    ("pattern", "feature"),
    [(r"(a)\1", "backreference"), (r"(?=a)b", "lookaround"), (r"(?<!a)b", "lookaround")],
)
def test_patterns_that_need_backtracking_are_refused_with_file_and_line(
    pattern: str, feature: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        ruleset_from(
            f"rules:\n  - name: r\n    when: {{regex: '{pattern}'}}\n    do: {{action: reply, text: x}}\n"
        )
    problem = caught.value.problems[0]
    assert (problem.line, problem.rule) == (3, "r")
    assert "backtracking" in problem.message and "backreferences, lookarounds" in problem.message


def test_shorthand_classes_keep_their_unicode_meaning() -> None:
    assert compile_linear(r"(?P<name>\w+)").search("你好 abc").group(0) == "你好"
    assert compile_linear(r"\d+").search("x１２3").group(0) == "１２3"
    assert compile_linear(r"a\sb").search("a\u3000b") is not None
    assert compile_linear(r"[\w-]+").search("--你好_1").group(0) == "--你好_1"
    assert compile_linear(r"\W").search("你好!").group(0) == "!"
    assert compile_linear(r"[]a]+").search("x]a]").group(0) == "]a]"


PIECES = st.sampled_from(
    ["a", "b", "订", "单", "1", "１", r"\w", r"\d", r"\s", r"\W", "[ab]", "[^a]", ".", "(a|b)"]
)
QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{1,2}", "*?", "+?"])
PATTERNS = st.lists(st.tuples(PIECES, QUANTIFIERS), min_size=1, max_size=5).map(
    lambda parts: "".join(piece + quantifier for piece, quantifier in parts)
)
TEXTS = st.text(alphabet="ab订单1１ \u3000_!x\n", max_size=20)


@settings(max_examples=300, deadline=None)
@given(pattern=PATTERNS, text=TEXTS, anchored=st.booleans())
def test_the_linear_engine_finds_what_python_finds(pattern: str, text: str, anchored: bool) -> None:
    pattern = f"^{pattern}" if anchored else pattern
    expected = re.search(pattern, text)
    found = compile_linear(pattern).search(text)
    assert (found is None) == (expected is None)
    if expected is not None:
        assert found.group(0) == expected.group(0)


def test_a_literal_every_match_needs_lets_most_messages_skip_the_engine() -> None:
    regex = compile_linear(r"订单号?(?P<no>\d{6})")
    assert regex.required == "订单"
    assert regex.search("今天天气不错") is None
    assert regex.search("订单123456").group("no") == "123456"
    assert compile_linear(r"(?i)abc").required == ""  # case-folded: nothing to look for


def test_unsupported_is_a_value_error_so_pydantic_reports_it() -> None:
    assert issubclass(UnsupportedRegex, ValueError)
