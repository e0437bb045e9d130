"""[faq] The FAQ search on its own: a 1,000-entry FAQ, µs per question.

Generated entries (two questions, a keyword for some, an answer each, as ``make_config``
writes them) and a fixed mix of asks: reworded questions about an entry (each should be
answered with it), questions nothing answers, and chatter. ``ruleset.faq.search`` as the
question trigger calls it (synonyms, answer words and the question detector included),
fastest of interleaved rounds. Baseline: the same asks against a 10-entry FAQ, so the
ratio says how flat the search stays as the FAQ grows.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from bench.core import BenchContext, Result
from bench.generate import ConfigSpec, chatter, faq_specs, make_config, miss_topics
from triggers.loader import compile_text
from triggers.ruleset import RuleSet

NAME = "faq"
# Questions about topics no entry is about (they should go unanswered).
_MISS_FRAMES = ("请问{t}怎么办？", "{t}在哪里弄", "有人知道{t}吗", "想问下{t}多少钱")


@dataclass(frozen=True, slots=True)
class Params:
    entries: int
    asks: int
    rounds: int

    @classmethod
    def full(cls) -> Params:
        return cls(entries=1_000, asks=2_000, rounds=5)

    @classmethod
    def quick(cls) -> Params:
        return cls(entries=200, asks=300, rounds=2)


def asks(count: int, entries: int, seed: int) -> list[tuple[str, str | None]]:
    """(text, the entry that should answer it or None), about entries present at any size."""
    rng = random.Random(f"faq:{seed}")
    specs = faq_specs(10)  # the first ten: in the small FAQ and the large one alike
    misses = miss_topics(50)
    out: list[tuple[str, str | None]] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.5:
            spec = rng.choice(specs)
            out.append((spec.ask(rng), spec.id))
        elif roll < 0.75:
            frame = rng.choice(_MISS_FRAMES)
            out.append((frame.format(t=rng.choice(misses)), None))
        else:
            out.append((chatter(rng), None))
    return out


def _ruleset(entries: int) -> RuleSet:
    text = make_config(
        ConfigSpec(groups=0, list_groups=False, faq_entries=entries, keyword_rules=0)
    )
    return compile_text(text, "config.yaml", None)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    mix = asks(p.asks, p.entries, ctx.seed)
    sizes = {10: _ruleset(10), p.entries: _ruleset(p.entries)}
    best: dict[int, float] = {}
    ctx.reporter.stage("FAQ search, 10 entries / large, interleaved", total=p.rounds * 2)
    for _ in range(p.rounds):
        for size, ruleset in sizes.items():
            search = ruleset.faq.search
            start = time.perf_counter()
            for text, _ in mix:
                search(text)
            took = (time.perf_counter() - start) / len(mix)
            best[size] = min(best.get(size, took), took)
            ctx.reporter.advance(1)
    large = sizes[p.entries].faq
    answered = [(large.search(text), expected) for text, expected in mix]
    right = sum(1 for hit, want in answered if want is not None and hit and hit.key == want)
    wanted = sum(1 for _, want in mix if want is not None)
    stray = sum(1 for hit, want in answered if want is None and hit is not None)
    return [
        Result(
            NAME,
            f"search, {p.entries:,} entries",
            best[p.entries] * 1e6,
            "µs/question",
            best[10] * 1e6,
            "the same asks, 10 entries",
            (),
            {
                "asks": len(mix),
                "answered_right": f"{right}/{wanted}",
                "others_answered": f"{stray}/{len(mix) - wanted}",
            },
        )
    ]
