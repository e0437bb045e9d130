"""Workloads that price one feature: the ``message_path`` transcript through the replay path
with the feature on and off, rounds alternating so load drifting on a shared machine hits
both sides, each side's fastest round counting (``moderation``, ``encryption``,
``conditions``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.core import BenchContext, Result, Target, sqlite_url
from bench.generate import START, ConfigSpec, make_config
from bench.message_path import replay_instrumented
from bench.transcripts import TranscriptSpec, transcript
from bot.runtime import RunOptions
from storage.encryption import DataKeys


@dataclass(frozen=True, slots=True)
class Params:
    groups: int
    members: int
    events: int
    rounds: int
    batch_size: int = RunOptions().batch_size

    @classmethod
    def full(cls) -> Params:
        return cls(groups=100, members=500, events=40_000, rounds=5)

    @classmethod
    def quick(cls) -> Params:
        return cls(groups=10, members=50, events=1_000, rounds=1)


@dataclass(frozen=True, slots=True)
class Side:
    """One side of the comparison: its config and its data keys."""

    config: str
    keys: DataKeys | None = None


@dataclass(frozen=True, slots=True)
class Comparison:
    """What one workload compares: the feature's side against the baseline's."""

    name: str
    figure: str
    baseline: str
    most_cost: float  # the feature may make the path this many times slower
    sides: Callable[[str], tuple[Side, Side]]  # generated config -> (with, without)
    notes: Callable[[Side], dict[str, Any]] = lambda side: {}


def compare(ctx: BenchContext, how: Comparison, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    lines = transcript(
        TranscriptSpec(groups=p.groups, members=p.members, events=p.events), ctx.seed, START
    )
    on, off = how.sides(make_config(ConfigSpec(groups=p.groups)))
    best: dict[str, float] = {}
    ctx.reporter.stage("with / without, alternating", total=2 * p.rounds * len(lines))
    for round_ in range(p.rounds):
        for label, side in (("on", on), ("off", off)):
            path = ctx.dir(how.name) / f"{label}-{round_}.db"
            for suffix in ("", "-wal", "-shm", "-sent"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
            wall, _, adapter = replay_instrumented(
                ctx, lines, side.config, sqlite_url(path), p.batch_size, side.keys
            )
            if adapter.bad_lines:
                raise RuntimeError(f"{adapter.bad_lines} generated line(s) were rejected")
            best[label] = min(best.get(label, wall), wall)
    return [
        Result(
            how.name,
            how.figure,
            len(lines) / best["on"],
            "events/s",
            len(lines) / best["off"],
            how.baseline,
            (Target(">=", 1 / how.most_cost, on="ratio"),),
            {
                "events": len(lines),
                "rounds": p.rounds,
                "cost_on_over_off": round(best["on"] / best["off"], 3),
                **how.notes(on),
            },
        )
    ]
