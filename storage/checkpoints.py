"""Copying a SQLite file's WAL into the database off the committing thread.

SQLite checkpoints inside the commit that pushes the WAL past ``wal_autocheckpoint`` pages:
that batch waits while pages are copied into the database file and the file is synced. On
the message-path bench this made the slowest tenth of batch commits 27 ms against a median
of 0.9 ms. Here a thread with a connection of its own runs a PASSIVE checkpoint after
commits instead: it never blocks a writer or a reader, never waits for one, and the
sqlite3 module releases the GIL while it copies. The writers keep their own checkpoint as
a backstop at :data:`BACKSTOP_PAGES`, in case the thread falls behind (a long read pins
the WAL).

A checkpoint changes nothing a reader can see and a crash in the middle of one is
recovered by SQLite from the WAL, so durability stays with the commits, as before.
"""

from __future__ import annotations

import sqlite3
import threading

from loguru import logger

# The writers' own checkpoint: only when the WAL holds this many pages (64 MB at SQLite's
# 4 KB pages), i.e. when the thread fell far behind.
BACKSTOP_PAGES = 16_384

# At least this long between two checkpoints (seconds): the pages a burst of commits
# rewrites are copied once, and the copying leaves the writer's CPU and disk alone between.
# Measured on the message-path bench against a checkpoint after every commit: batch commits
# 47.5 -> 42.8 us an event, wall 53.0 -> 50.9 s; p99 of a batch commit 11 -> 20 ms (SQLite's
# own checkpoint: 78 us an event, p99 33 ms).
SPACING = 0.05


class WalCheckpointer:
    """Checkpoints ``path``'s WAL on its own thread each time :meth:`poke` says a commit
    happened (pokes that arrive during a checkpoint are served by one more)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._poked = threading.Event()
        self._done = threading.Condition()
        self._pokes = 0  # pokes so far
        self._served = 0  # pokes a finished checkpoint covers
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="qunbot-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A commit happened: checkpoint soon."""
        self._pokes += 1
        self._poked.set()

    def wait(self, timeout: float) -> bool:
        """Block until a checkpoint begun after the latest poke has finished (for tests)."""
        wanted = self._pokes
        with self._done:
            return self._done.wait_for(lambda: self._served >= wanted, timeout)

    def close(self) -> None:
        """Stop the thread after the checkpoint it may be running."""
        self._stopped.set()
        self._poked.set()
        self._thread.join()

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            while True:
                self._poked.wait()
                self._poked.clear()
                if self._stopped.is_set():
                    return
                covered = self._pokes
                connection = connection or _connect(self.path)
                if connection is not None:
                    _checkpoint(connection, self.path)
                with self._done:
                    self._served = covered
                    self._done.notify_all()
                self._stopped.wait(SPACING)
        finally:
            if connection is not None:
                connection.close()


def _connect(path: str) -> sqlite3.Connection | None:
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA synchronous=FULL")  # sync the database file as it is copied
        return connection
    except sqlite3.Error as error:
        logger.bind(database=path).warning("checkpoint thread cannot open the database: {}", error)
        return None


def _checkpoint(connection: sqlite3.Connection, path: str) -> None:
    """One PASSIVE checkpoint; a failure is left to the next poke and to the backstop."""
    try:
        _busy, wal_pages, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.Error as error:
        logger.bind(database=path).warning(
            "checkpoint failed, retried after the next commit: {}", error
        )
        return
    if wal_pages >= BACKSTOP_PAGES // 2 and copied < wal_pages:
        logger.bind(database=path).info(
            "the WAL holds {} pages, {} copied: a reader keeps the rest", wal_pages, copied
        )
