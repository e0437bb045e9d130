"""[startup] ``qunbot check`` and bot start-up with a large config, in fresh processes.

Both are wall-clock times of a whole subprocess (interpreter start, imports, work), the
median of several runs: ``python -m bot check CONFIG``, and ``python -m bench.startup_child``
which loads the config, opens the store and restores the dispatcher's schedule as
``qunbot run`` does before its first event (on a database from a previous start; the very
first start, which creates the database, is reported beside it). Baseline: ``python -c pass``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.core import (
    BenchContext,
    ChildRun,
    Result,
    Target,
    child_env,
    median,
    run_child,
    sqlite_url,
)
from bench.generate import ConfigSpec, make_config

NAME = "startup"
# Rules every generated config with a briefing has besides its keyword rules.
_STANDARD_RULES = 7


@dataclass(frozen=True, slots=True)
class Params:
    rules: int = 1_000
    groups: int = 10
    repeats: int = 5

    @classmethod
    def full(cls) -> Params:
        return cls()

    @classmethod
    def quick(cls) -> Params:
        return cls(repeats=2)


def _runs(ctx: BenchContext, args: list[str], repeats: int, cwd: Path) -> list[ChildRun]:
    runs = []
    env = child_env()
    for _ in range(repeats):
        child = run_child(args, cwd=cwd, env=env)
        if child.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} exited {child.returncode}: {child.stderr[-2000:]}"
            )
        runs.append(child)
        ctx.reporter.advance()
    return runs


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    folder = ctx.dir(NAME)
    config = folder / "config.yaml"
    spec = ConfigSpec(groups=p.groups, briefing=True, keyword_rules=p.rules - _STANDARD_RULES)
    config.write_text(make_config(spec), encoding="utf-8")
    db = folder / "qunbot.db"
    db.unlink(missing_ok=True)
    python = sys.executable
    ctx.reporter.stage("subprocesses", total=4 * p.repeats + 1)
    bare = _runs(ctx, [python, "-c", "pass"], p.repeats, folder)
    imports = _runs(ctx, [python, "-c", "import bot.cli"], p.repeats, folder)
    check = _runs(ctx, [python, "-m", "bot", "check", str(config)], p.repeats, folder)
    start = [python, "-m", "bench.startup_child", str(config), sqlite_url(db)]
    first = _runs(ctx, start, 1, folder)[0]
    again = _runs(ctx, start, p.repeats, folder)
    if f"{p.rules} rule(s)" not in check[0].stdout:
        raise RuntimeError(f"unexpected check output: {check[0].stdout!r}")

    baseline = median([r.seconds for r in bare])
    return [
        Result(
            NAME,
            f"qunbot check ({p.rules:,} rules)",
            median([r.seconds for r in check]),
            "s",
            baseline,
            "python -c pass",
            (Target("<=", 2.0),),
            {"runs_s": [round(r.seconds, 3) for r in check]},
        ),
        Result(
            NAME,
            f"bot start-up ({p.rules:,} rules)",
            median([r.seconds for r in again]),
            "s",
            baseline,
            "python -c pass",
            (Target("<=", 2.0),),
            {
                "runs_s": [round(r.seconds, 3) for r in again],
                "first_start_s": round(first.seconds, 3),
            },
        ),
        Result(
            NAME,
            "first start (creates the database)",
            first.seconds,
            "s",
            baseline,
            "python -c pass",
        ),
        Result(
            NAME,
            "import bot.cli",
            median([r.seconds for r in imports]),
            "s",
            baseline,
            "python -c pass",
        ),
    ]
