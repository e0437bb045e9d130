"""[encryption] The message path with member data sealed at rest, against unsealed.

The same generated transcript as ``message_path`` (chatter, check-ins, FAQ questions, joins)
through the same replay path, once storing names and texts as given and once sealing them
with AES-GCM under a data key (every interaction text, name and outbox message). Rounds
alternate so load drifting on a shared machine hits both; each side's fastest counts.

Baseline: the message path without a key, in the same run.
"""

from __future__ import annotations

from bench.core import BenchContext, Result
from bench.on_off import Comparison, Params, Side, compare
from storage.encryption import DataKeys, new_key

NAME = "encryption"


COMPARISON = Comparison(
    NAME,
    "message path, member data sealed",
    "the same, unsealed",
    1.15,
    lambda plain: (Side(plain, DataKeys.from_texts(new_key(), None)), Side(plain)),
)


def run(ctx: BenchContext, params: Params | None = None) -> list[Result]:
    return compare(ctx, COMPARISON, params)
