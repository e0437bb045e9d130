"""Generated replay transcripts: any text, any times and zones, DST edges, far jumps, bad lines.

Each transcript knows which of its lines the replay must report and skip (corrupt lines,
and valid lines that go back in time), so a test can check the report line for line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

# Longest transcript generated; the long run raises it (`QUNBOT_FUZZ_LINES`).
MAX_LINES = int(os.environ.get("QUNBOT_FUZZ_LINES", "40"))

# Instants just before a DST change somewhere in configs.ZONES (2026), plus plain ones.
STARTS = [
    datetime(2026, 10, 31, 12, 0, tzinfo=UTC),  # New York falls back on 1 Nov
    datetime(2026, 10, 24, 12, 0, tzinfo=UTC),  # Berlin falls back on 25 Oct
    datetime(2026, 3, 7, 12, 0, tzinfo=UTC),  # New York springs forward on 8 Mar
    datetime(2026, 3, 28, 12, 0, tzinfo=UTC),  # Berlin springs forward on 29 Mar
    datetime(2026, 4, 4, 12, 0, tzinfo=UTC),  # Lord Howe falls back half an hour on 5 Apr
    datetime(2026, 11, 23, 23, 40, tzinfo=UTC),  # an ordinary night in Shanghai
]
OFFSETS = ["+08:00", "-04:00", "-05:00", "+01:00", "+02:00", "+10:30", "+00:00", "+13:45"]
MEMBERS = ["alice", "bob", "carol", "x" * 300, "nul\x00id", "微信用户", "@bob", " "]
GROUPS = ["g1", "g2", "g3"]
SAYINGS = [
    "签到",
    "簽到",
    "签到！",
    "@bot 签到",
    "\u200b签到",
    "积分",
    "排行榜 本周",
    "rank week",
    "怎么申请退款？",
    "/grant @bob 5",
    "/grant bob 99999999999999999999999",
    "/grant bob -999999",
    "/grant bob ٣",
    "/broadcast now here {{ member.name }}",
    "/broadcast now here {% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
    "/broadcast now here {{ 'x' * 300000000 }}",
    "/broadcast now all hi",
    "/broadcast 2020-01-01 10:00 here past",
    "/confirm 1",
    "/cancel 1",
    "/reload",
    "a" * 30 + "!",
    "{{ 7 * 7 }}",
    "x" * 5000,
]
CORRUPT = [
    b"not json",
    b"{}",
    b'{"at": "2026-11-24T08:00:00+08:00", "kind": "message"}',
    b'{"at": "yesterday", "kind": "message", "group": "g1", "sender": "a", "text": "x"}',
    b'{"at": "2026-11-24T08:00:00", "kind": "message", "group": "g1", "sender": "a", "text": "x"}',
    b'{"at": "2026-11-24T08:00:00+08:00", "kind": "boom", "group": "g1", "sender": "a"}',
    b'{"at": "2026-11-24T08:00:00+08:00", "kind": "message", "group": "g1", "sender": "a", "text": "x", "extra": 1}',
    b"\xff\xfe\x00garbage",
    b'{"at": "2026-11-24T08:00:00+08:00", "kind": "message", "text": "\xff"}',
    b"[" * 5000,
]

gaps = st.one_of(
    st.integers(0, 120).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 36 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(1, 400).map(lambda d: timedelta(days=d)),
    st.integers(-3600, -1).map(lambda s: timedelta(seconds=s)),  # goes back in time: bad
    st.just(timedelta(days=365 * 7000)),  # a jump towards the end of the calendar
)


@dataclass
class Transcript:
    lines: list[bytes] = field(default_factory=list)
    bad: set[int] = field(default_factory=set)  # 1-based numbers the replay must skip
    accepted: int = 0

    @property
    def data(self) -> bytes:
        return b"\n".join(self.lines) + b"\n"


def _event(draw: st.DrawFn, when: datetime) -> dict[str, Any]:
    offset = draw(st.sampled_from(OFFSETS))
    sign = -1 if offset[0] == "-" else 1
    zone_delta = sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
    line: dict[str, Any] = {
        "at": (when + zone_delta).replace(tzinfo=None).isoformat() + offset,
        "group": draw(st.sampled_from(GROUPS)),
    }
    kind = draw(st.sampled_from(["message"] * 6 + ["join", "leave"]))
    member = draw(st.sampled_from(MEMBERS) | st.text(min_size=1, max_size=8))
    line["kind"] = kind
    if kind == "message":
        line["sender"] = member
        line["name"] = draw(st.sampled_from(MEMBERS) | st.text(max_size=300))
        line["text"] = draw(st.sampled_from(SAYINGS) | st.text(max_size=40))
        if draw(st.booleans()):
            line["mentions"] = draw(st.lists(st.sampled_from(MEMBERS), max_size=2))
    elif kind == "join":
        line["member"] = member
        line["name"] = draw(st.sampled_from(MEMBERS) | st.text(max_size=20))
        if draw(st.booleans()):
            line["inviter"] = draw(st.sampled_from(MEMBERS))
    else:
        line["member"] = member
    return line


@st.composite
def transcripts(draw: st.DrawFn, max_lines: int = MAX_LINES) -> Transcript:
    """Lines in time order with gaps of any size, interleaved with bad lines."""
    script = Transcript()
    clock = draw(st.sampled_from(STARTS))
    latest: datetime | None = None
    ceiling = datetime(9998, 6, 1, tzinfo=UTC)  # the clocks stop at 9999-01-01 (README)
    for number in range(1, draw(st.integers(1, max_lines)) + 1):
        if draw(st.integers(0, 9)) == 0:
            script.lines.append(draw(st.sampled_from(CORRUPT)))
            script.bad.add(number)
            continue
        gap = draw(gaps)
        clock = ceiling if gap > ceiling - clock else clock + gap
        line = _event(draw, clock)
        ascii_only = draw(st.booleans())
        text = json.dumps(line, ensure_ascii=ascii_only)
        # Lone surrogates in a name or text become bytes that are not UTF-8.
        script.lines.append(text.encode("utf-8", errors="surrogatepass"))
        if (not ascii_only and any(0xD800 <= ord(c) <= 0xDFFF for c in text)) or (
            latest is not None and clock < latest
        ):
            script.bad.add(number)
        else:
            latest = clock
            script.accepted += 1
    return script
