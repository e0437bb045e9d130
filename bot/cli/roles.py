"""``qunbot role``: roles handed out for a while, beside config.yaml's (grant, list, revoke).

The CLI is the server's own tool: whoever runs it acts as the owner (a grant is still never
for longer than MAX_GRANT), and every grant and revocation is audited under ``--as``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from bot.cli.common import (
    BadRequest,
    actor_name,
    actor_option,
    config_option,
    db_option,
    main,
    operator,
)
from bot.cli.members import served_rooms
from bot.operations import GRANTABLE, MAX_GRANT
from core.actors import Actor
from triggers.grants import GrantRefused
from triggers.schema_types import parse_duration

_group_option = click.option(
    "--group", default=None, help="One group (id or configured topic); default: every group."
)


@main.group()
def role() -> None:
    """Hand a member a role for a while, list the grants, revoke them (owner)."""


@role.command("grant")
@click.argument("member_id")
@click.argument("role_name", metavar="ROLE", type=click.Choice(GRANTABLE))
@click.option("--for", "lasting", required=True, help="How long, e.g. 2h, 3d (at most 90d).")
@_group_option
@actor_option
@config_option
@db_option
def role_grant(
    member_id: str,
    role_name: str,
    lasting: str,
    group: str | None,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Grant ROLE to MEMBER_ID for --for (in --group, or every group)."""
    try:
        span = parse_duration(lasting)
    except (ValueError, ValidationError) as error:
        raise BadRequest(f"--for {lasting!r}: {error}") from None
    if not timedelta(0) < span <= MAX_GRANT:
        raise BadRequest(f"--for {lasting!r}: more than 0 and at most {MAX_GRANT.days} days")
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        room = served_rooms(session, tx, group)[0] if group is not None else None
        who = Actor(actor_name(actor), "owner", room)
        detail = f"{member_id} {role_name} for {lasting} in {room or 'every group'}"
        with session.operations.audited(tx, who, "role", detail, now):
            try:
                until = session.operations.grant_role(
                    tx, who, member_id, role_name, room, span, now
                )
            except GrantRefused as refused:
                raise BadRequest(str(refused)) from None
    click.echo(
        f"{member_id} is {role_name} in {room or 'every group'} until {until:%Y-%m-%d %H:%M} UTC"
    )


@role.command("list")
@click.option("--all", "everything", is_flag=True, help="Also ended and revoked grants.")
@config_option
@db_option
def role_list(everything: bool, config_path: Path | None, db_url: str | None) -> None:
    """Grants newest first: member, role, where, by whom, from and until (UTC)."""
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        grants = tx.grant_log(now, current_only=not everything)
    if not grants:
        click.echo("no grants" if everything else "no grants running")
        return
    table = Table("member", "role", "group", "granted by", "from (UTC)", "until (UTC)")
    for g in grants:
        table.add_row(
            g.member,
            g.role,
            g.group or "every group",
            g.granted_by,
            f"{g.at:%Y-%m-%d %H:%M}",
            f"{g.until:%Y-%m-%d %H:%M}",
        )
    Console(width=160).print(table)


@role.command("revoke")
@click.argument("member_id")
@_group_option
@actor_option
@config_option
@db_option
def role_revoke(
    member_id: str,
    group: str | None,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """End MEMBER_ID's running grants (in --group, or everywhere)."""
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        room = served_rooms(session, tx, group)[0] if group is not None else None
        who = Actor(actor_name(actor), "owner", room)
        with session.operations.audited(tx, who, "unrole", f"{member_id} in {room or 'all'}", now):
            ended = session.operations.revoke_roles(tx, who, member_id, room, now)
    if not ended:
        raise BadRequest(f"{member_id} has no running grant in {group or 'any group'}")
    click.echo(f"revoked {ended} grant(s) of {member_id}")
