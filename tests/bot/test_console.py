"""The console adapter: a scripted session, and a real process killed mid-work and restarted."""

from __future__ import annotations

import asyncio
import io
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from support import SAMPLE_CONFIG, ruleset_from

from bot.adapters.console import ConsoleAdapter
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from bot.runtime import RunOptions, run
from storage.store import Store
from triggers.engine import Engine

CONFIG = """
groups: [{id: g1, name: 一群}, {id: g2, name: 二群}]
rules:
  - name: welcome
    when: {event: join}
    do: {action: welcome, burst_window: 30s, text: "欢迎 {{ names }}"}
  - name: checkin
    when: {command: [签到]}
    do: {action: checkin, text: "{{ member.name }} {{ group.name }} {{ checkin.day }}"}
"""


def session(store: Store, typed: str, config: str = CONFIG) -> list[str]:
    ruleset = ruleset_from(config)
    clock = FakeClock(datetime.fromisoformat("2026-11-24T08:00:00+08:00"))
    out = io.StringIO()
    groups = [g.key for g in ruleset.config.groups]
    adapter = ConsoleAdapter(io.StringIO(typed), out, clock, ruleset.zone_of, "g1", groups)
    outbox = Outbox(store, adapter, clock, Pacing.immediate(), ruleset.zone_of)
    asyncio.run(run(adapter, Dispatcher(store, Engine(ruleset)), outbox, clock, RunOptions()))
    return out.getvalue().splitlines()


def test_a_scripted_console_session(store: Store) -> None:
    lines = session(
        store,
        "/join bob by alice\n"
        "/join carol\n"
        "/clock +31s\n"
        "bob: 签到\n"
        "/clock 2026-11-25 00:01\n"
        "bob：签到\n"
        "/group g2\n"
        "carol: 签到\n"
        "just text\n"
        "/frobnicate\n"
        "/quit\n"
        "bob: never read\n",
    )
    bot = [line.strip() for line in lines if "🤖" in line]
    assert bot == [
        "🤖 [g1 08:00] @bob @carol 欢迎 bob、carol",
        "🤖 [g1 08:00] @bob bob 一群 2026-11-24",
        "🤖 [g1 00:01] @bob bob 一群 2026-11-25",
        "🤖 [g2 00:01] @carol carol 二群 2026-11-25",
    ]
    text = "\n".join(lines)
    assert "type `name: message`" in text
    assert "unknown or incomplete command '/frobnicate'" in text
    assert "never read" not in text


def test_a_group_the_config_does_not_list_is_refused_with_the_ones_it_does(store: Store) -> None:
    lines = session(store, "/group g9\nbob: 签到\n")
    assert "  ? group 'g9' is not in the config, so the bot ignores it; try: g1, g2" in lines
    assert [line.strip() for line in lines if "🤖" in line] == [
        "🤖 [g1 08:00] @bob bob 一群 2026-11-24"
    ]
    anywhere = session(store, "/group g9\nbob: 签到\n", CONFIG.replace(CONFIG.split("\n")[1], ""))
    assert "  now in group g9" in anywhere


def test_the_clock_only_moves_forward_and_says_how_to_move_it(store: Store) -> None:
    lines = session(
        store,
        "bob: 签到\n"
        "/clock 2026-11-23 09:00\n"
        "/clock -1d\n"
        "/clock tomorrow\n"
        "/clock 07:30\n"
        "bob: 签到\n",
    )
    assert "  ? the clock only moves forward; it is 2026-11-24 08:00" in lines
    usage = [line for line in lines if line.startswith("  ? /clock takes a local date and time")]
    assert len(usage) == 2
    assert "  clock: 2026-11-25 07:30:00 (Asia/Shanghai)" in lines  # the next 07:30
    bot = [line.strip() for line in lines if "🤖" in line]
    assert bot == [
        "🤖 [g1 08:00] @bob bob 一群 2026-11-24",
        "🤖 [g1 07:30] @bob bob 一群 2026-11-25",
    ]


def test_a_huge_clock_step_is_downtime_and_one_past_the_calendar_is_refused(
    store: Store,
) -> None:
    config = (
        CONFIG
        + """\
  - name: morning
    when: {schedule: {at: '08:00'}}
    do: {action: reply, text: "早"}
"""
    )
    lines = session(store, "/clock +99999d\n/clock +9999999d\n", config)
    assert "  clock: 2300-09-08 08:00:00 (Asia/Shanghai)" in lines
    # 273 years of mornings missed: the one due as the clock lands, once per group.
    assert sorted(line.strip() for line in lines if "🤖" in line) == [
        "🤖 [g1 08:00] 早",
        "🤖 [g2 08:00] 早",
    ]
    assert any(line.startswith("  ? ") and "past the" in line for line in lines)


def test_help_lists_every_command(store: Store) -> None:
    text = "\n".join(session(store, "/help\n"))
    for command in ("/join", "/leave", "/clock", "/group", "/help", "/quit"):
        assert command in text


class _Process:
    """A running ``qunbot chat`` with its output collected line by line."""

    def __init__(
        self, db_url: str, tmp: Path, command: str = "chat", config: Path | None = None
    ) -> None:
        env = {**os.environ, "QUNBOT_DB_URL": db_url, "PYTHONUNBUFFERED": "1"}
        config = config or SAMPLE_CONFIG
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", command, "--config", str(config), "--db", db_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            cwd=tmp,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def wait_for(self, fragment: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            self.seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(f"{fragment!r} never appeared; saw:\n" + "\n".join(self.seen))

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self._finish()

    def quit(self) -> list[str]:
        self.type("/quit")
        self._finish()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.seen

    def _finish(self) -> None:
        self.proc.wait(timeout=30)
        self._pump_thread.join(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def chat_db(tmp_path: Path) -> Iterator[str]:
    yield f"sqlite:///{tmp_path / 'chat.db'}"


def test_killed_mid_work_and_restarted_nothing_lost_nothing_twice(
    chat_db: str, tmp_path: Path
) -> None:
    first = _Process(chat_db, tmp_path)
    first.wait_for("qunbot chat")
    first.type("/join bob by alice")
    first.type("bob: 签到")
    first.wait_for("签到成功")
    first.kill()  # SIGKILL: the welcome for bob is still pending, the check-in was committed

    second = _Process(chat_db, tmp_path)
    second.wait_for("qunbot chat")
    second.type("bob: 签到")
    second.wait_for("已经签到过")
    second.type("/clock +1m")
    welcome = second.wait_for("欢迎加入")
    assert "@bob" in welcome
    second.type("bob: 积分")
    second.wait_for("你的积分：10")
    seen = second.quit()
    assert sum("欢迎加入" in line for line in seen) == 1

    third = _Process(chat_db, tmp_path)
    third.wait_for("qunbot chat")
    third.type("/clock +5m")
    third.wait_for("clock:")
    seen = third.quit()
    assert not any("欢迎加入" in line for line in seen)

    store = Store(chat_db)
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 10
    store.close()


PING = """
sending: {min_gap: 0s, jitter: 0s, per_minute: 60}
rules:
  - {name: ping, when: {command: [ping]}, do: {action: reply, text: PONG1}}
"""


def test_qunbot_run_sends_through_the_paced_outbox_and_hot_reloads(
    chat_db: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(PING, encoding="utf-8")
    bot = _Process(chat_db, tmp_path, command="run", config=config)
    bot.wait_for("qunbot ready")
    bot.type("bob: ping")
    bot.wait_for("PONG1")
    config.write_text(PING.replace("PONG1", "PONG2"), encoding="utf-8")
    bot.wait_for("config reloaded")
    bot.type("bob: ping")
    bot.wait_for("PONG2")
    config.write_text(PING.replace("text: PONG1", "txt: PONG3"), encoding="utf-8")
    bot.wait_for("config reload refused")
    bot.type("carol: ping")  # bob got PONG2 a moment ago: the same reply is not sent twice
    bot.wait_for("PONG2")
    seen = bot.quit()
    assert not any("PONG3" in line for line in seen)
