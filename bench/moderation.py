"""[moderation] The message path with the sample config's group rules on, against off.

The same generated transcript as ``message_path`` (ordinary traffic: chatter, check-ins, FAQ
questions, joins) through the same replay path, once with the generated config and once
with the sample ``config.yaml``'s ``moderation:`` section and ``detect:`` rules added (links,
contacts, banned words, message types, floods). Rounds alternate off/on so load drifting on
a shared machine hits both; each side's fastest round counts.

Baseline: the message path with the group rules off, in the same run.
"""

from __future__ import annotations

from typing import Any

import yaml

from bench.core import BenchContext, Result
from bench.on_off import Comparison, Params, Side, compare
from core.resources import sample_config_path

NAME = "moderation"


def with_group_rules(config: str) -> str:
    """``config`` plus the sample's moderation section and its ``detect:`` rules."""
    sample: dict[str, Any] = yaml.safe_load(sample_config_path().read_text(encoding="utf-8"))
    ours: dict[str, Any] = yaml.safe_load(config)
    ours["moderation"] = sample["moderation"]
    ours["rules"] = [r for r in sample["rules"] if "detect" in r["when"]] + ours["rules"]
    return yaml.safe_dump(ours, allow_unicode=True, sort_keys=False, width=200)


def detect_rules(config: str) -> list[str]:
    return [r["name"] for r in yaml.safe_load(config)["rules"] if "detect" in r["when"]]


COMPARISON = Comparison(
    NAME,
    "message path, group rules on",
    "the same, group rules off",
    1.10,
    lambda plain: (Side(with_group_rules(plain)), Side(plain)),
    lambda on: {
        "group_rules": [
            r["name"] for r in yaml.safe_load(on.config)["rules"] if "detect" in r["when"]
        ]
    },
)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    return compare(ctx, COMPARISON, params)
