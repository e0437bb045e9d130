"""Operators' view of the members: ``members`` (a segment by layer) and ``member show``.

Layers are computed as of now from the interaction log, so the view is current even
between the daily recomputations (which store them and record each change).
"""

from __future__ import annotations

import csv
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bot.cli.common import BadRequest, config_option, db_option, main, operator
from bot.operations import OperatorSession
from core.layers import Layer
from storage.layers import MemberLayer
from storage.store import StoreTx
from triggers.segments import Segment

_COLUMNS = ("group", "member", "name", "layer", "points", "joined", "inviter", "last seen")


def served_rooms(session: OperatorSession, tx: StoreTx, group: str | None) -> list[str]:
    """The rooms a command covers: ``group`` (id or topic), else every served one."""
    served = session.ruleset.served_groups(tx)
    if group is None:
        return served
    room = session.ruleset.room_of(group)
    if room not in served:
        raise BadRequest(f"no group {group!r} here; groups: {', '.join(served) or 'none yet'}")
    return [room]


def _today(session: OperatorSession, group: str, on: datetime | None) -> date:
    """The day to judge layers on: ``--on``, else today in the group's zone."""
    return on.date() if on is not None else datetime.now(session.ruleset.zone_of(group)).date()


def _layers_on(session: OperatorSession, tx: StoreTx, group: str, today: date) -> list[MemberLayer]:
    zone = session.ruleset.zone_of(group)
    return tx.member_layers(group, zone, today, session.ruleset.layer_thresholds)


_on_option = click.option(
    "--on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Judge layers as of this day, YYYY-MM-DD (default: today in each group's zone).",
)


def _row(group: str, m: MemberLayer) -> tuple[str, ...]:
    return (
        group,
        m.member,
        m.name,
        m.layer.value,
        str(m.points),
        m.facts.joined.isoformat() if m.facts.joined else "",
        m.inviter or "",
        m.facts.last_active.isoformat() if m.facts.last_active else "",
    )


@main.command()
@click.option(
    "--layer",
    type=click.Choice([layer.value for layer in Layer]),
    default=None,
    help="Only members in this layer.",
)
@click.option("--group", default=None, help="One group (id or configured topic).")
@click.option("--tag", default=None, help="Only members with this (unexpired) tag.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True
)
@_on_option
@config_option
@db_option
def members(
    layer: str | None,
    group: str | None,
    tag: str | None,
    fmt: str,
    on: datetime | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """List members with their layer (new, core, active, quiet, churning, left) as of now."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        now = datetime.now(UTC)
        rows = []
        segment = Segment(Layer(layer) if layer else None, tag)
        thresholds = session.ruleset.layer_thresholds
        for g in served_rooms(session, tx, group):
            zone, today = session.ruleset.zone_of(g), _today(session, g, on)
            rows += [_row(g, m) for m in segment.members(tx, g, zone, thresholds, now, today)]
    if fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(_COLUMNS)
        writer.writerows(rows)
        return
    table = Table(*_COLUMNS)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    click.echo(f"{len(rows)} member(s)")


@main.group()
def member() -> None:
    """One member: their picture (operators), their data exported or erased (owner)."""


@member.command("show")
@click.argument("member_id")
@click.option("--group", default=None, help="One group (id or configured topic).")
@_on_option
@config_option
@db_option
def member_show(
    member_id: str,
    group: str | None,
    on: datetime | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Layer, tags, points, streak, joined, inviter, members invited, last seen, messages
    in the last 7/30/90 days."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        found = False
        for g in served_rooms(session, tx, group):
            today = _today(session, g, on)
            mine = [m for m in _layers_on(session, tx, g, today) if m.member == member_id]
            if not mine:
                continue
            found = True
            m = mine[0]
            zone = session.ruleset.zone_of(g)
            standing = tx.standing(g, member_id, today)
            counts = tx.message_counts(g, member_id, zone, today, (7, 30, 90))
            invited = tx.invited_count(g, member_id)
            click.echo(f"{m.name} ({member_id}) in {session.ruleset.display_name(tx, g)} [{g}]")
            for label, value in (
                ("layer", m.layer.value),
                ("tags", ", ".join(tx.tags_of(g, member_id, datetime.now(UTC))) or "-"),
                ("points", f"{standing.balance} (rank {standing.rank})"),
                ("level", session.ruleset.levels.of(standing.balance).name),
                ("streak", f"{standing.streak} day(s), {standing.checkins} check-in(s)"),
                ("joined", m.facts.joined.isoformat() if m.facts.joined else "before the bot"),
                ("first seen", m.facts.first_seen.isoformat()),
                ("inviter", m.inviter or "-"),
                ("invited", str(invited)),
                ("last seen", m.facts.last_active.isoformat() if m.facts.last_active else "-"),
                ("messages", " / ".join(f"{counts[d]} in {d}d" for d in (7, 30, 90))),
            ):
                click.echo(f"  {label:<11}{value}")
        if not found:
            raise BadRequest(f"no member {member_id!r} in {group or 'any group'}")
