"""Detectors that watch the stream rather than one text: message types, QR codes in
pictures (read by the adapter), floods, repeats.

Flood and repeat counts live in memory per group and member (a restart forgives a flood
in progress); once a member trips one, their count starts over, so one flood is one
strike and not one per message that follows it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.events import ContentKind, Event
from triggers.moderation.config import Flood, Repeat
from triggers.text import normalize

_KEPT = 20_000  # members watched before the quiet ones are forgotten


@dataclass(frozen=True, slots=True)
class WatchedRule:
    index: int
    content: frozenset[ContentKind]
    flood: Flood | None
    repeat: Repeat | None
    qrcode: bool = False


class EventWatch:
    """Every rule's stream detectors; :meth:`observe` sees each message once."""

    def __init__(self, rules: Sequence[WatchedRule]) -> None:
        self._rules = tuple(rules)
        self._content = tuple(r for r in rules if r.content)
        self._qrcode = tuple(r for r in rules if r.qrcode)
        self._counted = tuple(r for r in rules if r.flood or r.repeat)
        spans = [r.flood.within for r in self._counted if r.flood] + [
            r.repeat.within for r in self._counted if r.repeat
        ]
        self._span = max(spans, default=timedelta(0))
        self._recent: dict[tuple[str, str], deque[tuple[datetime, str]]] = {}
        self._cap = _KEPT

    def __bool__(self) -> bool:
        return bool(self._rules)

    def observe(self, event: Event) -> dict[int, list[str]]:
        """Rule index → what tripped it, for this message."""
        found: dict[int, list[str]] = {}
        if event.content != "text":
            for rule in self._content:
                if event.content in rule.content:
                    found[rule.index] = [f"消息类型 {event.content}"]
            if event.codes:
                for rule in self._qrcode:
                    found.setdefault(rule.index, []).append(f"二维码 {event.codes[0][:100]}")
        if self._counted:
            self._count(event, found)
        return found

    def _count(self, event: Event, found: dict[int, list[str]]) -> None:
        key = (event.group, event.member)
        recent = self._recent.get(key)
        if recent is None:
            if len(self._recent) >= self._cap:
                self._forget(event.at)
            recent = self._recent[key] = deque()
        while recent and event.at - recent[0][0] > self._span:
            recent.popleft()
        text = normalize(event.text) if event.content == "text" else f"\0{event.content}"
        recent.append((event.at, text))
        tripped = False
        for rule in self._counted:
            if rule.flood is not None:
                since = event.at - rule.flood.within
                count = sum(1 for at, _ in recent if at >= since)
                if count >= rule.flood.messages:
                    found.setdefault(rule.index, []).append(
                        f"刷屏 {count} 条/{_span(rule.flood.within)}"
                    )
                    tripped = True
            if rule.repeat is not None and text:
                since = event.at - rule.repeat.within
                count = sum(1 for at, said in recent if at >= since and said == text)
                if count >= rule.repeat.times:
                    found.setdefault(rule.index, []).append(f"重复 {count} 次：{event.text[:30]}")
                    tripped = True
        if tripped:
            recent.clear()

    def _forget(self, now: datetime) -> None:
        quiet = [k for k, r in self._recent.items() if not r or now - r[-1][0] > self._span]
        for key in quiet:
            del self._recent[key]
        self._cap = max(_KEPT, 2 * len(self._recent))


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}小时"
    if seconds % 60 == 0:
        return f"{seconds // 60}分钟"
    return f"{seconds}秒"
