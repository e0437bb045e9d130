"""[memory] Peak RSS of a bot process holding many groups, members and rules.

The bot is the real ``qunbot replay`` process (``python -m bot replay``) on a config of
``rules`` rules for ``groups`` groups, playing a transcript in which every one of the
``members`` members speaks once, so the store's identity caches, the cooldowns and the
matchers are as full as a long-running bot's. Its peak RSS (``ru_maxrss`` of that child
alone: ``VmHWM`` of its own memory map, written by the ``bench.rss_child`` wrapper when it
exits) against the baseline: a bare ``import bot.cli`` under the same wrapper. A second
child that only loads the config shows how much of the peak the rules take.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path

from bench.core import (
    BenchContext,
    ChildRun,
    Result,
    Target,
    child_env,
    run_child,
    sqlite_url,
)
from bench.generate import ConfigSpec, make_config
from bench.transcripts import roster_transcript

NAME = "memory"
# Rules every generated config has besides its keyword rules (welcome, check-in, points,
# leaderboard, share bonus, FAQ).
_STANDARD_RULES = 6


@dataclass(frozen=True, slots=True)
class Params:
    groups: int
    members: int  # per group
    rules: int

    @classmethod
    def full(cls) -> Params:
        return cls(groups=100, members=500, rules=10_000)

    @classmethod
    def quick(cls) -> Params:
        return cls(groups=10, members=100, rules=1_000)


def _mb(kilobytes: int) -> float:
    return kilobytes / 1024


def _peak(folder: Path, env: dict[str, str], *args: str) -> ChildRun:
    """Run ``python -m bench.rss_child`` on args; the run with ``maxrss_kb`` set to VmHWM."""
    report = folder / "peak.txt"
    report.unlink(missing_ok=True)
    child = run_child(
        [sys.executable, "-m", "bench.rss_child", str(report), *args], cwd=folder, env=env
    )
    peak = int(report.read_text(encoding="ascii")) if report.exists() else 0
    return replace(child, maxrss_kb=peak)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    folder = ctx.dir(NAME)
    ctx.reporter.stage("generating config and transcript")
    keyword_rules = p.rules - _STANDARD_RULES
    config = folder / "config.yaml"
    config.write_text(
        make_config(ConfigSpec(groups=p.groups, keyword_rules=keyword_rules)), encoding="utf-8"
    )
    transcript = folder / "roster.jsonl"
    lines = roster_transcript(p.groups, p.members, ctx.seed, keywords=min(keyword_rules, 200))
    transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = folder / "qunbot.db"
    db.unlink(missing_ok=True)
    env = child_env()

    ctx.reporter.stage("baseline: import bot.cli")
    bare = _peak(folder, env, "-c", "import bot.cli")
    ctx.reporter.stage("config only: load_ruleset")
    load_only = _peak(
        folder,
        env,
        *[
            "-c",
            "import sys, pathlib, bot.cli; from triggers.loader import load_ruleset;"
            " r = load_ruleset(pathlib.Path(sys.argv[1])); print(len(r.rules))",
            str(config),
        ],
    )
    ctx.reporter.stage(f"bot: qunbot replay of {len(lines):,} members' messages")
    bot = _peak(
        folder,
        env,
        *["-m", "bot", "replay", str(transcript), "--config", str(config), "--db", sqlite_url(db)],
    )
    for child, what in ((bare, "import bot.cli"), (load_only, "load_ruleset"), (bot, "replay")):
        if child.returncode != 0:
            raise RuntimeError(f"{what} exited {child.returncode}: {child.stderr[-2000:]}")
    rules = int(load_only.stdout.strip())
    replies = len(bot.stdout.splitlines())
    return [
        Result(
            NAME,
            f"peak RSS: {p.groups} groups, {p.groups * p.members:,} members, {rules:,} rules",
            _mb(bot.maxrss_kb),
            "MB",
            _mb(bare.maxrss_kb),
            "import bot.cli",
            (Target("<=", 200),),
            {
                "events": len(lines),
                "replies": replies,
                "bot_wall_s": round(bot.seconds, 2),
                "rules": rules,
            },
        ),
        Result(
            NAME,
            f"peak RSS: config only ({rules:,} rules)",
            _mb(load_only.maxrss_kb),
            "MB",
            _mb(bare.maxrss_kb),
            "import bot.cli",
            notes={"load_wall_s": round(load_only.seconds, 2)},
        ),
    ]
