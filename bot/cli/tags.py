"""Operators' tags on members: ``tag add|remove|list`` (audited, like every admin action)."""

from __future__ import annotations

from datetime import UTC, datetime
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
from core.actors import Actor
from storage.tags import MAX_TAG_CHARS, TagSource
from triggers.schema_types import parse_duration

_group_option = click.option("--group", default=None, help="One group (id or configured topic).")


def _checked_tag(tag: str) -> str:
    tag = tag.strip()
    if not tag or len(tag) > MAX_TAG_CHARS:
        raise BadRequest(f"a tag is 1 to {MAX_TAG_CHARS} characters (got {tag!r})")
    return tag


@main.group()
def tag() -> None:
    """Tag members (意向:瓷砖, VIP), take tags off, list them (operators)."""


@tag.command("add")
@click.argument("member_id")
@click.argument("name")
@_group_option
@click.option("--for", "lasting", default=None, help="Expire after this long, e.g. 30d or 2h.")
@actor_option
@config_option
@db_option
def tag_add(
    member_id: str,
    name: str,
    group: str | None,
    lasting: str | None,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Tag a member in a group (every group they are in, without --group)."""
    name = _checked_tag(name)
    try:
        span = parse_duration(lasting) if lasting is not None else None
    except (ValueError, ValidationError) as error:
        raise BadRequest(f"--for {lasting!r}: {error}") from None
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        rooms = [g for g in served_rooms(session, tx, group) if tx.current_members(g, member_id)]
        if not rooms:
            raise BadRequest(f"no member {member_id!r} in {group or 'any group'}")
        for room in rooms:
            who = Actor(actor_name(actor), "operator", room)
            detail = f"{member_id} {name}" + (f" for {lasting}" if lasting else "")
            with session.operations.audited(tx, who, "tag", detail, now):
                until = now + span if span is not None else None
                tx.tag(room, member_id, name, TagSource.ADMIN, now, until, who.name)
    click.echo(f"tagged {member_id} {name} in {', '.join(rooms)}")


@tag.command("remove")
@click.argument("member_id")
@click.argument("name")
@_group_option
@actor_option
@config_option
@db_option
def tag_remove(
    member_id: str,
    name: str,
    group: str | None,
    actor: str | None,
    config_path: Path | None,
    db_url: str | None,
) -> None:
    """Take a tag off a member (in every group, without --group)."""
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        removed = []
        for room in served_rooms(session, tx, group):
            if name not in tx.tags_of(room, member_id, now):
                continue
            who = Actor(actor_name(actor), "operator", room)
            with session.operations.audited(tx, who, "untag", f"{member_id} {name}", now):
                tx.untag(room, member_id, name)
            removed.append(room)
    if not removed:
        raise BadRequest(f"{member_id!r} has no tag {name!r} in {group or 'any group'}")
    click.echo(f"removed {name} from {member_id} in {', '.join(removed)}")


@tag.command("list")
@_group_option
@click.option("--tag", "only", default=None, help="Only this tag.")
@config_option
@db_option
def tag_list(
    group: str | None, only: str | None, config_path: Path | None, db_url: str | None
) -> None:
    """Live tags (expired ones are gone): group, member, tag, source, set by, expiry."""
    now = datetime.now(UTC)
    table = Table("group", "member", "tag", "source", "set by", "expires (UTC)")
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        for room in served_rooms(session, tx, group):
            for row in tx.tag_rows(room, now, only):
                expires = f"{row.expires_at:%Y-%m-%d %H:%M}" if row.expires_at else ""
                table.add_row(room, row.member, row.tag, row.source, row.set_by or "", expires)
    Console().print(table)
