"""[moderation] The message path with the sample config's group rules on, against off.

The same generated transcript as ``message_path`` (ordinary traffic: chatter, check-ins, FAQ
questions, joins) through the same replay path, once with the generated config and once
with the sample ``config.yaml``'s ``moderation:`` section and ``detect:`` rules added (links,
contacts, banned words, message types, floods). Rounds alternate off/on so load drifting on
a shared machine hits both; each side's fastest round counts.

Baseline: the message path with the group rules off, in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bench.core import BenchContext, Result, Target
from bench.generate import START, ConfigSpec, TranscriptSpec, make_config, transcript
from bench.message_path import Side, fastest_alternating
from bot.runtime import RunOptions
from core.resources import sample_config_path

NAME = "moderation"


@dataclass(frozen=True, slots=True)
class Params:
    groups: int
    members: int
    events: int
    rounds: int
    batch_size: int = RunOptions().batch_size

    @classmethod
    def full(cls) -> Params:
        return cls(groups=100, members=500, events=40_000, rounds=3)

    @classmethod
    def quick(cls) -> Params:
        return cls(groups=10, members=50, events=1_000, rounds=1)


def with_group_rules(config: str) -> str:
    """``config`` plus the sample's moderation section and its ``detect:`` rules."""
    sample: dict[str, Any] = yaml.safe_load(sample_config_path().read_text(encoding="utf-8"))
    ours: dict[str, Any] = yaml.safe_load(config)
    ours["moderation"] = sample["moderation"]
    ours["rules"] = [r for r in sample["rules"] if "detect" in r["when"]] + ours["rules"]
    return yaml.safe_dump(ours, allow_unicode=True, sort_keys=False, width=200)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    plain = make_config(ConfigSpec(groups=p.groups))
    lines = transcript(
        TranscriptSpec(groups=p.groups, members=p.members, events=p.events), ctx.seed, START
    )
    sides = {"off": Side(plain), "on": Side(with_group_rules(plain))}
    best = fastest_alternating(ctx, NAME, lines, sides, p.rounds, p.batch_size)
    rate = {side: len(lines) / wall for side, wall in best.items()}
    return [
        Result(
            NAME,
            "message path, group rules on",
            rate["on"],
            "events/s",
            rate["off"],
            "the same, group rules off",
            (Target(">=", 1 / 1.10, on="ratio"),),
            {
                "events": len(lines),
                "rounds": p.rounds,
                "cost_on_over_off": round(best["on"] / best["off"], 3),
                "group_rules": [
                    r["name"]
                    for r in yaml.safe_load(sides["on"].config)["rules"]
                    if "detect" in r["when"]
                ],
            },
        )
    ]
