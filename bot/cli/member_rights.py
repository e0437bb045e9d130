"""``qunbot member export|delete``: a member's right to see and to erase their data (PIPL).

Both are audited under ``--as``; the audit of an erasure names the tombstone, never the id
it replaced.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli.common import BadRequest, actor_name, actor_option, config_option, db_option, operator
from bot.cli.members import member
from core.actors import Actor


@member.command("export")
@click.argument("member_id")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the JSON here (default: standard output).",
)
@actor_option
@config_option
@db_option
def member_export(
    member_id: str,
    out: Path | None,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Everything stored about MEMBER_ID, table by table, as readable JSON."""
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        data = tx.member_data(member_id)
        if not data:
            raise BadRequest(f"nothing is stored about {member_id!r}")
        who = Actor(actor_name(actor), "owner")
        with session.operations.audited(tx, who, "member.export", member_id, now):
            pass
    text = json.dumps(
        {"member": member_id, "exported_at": now.isoformat(), "tables": data},
        ensure_ascii=False,
        indent=2,
    )
    if out is None:
        click.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"{sum(map(len, data.values()))} row(s) about {member_id} written to {out}")


@member.command("delete")
@click.argument("member_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@actor_option
@config_option
@db_option
def member_delete(
    member_id: str,
    yes: bool,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Erase MEMBER_ID's personal data everywhere: their id becomes a pseudonymous
    tombstone, what they wrote and their name are blanked, their tags dropped; group totals
    and other members' points stay as they were."""
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        rows = sum(map(len, tx.member_data(member_id).values()))
        if not rows:
            raise BadRequest(f"nothing is stored about {member_id!r}")
        if not yes:
            click.confirm(
                f"Erase {member_id}'s personal data from {rows} row(s)? This cannot be undone",
                abort=True,
            )
        who = Actor(actor_name(actor), "owner")
        tombstone = tx.erase_member(member_id, now)
        with session.operations.audited(tx, who, "member.delete", tombstone, now):
            pass
    click.echo(f"erased: {member_id} is {tombstone} in {rows} row(s)")
