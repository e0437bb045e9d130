"""Bounds every fuzz example must stay within: wall time, process memory, output size.

A hang in Python code is interrupted by SIGALRM, again every second (clean-up code that
swallows the first interrupt or hangs itself is interrupted too), and reported as the
example's failure. A hang that never returns to the interpreter (a C loop) trips
faulthandler's watchdog, which writes every thread's stack to ``HANG_LOG`` and ends the run,
so CI fails loudly instead of stalling.
"""

from __future__ import annotations

import faulthandler
import os
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, Phase, settings

# One example (a config check, a transcript replay, a chat session) must finish in this long.
EXAMPLE_SECONDS = float(os.environ.get("QUNBOT_FUZZ_EXAMPLE_SECONDS", "20"))
HANG_LOG = Path(os.environ.get("QUNBOT_FUZZ_HANG_LOG", "fuzz-hang.log"))
# The whole process (pytest included) must never hold more than this.
MAX_RSS_BYTES = 1_500 * 1024 * 1024

# `QUNBOT_FUZZ_SCALE=N` multiplies every fuzz test's examples (CI runs scale 1).
SCALE = max(1, int(os.environ.get("QUNBOT_FUZZ_SCALE", "1")))
# `QUNBOT_FUZZ_TALLY=FILE` appends what each example tried, to report a long run's size.
TALLY = os.environ.get("QUNBOT_FUZZ_TALLY")
# Shrinking an example that times out costs minutes; `QUNBOT_FUZZ_SHRINK=1` asks for it.
SHRINK = os.environ.get("QUNBOT_FUZZ_SHRINK") == "1"


def fuzz_settings(examples: int) -> settings:
    """Seeded and bounded in CI (the same examples every run); wider under QUNBOT_FUZZ_SCALE."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        print_blob=True,
        phases=[p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class ExampleTooSlow(Exception):
    """An example ran past :data:`EXAMPLE_SECONDS`."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise ExampleTooSlow(f"example ran longer than {EXAMPLE_SECONDS:g} s")


@contextmanager
def bounded() -> Iterator[None]:
    """Run one example under the time budget, then check the memory budget."""
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, EXAMPLE_SECONDS, 1.0)
    with HANG_LOG.open("w") as log:
        faulthandler.dump_traceback_later(EXAMPLE_SECONDS * 3, exit=True, file=log)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            faulthandler.cancel_dump_traceback_later()
    HANG_LOG.unlink(missing_ok=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert peak < MAX_RSS_BYTES, f"peak RSS {peak / 2**20:.0f} MB over {MAX_RSS_BYTES / 2**20} MB"


def tally(kind: str, count: int) -> None:
    """Count what a long run tried (configs, transcript lines, chat lines); off in CI."""
    if TALLY:
        with Path(TALLY).open("a", encoding="utf-8") as out:
            out.write(f"{kind} {count}\n")
