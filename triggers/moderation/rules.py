"""The ``detect:`` triggers of a config compiled into the two detector sets the engine runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from triggers.moderation.config import Detect
from triggers.moderation.detectors import TextDetector, TextDetectors, banned_words
from triggers.moderation.watch import EventWatch, WatchedRule
from triggers.text_files import NotUtf8, read_utf8

MAX_WORDS_FILE_BYTES = 1_000_000


class WordsFileProblem(Exception):
    """A banned-words file that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Detectors:
    text: TextDetectors
    stream: EventWatch


def words_of(detect: Detect, config_dir: Path | None) -> tuple[str, ...]:
    """The rule's banned words: those in the config and those in its ``words_file``."""
    words = list(detect.words or ())
    if detect.words_file is not None:
        path = (config_dir or Path.cwd()) / detect.words_file
        try:
            if path.stat().st_size > MAX_WORDS_FILE_BYTES:
                raise WordsFileProblem(
                    f"{detect.words_file}: larger than {MAX_WORDS_FILE_BYTES:,} bytes"
                )
            words += read_utf8(path).splitlines()
        except NotUtf8 as error:
            raise WordsFileProblem(f"{detect.words_file}: {error}") from None
        except OSError as error:
            raise WordsFileProblem(
                f"cannot read {detect.words_file}: {error.strerror or error}"
            ) from None
    found = banned_words(words)
    if (detect.words or detect.words_file) and not found:
        raise WordsFileProblem("no banned words given (only blank lines or # notes)")
    return found


def compile_detectors(rules: Sequence[tuple[int, Detect, tuple[str, ...]]]) -> Detectors:
    """``rules``: (rule order, its detect trigger, its banned words)."""
    text = [
        TextDetector(order, detect.link, detect.contact, words)
        for order, detect, words in rules
        if detect.reads_text
    ]
    stream = [
        WatchedRule(
            order, frozenset(detect.content or ()), detect.flood, detect.repeat, detect.qrcode
        )
        for order, detect, _ in rules
        if detect.content or detect.flood or detect.repeat or detect.qrcode
    ]
    return Detectors(TextDetectors(text), EventWatch(stream))
