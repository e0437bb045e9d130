"""``qunbot report``: the operators' report over a span of local days, HTML or CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click

from bot.cli.common import BadRequest, config_option, db_option, main, operator
from bot.cli.members import served_rooms
from bot.report.tables import group_report

MAX_DAYS = 400


@main.command()
@click.option(
    "--days", default=30, show_default=True, help="The last N local days, today included."
)
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day.")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day.")
@click.option("--group", default=None, help="One group (id or configured topic).")
@click.option(
    "--format", "fmt", type=click.Choice(["html", "csv"]), default="html", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="The HTML file (default qunbot-report.html) or the CSV folder (default qunbot-report/).",
)
@config_option
@db_option
def report(
    days: int,
    first: datetime | None,
    last: datetime | None,
    group: str | None,
    fmt: str,
    out: Path | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Charts of each group: activity, active hours, layers, newcomers and inviters,
    check-ins, FAQ answered and unanswered, the points leaderboard."""
    made = datetime.now(UTC)
    end = last.date() if last is not None else None
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        reports = []
        for room in served_rooms(session, tx, group):
            to = end or made.astimezone(session.ruleset.zone_of(room)).date()
            start = first.date() if first is not None else to - timedelta(days=days - 1)
            _check_span(start, to)
            reports.append(group_report(tx, session.ruleset, room, start, to))
    # Imported here: pygal costs every other command 8 MB and 17 ms to load.
    from bot.report.html import render_html, write_csv

    if fmt == "csv":
        folder = out or Path("qunbot-report")
        written = write_csv(reports, folder)
        click.echo(f"{len(written)} table(s) written to {folder}/")
        return
    path = out or Path("qunbot-report.html")
    path.write_text(render_html(reports, made), encoding="utf-8")
    click.echo(f"report written to {path} (open it in any browser; it needs no network)")


def _check_span(start: date, end: date) -> None:
    if start > end:
        raise BadRequest(f"the first day {start} is after the last day {end}")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"at most {MAX_DAYS} days in one report (asked {(end - start).days + 1})")
