"""Any config, valid or broken: `qunbot check` finishes in time, with exit 0 or a located error.

Properties: never a traceback, never past the time budget, every problem named with its
file, line and column; a config that passes check also runs a short transcript cleanly.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from fuzz.budget import bounded, fuzz_settings, tally
from fuzz.configs import config_dicts, dump, mutated_config_bytes
from hypothesis import given

from bot.cli import main

PROBLEM = re.compile(r"^error: (?P<file>.+?):(?P<line>\d+):(?P<col>\d+): \S")


def check(tmp: Path, data: bytes) -> tuple[int, str, str]:
    path = tmp / "config.yaml"
    path.write_bytes(data)
    tally("configs", 1)
    with bounded():
        result = CliRunner().invoke(main, ["check", str(path)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def assert_reported(code: int, out: str, err: str, data: bytes) -> None:
    assert "Traceback" not in out + err, err
    if code == 0:
        return
    assert code == 2, f"a config error exits 2, got {code}: {err}"
    problems = [line for line in err.splitlines() if line.startswith("error: ")]
    assert problems, f"exit {code} without a reported problem: {err!r}"
    for line in problems:
        found = PROBLEM.match(line)
        assert found, f"problem without file:line:column: {line!r}"
        assert int(found["line"]) <= data.count(b"\n") + 1


@fuzz_settings(60)
@given(config=config_dicts())
def test_generated_configs_pass_or_fail_with_located_problems(
    config: dict[str, object], tmp_path_factory
) -> None:
    data = dump(config).encode("utf-8", errors="surrogatepass")
    code, out, err = check(tmp_path_factory.mktemp("cfg"), data)
    assert_reported(code, out, err, data)


@fuzz_settings(80)
@given(data=mutated_config_bytes())
def test_mutated_configs_pass_or_fail_with_located_problems(data: bytes, tmp_path_factory) -> None:
    code, out, err = check(tmp_path_factory.mktemp("cfg"), data)
    assert_reported(code, out, err, data)
