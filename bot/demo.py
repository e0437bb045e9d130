"""``qunbot demo``: a day in a sample group, played through the replay path, then what was kept."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.adapters.replay import ReplayAdapter
from bot.app import Bot
from bot.clock import FakeClock
from bot.report.tables import group_report
from bot.runtime import RunOptions
from core.effects import Effect
from core.events import Event, EventKind
from core.resources import demo_transcript_path


def local_day(bot: Bot, group: str, at: datetime) -> date:
    return at.astimezone(bot.ruleset.zone_of(group)).date()


def local_time(bot: Bot, group: str, at: datetime) -> str:
    return f"{at.astimezone(bot.ruleset.zone_of(group)):%m-%d %H:%M}"


class DemoAdapter(ReplayAdapter):
    """The replay adapter, keeping each line and reply to show them as a chat, in time order.

    The runtime reads ahead of the dispatcher, so lines are shown after the run, merged by time.
    """

    def __init__(self, bot: Bot, clock: FakeClock) -> None:
        lines = demo_transcript_path().read_text(encoding="utf-8").splitlines()
        super().__init__(lines, sys.stdout, sys.stderr, clock)
        self._bot = bot
        self.shown: list[tuple[datetime, int, str]] = []

    def _show(self, at: datetime, text: str) -> None:
        self.shown.append((at, len(self.shown), text))

    def on_event(self, event: Event) -> None:
        when = local_time(self._bot, event.group, event.at)
        who = escape(event.name or event.member)
        if event.kind is EventKind.MESSAGE:
            self._show(event.at, f"[dim]{when}[/] [bold]{who}[/]: {escape(event.text)}")
        elif event.kind is EventKind.JOIN:
            by = f" (invited by {event.inviter})" if event.inviter else ""
            self._show(event.at, f"[dim]{when}[/] [green]→ {who} joined{by}[/]")
        elif event.kind is EventKind.LEAVE:
            self._show(event.at, f"[dim]{when}[/] [red]← {who} left[/]")

    async def perform(self, effect: Effect) -> None:
        when = local_time(self._bot, effect.group, effect.at)
        body = escape(effect.describe()).replace("\n", "\n            ")
        self._show(effect.at, f"[dim]{when}[/] [cyan]🤖 {body}[/]")


def play(bot: Bot, console: Console, report: Path | None = None) -> None:
    """Play the bundled day, summarise what the store holds, and write the operators'
    report of those days to ``report``."""
    console.rule("A day in 产品交流群 (transcript: bot/demo_day.jsonl)")
    clock = FakeClock(datetime.fromisoformat("2026-11-24T00:00:00+08:00"))
    adapter = DemoAdapter(bot, clock)
    bot.run(adapter, clock, RunOptions())
    for _, _, line in sorted(adapter.shown):
        console.print(line, highlight=False, soft_wrap=True)
    console.rule("What the store holds")
    with bot.store.transaction() as tx:
        summaries = tx.summaries()
        boards = {s.group: tx.leaderboard(s.group, None, 5) for s in summaries}
        unanswered = tx.unanswered()
        audited = list(reversed(tx.audit_log()))
    groups = Table(
        "group", "members", "messages", "joins", "leaves", "check-ins", "points", "unanswered"
    )
    for s in summaries:
        groups.add_row(
            f"{s.name} ({s.group})",
            *(
                str(n)
                for n in (
                    s.members,
                    s.messages,
                    s.joins,
                    s.leaves,
                    s.checkins,
                    s.points_granted,
                    s.unanswered,
                )
            ),
        )
    console.print(groups)
    for group, rows in boards.items():
        board = Table("#", "member", "points", title=f"Leaderboard, all time ({group})")
        for row in rows:
            board.add_row(str(row.rank), row.name, str(row.points))
        console.print(board)
    waiting = Table(
        "when", "group", "member", "question", title="Unanswered questions (for a human)"
    )
    for q in unanswered:
        waiting.add_row(local_time(bot, q.group, q.at), q.group, q.name, q.text)
    console.print(waiting)
    log = Table("who", "role", "action", "outcome", "detail", title="Audit log (admin actions)")
    for entry in audited:
        log.add_row(entry.actor, entry.role, entry.action, entry.outcome, entry.detail)
    console.print(log)
    if report is not None:
        from bot.report.html import render_html  # pygal: only for the report (8 MB)

        first = datetime.fromisoformat("2026-11-24").date()
        with bot.store.transaction() as tx:
            reports = [
                group_report(tx, bot.ruleset, s.group, first, local_day(bot, s.group, clock.now()))
                for s in summaries
            ]
        report.write_text(render_html(reports, datetime.now(UTC)), encoding="utf-8")
        console.print(f"Operators' report of these days (charts, offline): {report.resolve()}")
