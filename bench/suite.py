"""The workloads, in the order a full run plays them; each module's ``run(ctx)``."""

from __future__ import annotations

import importlib

from bench.core import Workload

WORKLOADS = (
    "message_path",
    "moderation",
    "encryption",
    "conditions",
    "checkin",
    "postgres",
    "rule_scaling",
    "faq",
    "latency",
    "briefing_fanout",
    "history",
    "memory",
    "startup",
)


def load(name: str) -> Workload:
    if name not in WORKLOADS:
        raise KeyError(name)
    module = importlib.import_module(f"bench.{name}")
    run: Workload = module.run
    return run
