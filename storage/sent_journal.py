"""Sent marks written ahead to a journal beside the database and folded into the outbox in bulk.

Confirming every performed effect with a commit of its own cost about a tenth of a check-in
when many leave at once. Instead the worker appends the effect's id to this journal (one
``write``: the kernel keeps it through a crash of the process, as SQLite keeps a commit made
without an fsync) and folds the journal into the outbox with one transaction per drained
chunk. A restart folds what the last run journaled before anything is sent, so a kill still
repeats at most the one effect that was in flight. A torn last line (a kill mid-write) is
that effect's: it is ignored, and the effect goes out again.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from loguru import logger


class SentJournal:
    """Append-only ``<id> <iso time>`` lines; the ones not yet folded are :attr:`pending`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pending: list[tuple[int, datetime]] = read_journal(path)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, message_id: int, at: datetime) -> None:
        os.write(self._fd, f"{message_id} {at.isoformat()}\n".encode())
        self.pending.append((message_id, at))

    def folded(self) -> None:
        """The pending marks are in the outbox now: start the journal afresh."""
        os.ftruncate(self._fd, 0)
        self.pending = []

    def close(self) -> None:
        os.close(self._fd)


def journal_path(database: str | None) -> Path | None:
    """Where a SQLite file's journal lives (``qunbot.db-sent``, beside ``-wal``); None for
    databases without a file of their own."""
    if database in (None, "", ":memory:"):
        return None
    return Path(f"{database}-sent")


def read_journal(path: Path) -> list[tuple[int, datetime]]:
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except FileNotFoundError:
        return []
    marks: list[tuple[int, datetime]] = []
    for line in text.splitlines():
        number, _, when = line.partition(" ")
        try:
            mark = (int(number), datetime.fromisoformat(when))
        except ValueError:
            logger.bind(journal=str(path)).warning("torn sent mark {!r} ignored", line)
            continue
        if mark[1].tzinfo is not None:
            marks.append(mark)
    return marks
