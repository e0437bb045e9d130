"""[conditions] The message path with rules that ask for layers and tags, against the same
rules without.

The ``message_path`` transcript through the same replay path. On the "with" side every rule
a message can fire asks for the sender's layer (``if: {layers: [...]}``, every layer a
present member can be in, so the rule still fires) and has a twin ahead of it that asks for a
tag nobody has (``if: {tags: [VIP]}``, so every such message also pays a tag lookup and
falls through to the rule). The replies are the same; only the conditions cost. Rounds
alternate; each side's fastest counts.

Baseline: the same rules without conditions, in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from bench.core import BenchContext, Result, Target
from bench.generate import START, ConfigSpec, TranscriptSpec, make_config, transcript
from bench.message_path import Side, fastest_alternating
from bot.runtime import RunOptions
from core.layers import Layer

NAME = "conditions"
PRESENT = [layer.value for layer in Layer if layer is not Layer.LEFT]


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


def with_conditions(config: str) -> str:
    """``config`` with a layer condition on every message rule and a tag-asking twin ahead."""
    ours: dict[str, Any] = yaml.safe_load(config)
    rules = []
    for rule in ours["rules"]:
        if "event" in rule["when"]:
            rules.append(rule)
            continue
        conditions = {**rule.get("if", {}), "layers": PRESENT}
        twin = {
            "name": f"{rule['name']}·VIP",
            "when": rule["when"],
            "priority": rule.get("priority", 0) + 1,
            "if": {"tags": ["VIP"]},
            "do": {"action": "reply", "text": "VIP 专属"},
        }
        rules += [twin, {**rule, "if": conditions}]
    ours["rules"] = rules
    return yaml.safe_dump(ours, allow_unicode=True, sort_keys=False, width=200)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    plain = make_config(ConfigSpec(groups=p.groups))
    lines = transcript(
        TranscriptSpec(groups=p.groups, members=p.members, events=p.events), ctx.seed, START
    )
    sides = {"without": Side(plain), "with": Side(with_conditions(plain))}
    best = fastest_alternating(ctx, NAME, lines, sides, p.rounds, p.batch_size)
    rate = {side: len(lines) / wall for side, wall in best.items()}
    return [
        Result(
            NAME,
            "message path, layer and tag conditions",
            rate["with"],
            "events/s",
            rate["without"],
            "the same rules without conditions",
            (Target(">=", 1 / 1.05, on="ratio"),),
            {
                "events": len(lines),
                "rounds": p.rounds,
                "cost_with_over_without": round(best["with"] / best["without"], 3),
            },
        )
    ]
