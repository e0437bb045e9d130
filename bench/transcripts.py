"""Deterministic generators for benchmark transcripts: community traffic as replay lines.

Seeded like ``bench.generate`` (whose vocabulary, FAQ and keyword specs they speak), so a
run is reproducible and no data file is checked in.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bench.generate import (
    START,
    chatter,
    faq_specs,
    keyword_specs,
    miss_topics,
    person_name,
    unanswerable,
)


def member_id(group: int, index: int) -> str:
    return f"m{group:04d}_{index:03d}"


@dataclass
class TranscriptSpec:
    groups: int = 100
    members: int = 500  # per group
    events: int = 200_000
    days: float = 3.0
    present: float = 0.9  # share of each group's roster in the group at the start
    faq_entries: int = 50


# Event mix of the message_path workload: kind -> weight.
MIX = {
    "chatter": 70,
    "checkin": 10,
    "question_hit": 5,
    "question_miss": 5,
    "points": 3,
    "leaderboard": 2,
    "join": 3,
    "leave": 2,
}
_CHECKIN_WORDS = ("签到", "签到", "打卡", "checkin")
_POINTS_WORDS = ("积分", "我的积分", "points")
_BOARD_WORDS = ("排行榜", "排行榜 本周", "排行榜 今日", "积分榜", "rank week")


@dataclass(frozen=True, slots=True)
class GenEvent:
    """A generated event: seconds after the start, and its replay-line fields."""

    offset: float
    fields: dict[str, Any]

    def line(self, start: datetime) -> str:
        at = (start + timedelta(seconds=self.offset)).isoformat()
        return json.dumps({"at": at, **self.fields}, ensure_ascii=False)


def events(spec: TranscriptSpec, seed: int) -> Iterator[GenEvent]:
    """A day-and-night of community traffic with the MIX above, as events in time order."""
    rng = random.Random(f"transcript:{seed}")
    faqs = faq_specs(spec.faq_entries)
    misses = miss_topics(200)
    names = {(g, m): person_name(rng) for g in range(spec.groups) for m in range(spec.members)}
    inside: list[list[int]] = []
    outside: list[list[int]] = []
    for _ in range(spec.groups):
        roster = list(range(spec.members))
        rng.shuffle(roster)
        cut = int(spec.members * spec.present)
        inside.append(roster[:cut])
        outside.append(roster[cut:])
    kinds, weights = zip(*MIX.items(), strict=True)
    mean_gap = spec.days * 86_400 / spec.events
    t = 0.0
    for _ in range(spec.events):
        t += rng.expovariate(1 / mean_gap)
        g = rng.randrange(spec.groups)
        group = f"g{g:04d}"
        kind = rng.choices(kinds, weights)[0]
        if kind == "join" and not outside[g]:
            kind = "leave"
        if kind == "leave" and len(inside[g]) < 2:
            kind = "join"
        if kind == "join":
            m = outside[g].pop(rng.randrange(len(outside[g])))
            inviter = rng.choice(inside[g]) if inside[g] and rng.random() < 0.5 else None
            inside[g].append(m)
            fields: dict[str, Any] = {
                "kind": "join",
                "group": group,
                "member": member_id(g, m),
                "name": names[g, m],
            }
            if inviter is not None:
                fields["inviter"] = member_id(g, inviter)
            yield GenEvent(t, fields)
            continue
        if kind == "leave":
            m = inside[g].pop(rng.randrange(len(inside[g])))
            outside[g].append(m)
            yield GenEvent(t, {"kind": "leave", "group": group, "member": member_id(g, m)})
            continue
        m = rng.choice(inside[g])
        if kind == "checkin":
            text = rng.choice(_CHECKIN_WORDS)
        elif kind == "question_hit":
            text = rng.choice(faqs).ask(rng)
        elif kind == "question_miss":
            text = unanswerable(rng, misses)
        elif kind == "points":
            text = rng.choice(_POINTS_WORDS)
        elif kind == "leaderboard":
            text = rng.choice(_BOARD_WORDS)
        else:
            text = chatter(rng)
        yield GenEvent(
            t,
            {
                "kind": "message",
                "group": group,
                "sender": member_id(g, m),
                "name": names[g, m],
                "text": text,
            },
        )


def transcript(spec: TranscriptSpec, seed: int, start: datetime = START) -> list[str]:
    """The transcript as replay lines (README, "Replay format")."""
    return [e.line(start) for e in events(spec, seed)]


def roster_transcript(groups: int, members: int, seed: int, keywords: int = 0) -> list[str]:
    """Every member of every group speaks once, in random order: fills the bot's caches.

    Texts follow the message mix (chatter, check-ins, FAQ questions, points queries), and
    some messages carry one of the first ``keywords`` generated keywords.
    """
    rng = random.Random(f"roster:{seed}")
    pairs = [(g, m) for g in range(groups) for m in range(members)]
    rng.shuffle(pairs)
    faqs = faq_specs(50)
    words = [k.word for k in keyword_specs(keywords)]
    lines = []
    t = 0.0
    for g, m in pairs:
        t += rng.expovariate(0.5)
        roll = rng.random()
        if roll < 0.1:
            text = rng.choice(_CHECKIN_WORDS)
        elif roll < 0.2:
            text = rng.choice(faqs).ask(rng)
        elif roll < 0.25:
            text = rng.choice(_POINTS_WORDS)
        elif roll < 0.3 and words:
            text = f"{chatter(rng)} {rng.choice(words)}"
        else:
            text = chatter(rng)
        fields = {
            "kind": "message",
            "group": f"g{g:04d}",
            "sender": member_id(g, m),
            "name": person_name(rng),
            "text": text,
        }
        lines.append(GenEvent(t, fields).line(START))
    return lines


# --- rule-scaling messages ----------------------------------------------------------------


def scaling_messages(count: int, seed: int, shared: int = 10) -> list[str]:
    """Fixed messages: chatter, keyword hits and FAQ questions about the first ``shared``
    keywords and entries (present at every size), and questions nothing answers."""
    rng = random.Random(f"scaling:{seed}")
    keywords = [k.word for k in keyword_specs(shared)]
    faqs = faq_specs(shared)
    misses = miss_topics(50)
    texts: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.55:
            text = chatter(rng)
        elif roll < 0.70:
            text = f"{chatter(rng)} {rng.choice(keywords)} 怎么弄"
        elif roll < 0.85:
            text = rng.choice(faqs).ask(rng)
        elif roll < 0.95:
            text = unanswerable(rng, misses)
        else:
            text = rng.choice(("签到", "积分", "排行榜 本周"))
        texts.append(text)
    return texts
