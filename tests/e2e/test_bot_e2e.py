"""The real bot process (`qunbot run --adapter wechaty`) against a real puppet-service server.

Each scenario scripts the server (members speak, join, leave) and asserts on what the server
received from the bot: the WeChat side of the conversation, nothing mocked in Python.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e]

ROOM = "room1@chatroom"
OPS = "ops@chatroom"  # where alerts to the operators go
BOT = "qunbot_wxid"
MEMBERS = [{"id": "alice", "name": "Alice"}, {"id": "bob", "name": "Bob"}]

CONFIG = f"""
groups: [{{id: "{ROOM}", name: 测试群}}]
roles: [{{member: alice, role: admin}}]
sending: {{min_gap: 0s, jitter: 0s, per_minute: 600, login_quiet: 0s, backoff: 1s}}
faq:
  entries:
    - {{id: refund, questions: [怎么申请退款], keywords: [退款], answer: "退款说明"}}
rules:
  - name: welcome
    when: {{event: join}}
    do: {{action: welcome, burst_window: 2s, text: "欢迎 {{{{ names }}}}"}}
  - name: checkin
    when: {{command: [签到]}}
    do: {{action: checkin, points: 10, text: "{{{{ member.name }}}} 签到成功 +{{{{ checkin.points }}}} ={{{{ balance }}}}"}}
  - name: points
    when: {{command: [积分]}}
    do: {{action: my_points, text: "{{{{ member.name }}}} 有 {{{{ balance }}}} 分"}}
  - name: echo trap
    when: {{keywords: [欢迎, 签到成功, 退款说明]}}
    do: {{action: reply, text: "I answered myself"}}
  - name: remove
    when: {{command: [/remove]}}
    do: {{action: admin, command: remove}}
  - name: faq
    when: {{question: true}}
    priority: -10
    do: {{action: faq}}
"""


class BotProcess:
    """`qunbot run --adapter wechaty` in a subprocess, its log in a file."""

    def __init__(self, peer: Any, workdir: Path) -> None:
        self.workdir = workdir
        self.log = workdir / "bot.log"
        self.status = workdir / "status.json"
        self.env = {
            **os.environ,
            "WECHATY_PUPPET_SERVICE_ENDPOINT": peer.endpoint,
            "WECHATY_PUPPET_SERVICE_TOKEN": peer.token,
            "QUNBOT_STATUS_FILE": str(self.status),
            "QUNBOT_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "run",
                    "--adapter",
                    "wechaty",
                    "--config",
                    str(self.workdir / "config.yaml"),
                    "--db",
                    f"sqlite:///{self.workdir / 'bot.db'}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.workdir,
                env=self.env,
            )

    def logged_in(self) -> bool:
        try:
            return json.loads(self.status.read_text())["state"] == "logged_in"
        except (OSError, ValueError, KeyError):
            return False

    def wait_online(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.logged_in():
            assert self.proc is not None and self.proc.poll() is None, self.log.read_text()
            if time.monotonic() > deadline:
                raise AssertionError("the bot never logged in:\n" + self.log.read_text()[-3000:])
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@contextmanager
def _running_bot(
    puppet_server: Any, workdir: Path, config: str = CONFIG, owner: str | None = None, **env: str
) -> Iterator[BotProcess]:
    """The bot on ``config`` in ROOM (owned by ``owner``; by nobody, the account may remove)."""
    (workdir / "config.yaml").write_text(config, encoding="utf-8")
    puppet_server.login(BOT, "QunBot")
    puppet_server.room(ROOM, "测试群", MEMBERS, owner=owner)
    puppet_server.room(OPS, "运营群", [MEMBERS[0]])
    process = BotProcess(puppet_server, workdir)
    process.env.update(env)
    process.start()
    try:
        process.wait_online()
        puppet_server.wait_health(lambda h: h["clients"] == 1 and h["logged_in"], timeout=30)
        yield process
    finally:
        process.stop()


@pytest.fixture
def bot(puppet_server: Any, tmp_path: Path) -> Iterator[BotProcess]:
    with _running_bot(puppet_server, tmp_path) as process:
        yield process


def texts(sent: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in sent if m["conversation"] == ROOM]


def test_a_member_joins_and_gets_the_welcome_with_an_at_mention(
    puppet_server: Any, bot: BotProcess
) -> None:
    puppet_server.join(ROOM, [{"id": "carol", "name": "Carol"}], "alice")
    sent = puppet_server.wait_sent(lambda s: any("欢迎" in t for t in texts(s)), timeout=20)
    welcome = next(m for m in sent if "欢迎" in m["text"])
    assert welcome["text"] == "@Carol 欢迎 Carol"  # WeChat shows the @ the text carries
    assert welcome["mentions"] == ["carol"]


def test_check_in_points_and_an_faq_answer(puppet_server: Any, bot: BotProcess) -> None:
    puppet_server.say(ROOM, "bob", "签到")
    puppet_server.wait_sent(lambda s: "@Bob Bob 签到成功 +10 =10" in texts(s), timeout=20)
    puppet_server.say(ROOM, "bob", "签到")
    puppet_server.say(ROOM, "bob", "积分")
    puppet_server.wait_sent(lambda s: "@Bob Bob 有 10 分" in texts(s), timeout=20)
    puppet_server.say(ROOM, "alice", "请问如何申请退款呢？")
    sent = puppet_server.wait_sent(lambda s: "@Alice 退款说明" in texts(s), timeout=20)
    answer = next(m for m in sent if m["text"] == "@Alice 退款说明")
    assert answer["mentions"] == ["alice"]
    assert texts(sent).count("@Bob Bob 签到成功 +10 =10") == 1


def test_a_burst_of_ten_joins_gets_one_welcome(puppet_server: Any, bot: BotProcess) -> None:
    newcomers = [{"id": f"n{i}", "name": f"N{i}"} for i in range(10)]
    for newcomer in newcomers:
        puppet_server.join(ROOM, [newcomer], "alice")
    puppet_server.wait_sent(lambda s: any("欢迎" in t for t in texts(s)), timeout=20)
    time.sleep(3)  # longer than the burst window: a second welcome would have come by now
    welcomes = [m for m in puppet_server.sent() if "欢迎" in m["text"]]
    assert len(welcomes) == 1, welcomes
    assert welcomes[0]["mentions"] == [n["id"] for n in newcomers]


def test_the_bot_does_not_answer_its_own_messages(puppet_server: Any, bot: BotProcess) -> None:
    # The server echoes every message the bot sends back to it as a message from the bot.
    puppet_server.say(ROOM, "bob", "签到")
    puppet_server.join(ROOM, [{"id": "dave", "name": "Dave"}], "alice")
    puppet_server.wait_sent(lambda s: any("欢迎" in t for t in texts(s)), timeout=20)
    time.sleep(2)  # time enough for an echo to be answered, if the bot answered echoes
    assert "I answered myself" not in texts(puppet_server.sent())


def test_an_admin_removes_a_member_through_the_service(puppet_server: Any, bot: BotProcess) -> None:
    puppet_server.say(ROOM, "bob", "签到")
    puppet_server.say(ROOM, "alice", "/remove bob 发广告")
    puppet_server.wait_sent(
        lambda s: "@Alice 已将 Bob 移出本群（发广告）。" in texts(s), timeout=20
    )
    deadline = time.monotonic() + 20
    while "bob" in _room(puppet_server)["members"]:
        assert time.monotonic() < deadline, puppet_server.log_tail()
        time.sleep(0.05)
    # The service reports the removal back as a leave; the store records it.
    while True:
        with sqlite3.connect(bot.workdir / "bot.db") as db:
            left = db.execute("SELECT left_at FROM memberships WHERE member_id = 'bob'").fetchone()
        if left is not None and left[0] is not None:
            break
        assert time.monotonic() < deadline, bot.log.read_text()[-3000:]
        time.sleep(0.05)
    with sqlite3.connect(bot.workdir / "bot.db") as db:
        assert db.execute("SELECT status FROM outbox WHERE kind = 'remove_member'").fetchall() == [
            ("sent",)
        ]


MODERATION = f"""
groups: [{{id: "{ROOM}", name: 测试群}}, {{id: "{OPS}", name: 运营群}}]
sending: {{min_gap: 0s, jitter: 0s, per_minute: 600, login_quiet: 0s, backoff: 1s}}
alerts: {{to: "{OPS}"}}
moderation: {{ladder: [warn, remove], remove_by: bot}}
rules:
  - {{name: 广告, when: {{detect: [link, contact, qrcode]}}, do: {{action: moderate, reason: 禁止广告}}}}
"""


def test_a_picture_with_a_qr_code_is_read_through_the_service_and_warned(
    puppet_server: Any, tmp_path: Path
) -> None:
    import io

    import qrcode

    buffer = io.BytesIO()
    qrcode.make("https://weixin.qq.com/g/AbCdEf").save(buffer, format="PNG")
    with _running_bot(puppet_server, tmp_path, MODERATION) as bot:
        puppet_server.picture(ROOM, "bob", buffer.getvalue())
        puppet_server.wait_sent(lambda s: any("第 1 次提醒" in t for t in texts(s)), timeout=20)
        with sqlite3.connect(bot.workdir / "bot.db") as db:
            found = db.execute("SELECT member_id, evidence FROM strikes").fetchall()
        assert found == [("bob", "二维码 https://weixin.qq.com/g/AbCdEf")]


@pytest.mark.parametrize("owner", [None, "alice"], ids=["bot may remove", "owner is alice"])
def test_the_ladder_removes_a_spammer_or_alerts_when_the_platform_refuses(
    puppet_server: Any, tmp_path: Path, owner: str | None
) -> None:
    with _running_bot(puppet_server, tmp_path, MODERATION, owner=owner) as bot:
        puppet_server.say(ROOM, "bob", "看看 www.shop.com")
        puppet_server.wait_sent(lambda s: any("第 1 次提醒" in t for t in texts(s)), timeout=20)
        puppet_server.say(ROOM, "bob", "加V：shop8888")
        alert = "已移出" if owner is None else "移出失败"
        puppet_server.wait_sent(
            lambda s: any(alert in m["text"] for m in s if m["conversation"] == OPS), timeout=30
        )
        (removal,) = puppet_server.removals()
        assert (removal["room"], removal["member"], removal["ok"]) == (ROOM, "bob", owner is None)
        members = [m["id"] for m in _room(puppet_server)["members"]]
        assert ("bob" in members) == (owner is not None)
        with sqlite3.connect(bot.workdir / "bot.db") as db:
            status, error = db.execute(
                "SELECT status, error FROM outbox WHERE kind = 'remove_member'"
            ).fetchone()
            steps = db.execute("SELECT step FROM strikes ORDER BY id").fetchall()
        assert steps == [("warn",), ("remove",)]
        if owner is None:
            assert status == "sent"
        else:  # refused for good at once: PERMISSION_DENIED is not retried
            assert status == "failed"
            assert error.startswith("PermanentSendError:") and "not the owner" in error
            ops = [m["text"] for m in puppet_server.sent() if m["conversation"] == OPS]
            assert any("请人工移出" in text for text in ops), ops


def _room(puppet_server: Any) -> dict[str, Any]:
    return next(room for room in puppet_server.state()["rooms"] if room["id"] == ROOM)


def test_the_server_killed_mid_conversation_then_back_nothing_lost_nothing_twice(
    puppet_server: Any, bot: BotProcess
) -> None:
    puppet_server.say(ROOM, "bob", "签到")
    puppet_server.wait_sent(lambda s: "@Bob Bob 签到成功 +10 =10" in texts(s), timeout=20)
    puppet_server.kill()
    # While WeChat is down the bot decides a broadcast; it must wait in the outbox.
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "broadcast",
            "add",
            "--config",
            str(bot.workdir / "config.yaml"),
            "--db",
            f"sqlite:///{bot.workdir / 'bot.db'}",
            "--groups",
            ROOM,
            "--text",
            "停机期间的通知",
        ],
        capture_output=True,
        text=True,
        cwd=bot.workdir,
        env=bot.env,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    deadline = time.monotonic() + 30
    while bot.logged_in() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not bot.logged_in(), "the bot did not notice the server going away"
    time.sleep(6)  # the bot sees the broadcast (job store re-read every 5 s) while offline
    puppet_server.restart()
    bot.wait_online(timeout=60)
    online = time.monotonic()
    puppet_server.wait_sent(lambda s: "停机期间的通知" in texts(s), timeout=30)
    assert time.monotonic() - online <= 3.0  # decided while offline, sent on reconnect
    # The sent mark is journaled first and folded into the outbox right after: wait for it.
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(bot.workdir / "bot.db") as db:
            [(status, attempts)] = db.execute(
                "SELECT status, attempts FROM outbox WHERE text = '停机期间的通知'"
            )
        if status == "sent" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert (status, attempts) == ("sent", 1)  # waiting offline spent no attempt
    puppet_server.say(ROOM, "alice", "签到")
    sent = puppet_server.wait_sent(
        lambda s: "@Alice Alice 签到成功 +10 =10" in texts(s), timeout=30
    )
    assert texts(sent).count("停机期间的通知") == 1
    assert texts(sent).count("@Bob Bob 签到成功 +10 =10") == 1
    log = bot.log.read_text()
    assert "reconnecting in" in log
    assert bot.env["WECHATY_PUPPET_SERVICE_TOKEN"] not in log  # the token is never logged


def test_status_and_groups_commands(puppet_server: Any, bot: BotProcess) -> None:
    status = subprocess.run(
        [sys.executable, "-m", "bot", "status"],
        capture_output=True,
        text=True,
        cwd=bot.workdir,
        env=bot.env,
        timeout=30,
    )
    assert status.returncode == 0, status.stderr
    assert "state: logged_in" in status.stdout and f"({BOT})" in status.stdout
    puppet_server.say(ROOM, "alice", "签到")  # the bot sees the room
    puppet_server.wait_sent(lambda s: "@Alice Alice 签到成功 +10 =10" in texts(s), timeout=30)
    groups = subprocess.run(
        [sys.executable, "-m", "bot", "groups", "--db", f"sqlite:///{bot.workdir / 'bot.db'}"],
        capture_output=True,
        text=True,
        cwd=bot.workdir,
        env=bot.env,
        timeout=60,
    )
    assert groups.returncode == 0, groups.stderr
    assert "a bot is running here" in groups.stdout
    assert ROOM in groups.stdout and "测试群" in groups.stdout
    # The running bot's link was left alone: one client, and the next message is answered.
    assert puppet_server.health()["clients"] == 1
    puppet_server.say(ROOM, "bob", "签到")
    puppet_server.wait_sent(lambda s: "@Bob Bob 签到成功 +10 =10" in texts(s), timeout=10)
    assert "disconnected" not in bot.log.read_text()


def test_sigterm_stops_the_bot_cleanly(puppet_server: Any, bot: BotProcess) -> None:
    """What systemd sends on stop: the bot closes its connection and exits 0."""
    bot.stop()
    assert bot.proc is not None and bot.proc.returncode == 0, bot.log.read_text()[-2000:]
    assert json.loads(bot.status.read_text())["state"] == "stopped"
    assert "qunbot stopped by a signal" in bot.log.read_text()


@pytest.fixture
def watchful_bot(puppet_server: Any, tmp_path: Path) -> Iterator[BotProcess]:
    """A bot with short liveness and reconnect windows, so freezes show within seconds."""
    with _running_bot(
        puppet_server, tmp_path, QUNBOT_LIVENESS="2", QUNBOT_RECONNECT_MAX="3"
    ) as process:
        yield process


def _state(bot: BotProcess) -> dict[str, Any]:
    try:
        return dict(json.loads(bot.status.read_text()))
    except (OSError, ValueError):
        return {}


def _wait_state(bot: BotProcess, predicate: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not predicate(state := _state(bot)):
        assert time.monotonic() < deadline, bot.log.read_text()[-3000:]
        time.sleep(0.05)
    return state


def test_ten_crashes_are_rejoined_within_seconds_and_every_message_answered_once(
    puppet_server: Any, watchful_bot: BotProcess
) -> None:
    took: list[float] = []
    for cycle in range(10):
        puppet_server.kill()
        _wait_state(watchful_bot, lambda s: s.get("state") != "logged_in", timeout=30)
        puppet_server.restart()
        back = time.monotonic()
        watchful_bot.wait_online(timeout=30)
        took.append(time.monotonic() - back)
        puppet_server.say(ROOM, "alice", "积分")
        puppet_server.wait_sent(
            lambda s, n=cycle + 1: texts(s).count("@Alice Alice 有 0 分") >= n, timeout=15
        )
    took.sort()
    figures = f"reconnect after the server was back: median {took[4]:.2f}s, max {took[-1]:.2f}s"
    print(figures)
    assert took[-1] <= 5.0, figures
    assert texts(puppet_server.sent()).count("@Alice Alice 有 0 分") == 10  # none twice


def test_a_service_that_answers_before_its_account_is_there_logs_the_bot_in_later(
    puppet_server: Any, tmp_path: Path
) -> None:
    """The race behind a reconnect that hung in 1 run in 5: the bot is connected before
    the service has logged its account in. It waits on the stream, says so, and is online
    the moment the login comes."""
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    process = BotProcess(puppet_server, tmp_path)
    process.start()
    try:
        _wait_state(process, lambda s: s.get("state") == "waiting_for_login", timeout=30)
        puppet_server.wait_health(lambda h: h["clients"] == 1 and not h["logged_in"], timeout=10)
        puppet_server.login(BOT, "QunBot")
        puppet_server.room(ROOM, "测试群", MEMBERS)
        process.wait_online(timeout=10)
        puppet_server.say(ROOM, "bob", "积分")
        sent = puppet_server.wait_sent(lambda s: "@Bob Bob 有 0 分" in texts(s), timeout=15)
        assert texts(sent).count("@Bob Bob 有 0 分") == 1
    finally:
        process.stop()


def test_a_frozen_server_is_reported_stalled_and_recovered_from(
    puppet_server: Any, watchful_bot: BotProcess
) -> None:
    process = puppet_server._process
    os.kill(process.pid, signal.SIGSTOP)
    try:
        state = _wait_state(
            watchful_bot, lambda s: "stalled" in (s.get("state", "") + s.get("reason", "")), 15
        )
    finally:
        os.kill(process.pid, signal.SIGCONT)
    assert "no answer to a probe within 2s" in state.get("reason", "")
    watchful_bot.wait_online(timeout=30)
    puppet_server.say(ROOM, "bob", "积分")
    sent = puppet_server.wait_sent(lambda s: "@Bob Bob 有 0 分" in texts(s), timeout=15)
    assert texts(sent).count("@Bob Bob 有 0 分") == 1


SECRET = "insecure_do_not_leak_7f3a9c21"


def _run_briefly(workdir: Path, env: dict[str, str], args: list[str], seconds: float) -> str:
    """Run a qunbot command; stop it after ``seconds`` if still running; all it printed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=workdir,
        env=env,
    )
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    return out.decode(errors="replace")


def test_no_failure_path_prints_or_stores_the_token(puppet_server: Any, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(CONFIG, encoding="utf-8")
    puppet_server.login(BOT, "QunBot")
    status = tmp_path / "status.json"
    base = {
        **os.environ,
        "QUNBOT_STATUS_FILE": str(status),
        "QUNBOT_LOG_LEVEL": "DEBUG",
        "QUNBOT_CONFIG": str(tmp_path / "config.yaml"),
        "QUNBOT_DB_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "WECHATY_PUPPET_SERVICE_TOKEN": SECRET,
        "WECHATY_LOG": "silly",
    }
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    unreachable = f"127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening
    paths = {
        "refused token": ({"WECHATY_PUPPET_SERVICE_ENDPOINT": puppet_server.endpoint}, 30),
        "unreachable endpoint": ({"WECHATY_PUPPET_SERVICE_ENDPOINT": unreachable}, 5),
        "token only, no directory": ({"WECHATY_PUPPET_SERVICE_ENDPOINT": ""}, 5),
    }
    outputs = {}
    try:
        for name, (extra, seconds) in paths.items():
            env = {**base, **extra}
            outputs[name] = _run_briefly(tmp_path, env, ["run", "--adapter", "wechaty"], seconds)
            outputs[f"{name}: status file"] = status.read_text() if status.exists() else ""
            outputs[f"{name}: qunbot status"] = _run_briefly(tmp_path, env, ["status"], 20)
        env = {**base, "WECHATY_PUPPET_SERVICE_ENDPOINT": unreachable}
        outputs["groups"] = _run_briefly(tmp_path, env, ["groups", "--timeout", "3"], 30)
    finally:
        closed.close()
    with sqlite3.connect(tmp_path / "bot.db") as db:
        outputs["database"] = "\n".join(db.iterdump())
    assert "refused the token" in outputs["refused token"], outputs["refused token"][-2000:]
    assert "reconnecting" in outputs["unreachable endpoint"]
    assert "service directory" in outputs["token only, no directory"]
    leaks = [name for name, text in outputs.items() if SECRET in text]
    assert leaks == [], {name: outputs[name][-1500:] for name in leaks}
    assert "inse…21" in outputs["refused token"]
