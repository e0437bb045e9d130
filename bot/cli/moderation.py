"""``qunbot moderation log``: every strike, what the ladder did about it, and pardons."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bot.cli.common import config_option, db_option, main, operator
from bot.cli.members import served_rooms


@main.group()
def moderation() -> None:
    """Group rules enforced: the strikes the ladder recorded (operators)."""


@moderation.command("log")
@click.option("--group", default=None, help="One group (id or configured topic).")
@click.option("--member", default=None, help="One member's strikes (their id).")
@click.option("--limit", default=50, show_default=True, help="How many strikes, newest first.")
@config_option
@db_option
def moderation_log(
    group: str | None,
    member: str | None,
    limit: int,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Strikes newest first: when (group's zone), group, member, rule, step, what was found."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        room = served_rooms(session, tx, group)[0] if group is not None else None
        strikes = tx.strike_log(room, member, limit)
        zone_of = session.ruleset.zone_of
        table = Table("when", "group", "member", "rule", "step", "until", "found", "pardoned")
        for s in strikes:
            zone = zone_of(s.group)
            table.add_row(
                f"{s.at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
                s.group,
                f"{s.name} ({s.member})" if s.name != s.member else s.member,
                f"{s.rule}: {s.reason}",
                s.step,
                f"{s.until.astimezone(zone):%m-%d %H:%M}" if s.until else "",
                s.evidence,
                f"{s.pardoned_by} {s.pardoned_at.astimezone(zone):%m-%d %H:%M}"
                if s.pardoned_at
                else "",
            )
    if not strikes:
        click.echo("no strikes recorded")
        return
    Console(width=200).print(table)
