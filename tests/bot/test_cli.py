"""The qunbot command: exit codes, output, and that every command is documented."""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from conftest import PG_URL
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url
from support import SAMPLE_CONFIG, make_event

from bot.cli import main
from bot.dispatcher import Dispatcher
from core import resources
from core.resources import sample_config_path
from storage.store import Store
from triggers.engine import Engine
from triggers.loader import load_ruleset

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str, input_: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=input_)
    return result.exit_code, result.stdout, result.stderr


def test_check_accepts_the_sample_config() -> None:
    code, out, _ = invoke("check", str(SAMPLE_CONFIG))
    assert code == 0
    assert "OK" in out and "rule(s)" in out


def test_check_reports_problems_with_lines_and_fails(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text(
        "rules:\n  - name: x\n    when: {command: [a]}\n    do: {action: checkin, points: many}\n"
    )
    code, _, err = invoke("check", str(bad))
    assert code == 2
    assert f"error: {bad}:4:" in err
    assert "1 problem(s)" in err
    assert "Traceback" not in err


def test_schema_is_json_schema_that_describes_the_config() -> None:
    code, out, _ = invoke("schema")
    assert code == 0
    document = json.loads(out)
    assert document["additionalProperties"] is False
    assert {"timezone", "groups", "roles", "points", "faq", "rules"} <= set(document["properties"])
    rule = document["$defs"]["Rule"]
    assert {"name", "when", "if", "do", "priority", "continue"} <= set(rule["properties"])


def test_schema_validates_the_sample_config_and_rejects_a_typo() -> None:
    import jsonschema
    import yaml

    document = json.loads(invoke("schema")[1])
    sample = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    jsonschema.validate(sample, document)
    sample["rules"][0]["prority"] = 1
    try:
        jsonschema.validate(sample, document)
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("a typo passed the schema")


def test_replay_prints_json_lines(tmp_path: Path) -> None:
    transcript = tmp_path / "day.jsonl"
    transcript.write_text(
        '{"at": "2026-11-24T09:00:00+08:00", "kind": "message", "group": "g1", "sender": "bob", "name": "Bob", "text": "签到"}\n'
        "oops\n",
        encoding="utf-8",
    )
    code, out, err = invoke("replay", str(transcript), "--config", str(SAMPLE_CONFIG))
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 1 and lines[0]["mentions"] == ["bob"]
    assert "line 2:" in err and "1 bad line(s) skipped" in err


def test_demo_plays_the_day_and_summarises_the_store() -> None:
    code, out, _ = invoke("demo", "--config", str(SAMPLE_CONFIG))
    assert code == 0
    assert "欢迎加入「产品交流群」" in out
    assert "签到成功" in out and "已经签到过" in out
    assert "退款请在「我的订单」" in out
    assert "What the store holds" in out
    assert "周末有线下活动吗？" in out  # the unanswered question is listed for a human


def test_a_config_error_stops_other_commands_cleanly(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("rules: 5\n")
    code, _, err = invoke("replay", "/dev/null", "--config", str(bad))
    assert code == 2
    assert "config.yaml:1:" in err and "nothing was run" in err


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert re.search(rf"qunbot {name}\b", readme), f"`qunbot {name}` is not in README.md"


def test_help_everywhere() -> None:
    for name in main.commands:
        code, out, _ = invoke(name, "--help")
        assert code == 0 and "Usage:" in out


def test_the_demo_day_says_exactly_the_golden_transcript() -> None:
    """A regression net over the whole sample: any change in what the bot says shows here.

    It replays the tests' own copy of the sample (tests/fixtures/sample). Regenerate after an
    intended change with `qunbot replay bot/demo_day.jsonl --config
    tests/fixtures/sample/config.yaml > tests/bot/golden/demo_day.out.jsonl` and review the diff.
    """
    transcript = str(ROOT / "bot/demo_day.jsonl")
    code, out, err = invoke("replay", transcript, "--config", str(SAMPLE_CONFIG))
    assert code == 0, err
    golden = (ROOT / "tests/bot/golden/demo_day.out.jsonl").read_text(encoding="utf-8")
    assert out.splitlines() == golden.splitlines()


def test_editing_the_repository_sample_leaves_the_tests_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README invites users to edit config.yaml and templates/; the tests that replay the
    sample must read their own copy, so `pytest` stays green after "make the rules yours"."""
    (tmp_path / "templates").mkdir()
    (tmp_path / "config.yaml").write_text("timezone: Europe/Berlin\nrules: []\n", encoding="utf-8")
    for template in (ROOT / "templates").iterdir():
        (tmp_path / "templates" / template.name).write_text("edited", encoding="utf-8")
    monkeypatch.setattr(resources, "_BUNDLED", tmp_path)
    assert sample_config_path() == tmp_path / "config.yaml"
    test_the_demo_day_says_exactly_the_golden_transcript()
    test_demo_plays_the_day_and_summarises_the_store()
    test_replay_prints_json_lines(tmp_path)
    test_schema_validates_the_sample_config_and_rejects_a_typo()


# Every command that opens the bot's database, with what it needs besides --db.
DB_COMMANDS = [
    ["demo"],
    ["chat"],
    ["replay", "/dev/null"],
    ["run"],
    ["broadcast", "add", "--groups", "g1", "--text", "hi"],
    ["broadcast", "list"],
    ["broadcast", "show", "1"],
    ["broadcast", "preview", "1"],
    ["broadcast", "cancel", "1"],
    ["audit"],
    ["outbox", "failed"],
    ["outbox", "retry", "--all"],
]


def _missing_pg_database() -> str:
    if not PG_URL:
        pytest.skip("QUNBOT_TEST_PG_URL is not set")
    return str(make_url(PG_URL).set(password="s3cret", database="qunbot_no_such_db"))


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "sqlite:////nonexistent/qunbot/q.db",
            "the directory '/nonexistent/qunbot' does not exist",
        ),
        ("mysql2://bot@db/qun", "unsupported database 'mysql2'"),
        ("not a url", "not a database URL"),
        (None, 'database "qunbot_no_such_db" does not exist; create it'),
    ],
    ids=["missing-directory", "unknown-scheme", "not-a-url", "missing-pg-database"],
)
@pytest.mark.parametrize("command", DB_COMMANDS, ids=" ".join)
def test_a_bad_database_url_is_one_clear_line(
    url: str | None, says: str, command: list[str]
) -> None:
    url = url or _missing_pg_database()
    code, out, err = invoke(*command, "--config", str(SAMPLE_CONFIG), "--db", url)
    assert code == 2, out + err
    assert err.count("\n") == 1 and err.startswith("error: database URL '")
    assert says in err
    assert "s3cret" not in err and "Traceback" not in err


def test_a_bad_database_url_from_the_environment_is_one_clear_line() -> None:
    result = CliRunner(env={"QUNBOT_DB_URL": "sqlite:////nonexistent/q.db"}).invoke(
        main, ["audit", "--config", str(SAMPLE_CONFIG)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: database URL 'sqlite:////nonexistent/q.db'")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    url=st.one_of(
        st.text(max_size=30),
        st.builds(
            str.__add__,
            st.sampled_from(["sqlite://", "sqlite:///", "sqlite:////", "mysql://", "://u:p@"]),
            st.text(max_size=20),
        ),
    )
)
def test_any_database_url_either_works_or_is_refused_in_one_line(url: str) -> None:
    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(folder):
        # An absolute path stays in the folder too: the files a URL creates must not be
        # left in / for the next run (one made there by another schema broke a later one).
        if url.startswith("sqlite:////"):
            url = f"sqlite:///{folder}/{url.removeprefix('sqlite:////')}"
        Path("config.yaml").write_text("rules: []\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["audit", "--db", url])
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    if result.exit_code == 2:
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")


BROADCAST_CONFIG = "groups: [{id: g1, name: 一群}, {id: g2, name: 二群}]\nrules: []\n"


def _broadcast_db(tmp_path: Path) -> list[str]:
    config = tmp_path / "config.yaml"
    config.write_text(BROADCAST_CONFIG, encoding="utf-8")
    return ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'bot.db'}"]


def test_a_broadcast_at_a_past_time_is_refused_not_sent_now(tmp_path: Path) -> None:
    common = _broadcast_db(tmp_path)
    add = ["broadcast", "add", *common, "--groups", "g1", "--text", "hi"]
    code, out, err = invoke(*add, "--at", "2020-01-01 10:00")
    assert code == 2, out + err
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert err.startswith(
        f"Error: 2020-01-01 10:00 (Asia/Shanghai) is in the past: it is now {now:%Y-%m-%d %H:}"
    )
    assert err.rstrip().endswith("(Asia/Shanghai)") and err.count("\n") == 1
    code, out, _ = invoke("broadcast", "list", *common)
    assert code == 0 and "hi" not in out and "2020" not in out


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        ("--at", "tomorrow", "expected 'YYYY-MM-DD HH:MM'"),
        ("--cron", "61 * * * *", "invalid cron line '61 * * * *'"),
        ("--cron", "0 8 * *", "invalid cron line"),
        ("--cron", "0 0 31 2 *", "never fires"),
    ],
)
def test_a_bad_broadcast_time_is_a_usage_error(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    common = _broadcast_db(tmp_path)
    code, out, err = invoke(
        "broadcast", "add", *common, "--groups", "g1", "--text", "hi", option, value
    )
    assert code == 2, out + err
    assert says in err and "Traceback" not in err


@settings(max_examples=30, deadline=None, derandomize=True)
@given(option=st.sampled_from(["--at", "--cron"]), value=st.text(max_size=24))
def test_any_broadcast_time_is_taken_or_refused_cleanly(option: str, value: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        common = _broadcast_db(Path(folder))
        result = CliRunner().invoke(
            main, ["broadcast", "add", *common, "--groups", "g1", "--text", "hi", option, value]
        )
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info


def test_broadcast_messages_name_groups_and_times_readably(tmp_path: Path) -> None:
    """Targets read `一群 (g1), 二群 (g2)`, not JSON; `show` gives both times in one named zone."""
    common = _broadcast_db(tmp_path)
    add = ["broadcast", "add", *common, "--groups", "g1,g2", "--text", "hi"]
    code, out, err = invoke(*add, "--at", "2030-01-01 20:00")
    assert code == 0, err
    assert out == (
        "broadcast #1 scheduled for 2030-01-01 20:00 (Asia/Shanghai) to 一群 (g1), 二群 (g2)\n"
    )
    store = Store(common[-1])
    dispatcher = Dispatcher(store, Engine(load_ruleset(Path(common[1]))))
    dispatcher.restore(datetime(2030, 1, 1, 11, 0, tzinfo=UTC))
    dispatcher.process([make_event(when="2030-01-01T20:00:05+08:00", text_="x")])
    with store.transaction() as tx:
        first = tx.due_messages(datetime(2030, 1, 1, 12, 1, tzinfo=UTC), 10)[0]
    store.confirm_sent(first.id, datetime(2030, 1, 1, 12, 0, 7, tzinfo=UTC))
    dispatcher.close()
    store.close()
    code, out, err = invoke("broadcast", "show", "1", *common)
    assert code == 0, err
    assert out.startswith("#1 done · 2030-01-01 20:00 (Asia/Shanghai) · by cli:")
    assert "sent at (Asia/Shanghai)" in out and "2030-01-01 20:00:07" in out
    code, out, err = invoke("broadcast", "list", *common)
    assert code == 0 and "一群 (g1)," in out and '"g1"' not in out


# Every command that reads a config, with what it needs besides --config.
CONFIG_COMMANDS = [
    *DB_COMMANDS,
    ["check"],
]


@pytest.mark.parametrize("command", CONFIG_COMMANDS, ids=" ".join)
def test_a_broken_config_stops_every_command_with_exit_2_and_its_problems(
    tmp_path: Path, command: list[str]
) -> None:
    """README: a config error stops any command with exit code 2 and the list of problems."""
    bad = tmp_path / "config.yaml"
    bad.write_text("rules:\n  - name: x\n    when: {command: [a]}\n    do: {action: nope}\n")
    given = [str(bad)] if command == ["check"] else ["--config", str(bad), "--db", "sqlite://"]
    code, out, err = invoke(*command, *given)
    assert code == 2, out + err
    assert f"error: {bad}:4:" in err and "1 problem(s) in the config" in err
    assert "Traceback" not in out + err
