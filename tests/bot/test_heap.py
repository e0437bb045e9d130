"""The startup heap is frozen once per run, and a reload lets the replaced rules go.

Run in a child process: the collector's frozen generation belongs to the whole process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD = r"""
import gc, io, sys, weakref
from pathlib import Path
from datetime import UTC, datetime
from bot.adapters.replay import ReplayAdapter
from bot.app import Bot
from bot.clock import FakeClock
from bot.runtime import RunOptions
from storage.store import Store
from triggers.loader import load_ruleset

config = Path(sys.argv[1])
RULES = "rules:\n  - {{name: ping, when: {{keywords: [ping]}}, do: {{action: reply, text: {}}}}}\n"
config.write_text(RULES.format("pong"), encoding="utf-8")
store = Store("sqlite:///" + sys.argv[2])
bot = Bot(load_ruleset(config), store, config)
clock = FakeClock(datetime(2026, 11, 24, tzinfo=UTC))
line = '{"kind": "message", "at": "2026-11-24T08:00:00+08:00", "group": "g1", "sender": "bob", "text": "ping"}'
out = io.StringIO()
adapter = ReplayAdapter([line], out, io.StringIO(), clock)
assert gc.get_freeze_count() == 0
bot.run(adapter, clock, RunOptions())
assert "pong" in out.getvalue(), out.getvalue()
frozen = gc.get_freeze_count()
assert frozen > 1000, frozen
old = weakref.ref(bot.ruleset)
config.write_text(RULES.format("pang"), encoding="utf-8")
assert bot.dispatcher.reload(clock.now(), "test") == []
assert old() is None
assert gc.get_freeze_count() > 1000
gc.unfreeze()
left = gc.collect()  # what was frozen but is garbage: the replaced rules' cycles, if kept
assert left < 20, f"{left} objects of the replaced rules stayed frozen"
bot.dispatcher.close()
store.close()
print("ok")
"""


def test_a_run_freezes_its_startup_heap_and_a_reload_frees_the_old_rules(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "config.yaml"), str(tmp_path / "q.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
