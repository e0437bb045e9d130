"""[rule_scaling] Per-message cost of matching as the rule set grows.

``ruleset.matcher.match(text)`` (the matcher without its memo of short texts, which would
otherwise answer every round after the first): the command lookup, the Aho-Corasick keyword pass and
the FAQ index search (through a ``question: true`` rule), on one fixed set of messages,
with N keyword rules (half Chinese, half English) and N FAQ entries for each N. The sizes
are measured in interleaved rounds and each keeps its fastest round, so machine noise hits
every size alike. Baseline: the cost at the smallest size.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.core import BenchContext, Result, Target
from bench.generate import ConfigSpec, make_config
from bench.transcripts import scaling_messages
from triggers.loader import compile_text
from triggers.ruleset import RuleSet

NAME = "rule_scaling"
# The target (cost at this size ≤ 2 × cost at the smallest) is judged at this size only.
TARGET_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Params:
    sizes: tuple[int, ...]
    messages: int = 1_000
    rounds: int = 7

    @classmethod
    def full(cls) -> Params:
        return cls(sizes=(10, 100, 1_000, 10_000))

    @classmethod
    def quick(cls) -> Params:
        return cls(sizes=(10, 100, 1_000), messages=500, rounds=3)


def _time_per_message(ruleset: RuleSet, messages: list[str]) -> tuple[float, float]:
    """Seconds per message for the whole matcher, and for the FAQ search alone."""
    candidates = ruleset.matcher.match
    search = ruleset.faq.search
    start = time.perf_counter()
    for text in messages:
        candidates(text)
    middle = time.perf_counter()
    for text in messages:
        search(text)
    end = time.perf_counter()
    return (middle - start) / len(messages), (end - middle) / len(messages)


def _search_stats(ruleset: RuleSet, messages: list[str]) -> dict[str, float]:
    """FAQ hits, and (when the index reports them) the postings each search walked and the
    entries it re-scored, on average: what makes a search grow with the FAQ."""
    index = getattr(ruleset.faq, "_index", None)
    hits = walked = rescored = 0
    for text in messages:
        hits += ruleset.faq.search(text) is not None
        walked += getattr(index, "last_postings", 0)
        rescored += getattr(index, "last_candidates", 0)
    stats: dict[str, float] = {"faq_hits": hits}
    if hasattr(index, "last_postings"):
        stats["mean_postings_walked"] = round(walked / len(messages), 1)
        stats["mean_entries_rescored"] = round(rescored / len(messages), 2)
    return stats


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    p = params or (Params.quick() if ctx.quick else Params.full())
    messages = scaling_messages(p.messages, ctx.seed)
    rulesets: dict[int, RuleSet] = {}
    build_s: dict[int, float] = {}
    ctx.reporter.stage("compiling rule sets", total=len(p.sizes))
    for size in p.sizes:
        start = time.perf_counter()
        text = make_config(
            ConfigSpec(groups=0, list_groups=False, faq_entries=size, keyword_rules=size)
        )
        rulesets[size] = compile_text(text, f"rules-{size}.yaml", None)
        build_s[size] = time.perf_counter() - start
        ctx.reporter.advance()

    ctx.reporter.stage("matching (interleaved rounds)", total=p.rounds * len(p.sizes))
    best: dict[int, float] = dict.fromkeys(p.sizes, float("inf"))
    best_faq: dict[int, float] = dict.fromkeys(p.sizes, float("inf"))
    for _ in range(p.rounds):
        for size in p.sizes:
            whole, faq = _time_per_message(rulesets[size], messages)
            best[size] = min(best[size], whole)
            best_faq[size] = min(best_faq[size], faq)
            ctx.reporter.advance()

    hits = {size: _search_stats(rulesets[size], messages) for size in p.sizes}
    smallest, largest = min(p.sizes), max(p.sizes)
    results = []
    for size in p.sizes:
        results.append(
            Result(
                NAME,
                f"{size:,} rules + {size:,} FAQ",
                best[size] * 1e6,
                "µs/msg",
                best[smallest] * 1e6,
                f"cost at {smallest:,}",
                (Target("<=", 2.0, on="ratio"),) if size == largest >= TARGET_SIZE else (),
                {
                    "rules": len(rulesets[size].rules),
                    "faq_entries": len(rulesets[size].faq),
                    "faq_search_us": round(best_faq[size] * 1e6, 2),
                    **hits[size],
                    "messages": len(messages),
                    "build_s": round(build_s[size], 2),
                },
            )
        )
    return results
