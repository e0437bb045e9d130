"""``qunbot member export|delete|approve``: a member's right to see and to erase their data
(PIPL).

All are audited under ``--as``; the audit of an erasure names the tombstone, never the id it
replaced. With ``confirmations.member_data: another_admin`` an export or erasure is only a
request until an operator other than the one who asked approves it (``member approve``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli.common import BadRequest, actor_name, actor_option, config_option, db_option, operator
from bot.cli.members import member
from bot.operations import OperatorSession
from core.actors import Actor
from storage.store import StoreTx

EXPORT, DELETE = "member_export", "member_delete"


_out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the JSON here (default: standard output).",
)


@member.command("export")
@click.argument("member_id")
@_out_option
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
    who = Actor(actor_name(actor), "owner")
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        if not tx.member_data(member_id):
            raise BadRequest(f"nothing is stored about {member_id!r}")
        if _by_another(session):
            _ask(session, tx, EXPORT, member_id, who, now)
            return
        text = _export(session, tx, member_id, who, now)
    _write(text, member_id, out)


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
    who = Actor(actor_name(actor), "owner")
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        rows = sum(map(len, tx.member_data(member_id).values()))
        if not rows:
            raise BadRequest(f"nothing is stored about {member_id!r}")
        if _by_another(session):
            _ask(session, tx, DELETE, member_id, who, now)
            return
        if not yes:
            click.confirm(
                f"Erase {member_id}'s personal data from {rows} row(s)? This cannot be undone",
                abort=True,
            )
        click.echo(_erase(session, tx, member_id, who, now, rows))


@member.command("approve")
@click.argument("number", type=int)
@_out_option
@actor_option
@config_option
@db_option
def member_approve(
    number: int,
    out: Path | None,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Do request NUMBER (an export or erasure another operator asked for), once, in time."""
    now = datetime.now(UTC)
    who = Actor(actor_name(actor), "owner")
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        request = tx.pending(number)
        if request is None or request.kind not in (EXPORT, DELETE) or request.done_at:
            raise BadRequest(f"no export or erasure request #{number} waits for approval")
        if now >= request.expires_at:
            raise BadRequest(
                f"request #{number} expired at {request.expires_at:%Y-%m-%d %H:%M} UTC"
            )
        if request.requested_by == who.name:
            raise BadRequest(
                f"request #{number} was asked by {who.name}: another operator approves it (--as)"
            )
        tx.settle(number, who.name, now)
        with session.operations.audited(tx, who, "approve", f"#{number} {request.kind}", now):
            pass
        member_id = str(request.payload["member"])
        if request.kind == DELETE:
            rows = sum(map(len, tx.member_data(member_id).values()))
            click.echo(_erase(session, tx, member_id, who, now, rows))
            return
        text = _export(session, tx, member_id, who, now)
    _write(text, member_id, out)


def _by_another(session: OperatorSession) -> bool:
    return session.ruleset.config.confirmations.member_data == "another_admin"


def _ask(
    session: OperatorSession, tx: StoreTx, kind: str, member_id: str, who: Actor, now: datetime
) -> None:
    """Record the request; nothing about the member is read out or changed yet."""
    until = now + session.ruleset.config.confirmations.expires
    number = tx.ask(kind, "", {"member": member_id}, who.name, now, until)
    with session.operations.audited(tx, who, "member.request", f"#{number} {kind}", now):
        pass
    what = "export of" if kind == EXPORT else "erasure of"
    click.echo(
        f"request #{number}: the {what} {member_id} waits for another operator: "
        f"`qunbot member approve {number} --as NAME` before {until:%Y-%m-%d %H:%M} UTC"
    )


def _export(
    session: OperatorSession, tx: StoreTx, member_id: str, who: Actor, now: datetime
) -> str:
    data = tx.member_data(member_id)
    with session.operations.audited(tx, who, "member.export", member_id, now):
        pass
    return json.dumps(
        {"member": member_id, "exported_at": now.isoformat(), "tables": data},
        ensure_ascii=False,
        indent=2,
    )


def _write(text: str, member_id: str, out: Path | None) -> None:
    if out is None:
        click.echo(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    rows = sum(map(len, json.loads(text)["tables"].values()))
    click.echo(f"{rows} row(s) about {member_id} written to {out}")


def _erase(
    session: OperatorSession, tx: StoreTx, member_id: str, who: Actor, now: datetime, rows: int
) -> str:
    tombstone = tx.erase_member(member_id, now)
    with session.operations.audited(tx, who, "member.delete", tombstone, now):
        pass
    return f"erased: {member_id} is {tombstone} in {rows} row(s)"
