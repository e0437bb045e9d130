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

from typing import Any

import yaml

from bench.core import BenchContext, Result
from bench.on_off import Comparison, Params, Side, compare
from core.layers import Layer

NAME = "conditions"
PRESENT = [layer.value for layer in Layer if layer is not Layer.LEFT]


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


COMPARISON = Comparison(
    NAME,
    "message path, layer and tag conditions",
    "the same rules without conditions",
    1.05,
    lambda plain: (Side(with_conditions(plain)), Side(plain)),
)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    return compare(ctx, COMPARISON, params)
