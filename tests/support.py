"""Test helpers: time parsing, an event factory, config compiling and a transcript runner
that drives the real replay adapter, runtime and dispatcher."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.adapters.replay import ReplayAdapter
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from bot.runtime import RunOptions, run
from core.events import Event, EventKind
from storage.store import Store
from triggers.engine import Engine
from triggers.loader import compile_text
from triggers.ruleset import RuleSet


def at(text_: str) -> datetime:
    """An aware datetime from ISO text; Shanghai when no offset is given."""
    parsed = datetime.fromisoformat(text_)
    return parsed if parsed.tzinfo else datetime.fromisoformat(text_ + "+08:00")


def make_event(
    kind: str = "message",
    *,
    when: str = "2026-11-24T08:00:00+08:00",
    group: str = "g1",
    member: str = "alice",
    name: str = "",
    text_: str = "",
    inviter: str | None = None,
) -> Event:
    return Event(
        kind=EventKind(kind),
        group=group,
        at=at(when),
        member=member,
        name=name or member.capitalize(),
        text=text_,
        inviter=inviter,
    )


# The tests' own copy of the sample config and templates: a user who edits the repository's
# config.yaml or templates/ (as the README invites) must not change what the tests see.
SAMPLE_DIR = Path(__file__).resolve().parent / "fixtures" / "sample"
SAMPLE_CONFIG = SAMPLE_DIR / "config.yaml"


def ruleset_from(yaml_text: str, config_dir: Path = SAMPLE_DIR) -> RuleSet:
    """A config compiled as if it sat in ``config_dir``; its templates/ wins over the bundled."""
    return compile_text(yaml_text, "config.yaml", config_dir)


@dataclass
class Transcript:
    """What a replay produced: the bot's lines and the complaints on stderr."""

    said: list[dict[str, Any]]
    stderr: str

    @property
    def texts(self) -> list[str]:
        return [line["text"] for line in self.said if "remove" not in line]

    @property
    def removed(self) -> list[tuple[str, str]]:
        """(group, member) for each member the bot removed."""
        return [(line["group"], line["remove"]) for line in self.said if "remove" in line]


def message(when: str, sender: str, text_: str, group: str = "g1", **extra: Any) -> str:
    return json.dumps(
        {
            "at": at(when).isoformat(),
            "kind": "message",
            "group": group,
            "sender": sender,
            "name": extra.pop("name", sender.capitalize()),
            "text": text_,
            **extra,
        },
        ensure_ascii=False,
    )


def join(when: str, member: str, inviter: str | None = None, group: str = "g1") -> str:
    line: dict[str, Any] = {
        "at": at(when).isoformat(),
        "kind": "join",
        "group": group,
        "member": member,
        "name": member.capitalize(),
    }
    if inviter:
        line["inviter"] = inviter
    return json.dumps(line)


def leave(when: str, member: str, group: str = "g1") -> str:
    return json.dumps(
        {"at": at(when).isoformat(), "kind": "leave", "group": group, "member": member}
    )


def replay(
    ruleset: RuleSet, store: Store, lines: Sequence[str | bytes], batch_size: int = 256
) -> Transcript:
    """Drive lines through the replay adapter, the runtime and the dispatcher."""
    out, err = io.StringIO(), io.StringIO()
    clock = FakeClock(at("2000-01-01T00:00:00+00:00"))
    adapter = ReplayAdapter(lines, out, err, clock)
    dispatcher = Dispatcher(store, Engine(ruleset))
    outbox = Outbox(store, adapter, clock, Pacing.immediate(), ruleset.zone_of)
    asyncio.run(run(adapter, dispatcher, outbox, clock, RunOptions(batch_size=batch_size)))
    said = [json.loads(line) for line in out.getvalue().splitlines()]
    return Transcript(said=said, stderr=err.getvalue())


@contextmanager
def store_with_members(
    members: Iterable[str], seen: datetime, group: str = "g1"
) -> Iterator[Store]:
    """A fresh in-memory store where ``members`` were first seen in ``group`` at ``seen``
    (committed), closed afterwards."""
    store = Store("sqlite://")
    try:
        with store.transaction() as tx:
            for member in members:
                tx.observe(group, member, seen)
        yield store
    finally:
        store.close()
