"""[encryption] The message path with member data sealed at rest, against unsealed.

The same generated transcript as ``message_path`` (chatter, check-ins, FAQ questions, joins)
through the same replay path, once storing names and texts as given and once sealing them
with AES-GCM under a data key (every interaction text, name and outbox message). Rounds
alternate so load drifting on a shared machine hits both; each side's fastest counts.

Baseline: the message path without a key, in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.core import BenchContext, Result, Target
from bench.generate import START, ConfigSpec, TranscriptSpec, make_config, transcript
from bench.message_path import Side, fastest_alternating
from bot.runtime import RunOptions
from storage.encryption import DataKeys, new_key

NAME = "encryption"


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


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    config = make_config(ConfigSpec(groups=p.groups))
    lines = transcript(
        TranscriptSpec(groups=p.groups, members=p.members, events=p.events), ctx.seed, START
    )
    keys = DataKeys.from_texts(new_key(), None)
    sides = {"plain": Side(config), "sealed": Side(config, keys)}
    best = fastest_alternating(ctx, NAME, lines, sides, p.rounds, p.batch_size)
    rate = {side: len(lines) / wall for side, wall in best.items()}
    return [
        Result(
            NAME,
            "message path, member data sealed",
            rate["sealed"],
            "events/s",
            rate["plain"],
            "the same, unsealed",
            (Target(">=", 1 / 1.15, on="ratio"),),
            {
                "events": len(lines),
                "rounds": p.rounds,
                "cost_sealed_over_plain": round(best["sealed"] / best["plain"], 3),
            },
        )
    ]
