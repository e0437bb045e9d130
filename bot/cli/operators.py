"""Operators' commands beside the running bot: ``broadcast …`` and ``audit``.

They go through the operations layer, as chat commands do: the same checks, the same
audit log, and no bot started to run them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
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
from bot.operations import OperatorSession
from core.actors import Actor
from storage.broadcasts import BroadcastRow
from storage.layers import MemberLayer
from storage.store import StoreTx
from triggers.broadcasts import BroadcastError, BroadcastRequest, Broadcasts, parse_groups
from triggers.segments import Segment, SegmentError, parse_segment
from triggers.text_files import NotUtf8, read_utf8


def _operator_actor(name: str | None) -> Actor:
    return Actor(actor_name(name), "operator")


@main.group()
def broadcast() -> None:
    """Schedule messages to groups, see their delivery, cancel them (operators)."""


@broadcast.command("add")
@config_option
@db_option
@click.option("--groups", default=None, help="Comma-separated group ids.")
@click.option("--all", "to_all", is_flag=True, help="Every group the bot serves (asks to confirm).")
@click.option(
    "--at",
    "at_text",
    default=None,
    help="'YYYY-MM-DD HH:MM' in the config's time zone (default: now).",
)
@click.option(
    "--cron", default=None, help="A crontab line for a recurring broadcast, e.g. '0 20 * * 5'."
)
@click.option(
    "--text",
    default=None,
    help="The message (a template: {{ group.name }}, {{ group.members }}, {{ now }}).",
)
@click.option(
    "--template",
    "template_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Read the message template from a file.",
)
@click.option(
    "--segment",
    "segment_text",
    default=None,
    help="Only these members, @mentioned: layer=<layer> and/or tag=<tag>, e.g. layer=quiet "
    "(default groups: every group that has such members).",
)
@click.option("--yes", is_flag=True, help="Do not ask before a broadcast to every group.")
@actor_option
def broadcast_add(
    config_path: Path | None,
    db_url: str | None,
    groups: str | None,
    to_all: bool,
    at_text: str | None,
    cron: str | None,
    text: str | None,
    template_file: Path | None,
    segment_text: str | None,
    yes: bool,
    actor: str | None,
) -> None:
    """Schedule a broadcast."""
    if groups is not None and to_all:
        raise click.UsageError("give --groups or --all, not both")
    if groups is None and not to_all and segment_text is None:
        raise click.UsageError("give either --groups or --all (or a --segment)")
    try:
        segment = parse_segment(segment_text) if segment_text is not None else None
    except SegmentError as error:
        raise click.BadParameter(str(error), param_hint="--segment") from None
    if (text is None) == (template_file is None):
        raise click.UsageError("give either --text or --template")
    if at_text is not None and cron is not None:
        raise click.UsageError("give --at or --cron, not both")
    try:
        body = text if text is not None else read_utf8(template_file)  # type: ignore[arg-type]
    except NotUtf8 as error:
        raise click.BadParameter(f"{template_file}: {error}", param_hint="--template") from None
    with operator(config_path, db_url) as session:
        now = datetime.now(UTC)
        at = _parse_at(at_text, ZoneInfo(session.ruleset.config.timezone))
        targets = None if groups is None else parse_groups(groups)
        request = BroadcastRequest(text=body, groups=targets, at=at, cron=cron, segment=segment)
        broadcasts = session.operations.broadcasts
        with session.store.transaction() as tx:
            served = session.ruleset.served_groups(tx)
            rooms = [session.ruleset.room_of(g) for g in targets] if targets else served
            reached = (
                broadcasts.reached(tx, segment, [r for r in rooms if r in served], now)
                if segment is not None
                else {}
            )
        if segment is not None:
            _confirm_segment(session, segment, reached, yes)
        elif to_all and not yes:
            click.confirm(f"Send to all {len(served)} group(s)?", abort=True)
        to_whom = f" to {segment}" if segment is not None else ""
        detail = f"{groups or 'all'}{to_whom} {at_text or cron or 'now'}: {body[:200]}"
        with session.store.transaction() as tx:
            try:
                with session.operations.audited(
                    tx, _operator_actor(actor), "broadcast", detail, now
                ):
                    number = broadcasts.create(tx, request, actor_name(actor), now, confirmed=True)
            except BroadcastError as error:
                failure = str(error)
            else:
                failure = ""
                row = tx.broadcast(number)
                to = _describe_groups(broadcasts, tx, targets)
        if failure:
            raise BadRequest(failure)
        assert row is not None
        click.echo(f"broadcast #{number} scheduled for {_describe_when(row)} to {to}{to_whom}")


def _confirm_segment(
    session: OperatorSession, segment: Segment, reached: dict[str, list[MemberLayer]], yes: bool
) -> None:
    """Say whom a segment reaches now; ask first when that is more than the config allows."""
    size = sum(map(len, reached.values()))
    click.echo(f"{segment}: {size} member(s) in {len(reached)} group(s) now")
    above = session.ruleset.config.confirmations.segment_above
    if above is not None and size > above and not yes:
        click.confirm(f"@mention {size} member(s) (more than {above})?", abort=True)


def _parse_at(text: str | None, zone: ZoneInfo) -> datetime | None:
    if text is None or text.strip().lower() == "now":
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"expected 'YYYY-MM-DD HH:MM', got {text!r}", param_hint="--at"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@broadcast.command("list")
@config_option
@db_option
def broadcast_list(config_path: Path | None, db_url: str | None) -> None:
    """Every broadcast with its status and delivery counts."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        broadcasts = session.operations.broadcasts
        table = Table("#", "status", "when", "groups", "by", "sent", "pending", "failed")
        for row in tx.broadcasts():
            counts = tx.outbox_counts(row.id)
            table.add_row(
                str(row.id),
                row.status,
                _describe_when(row),
                _describe_groups(broadcasts, tx, row.groups),
                row.created_by,
                str(counts.sent),
                str(counts.pending),
                str(counts.failed),
            )
        Console().print(table)


def _describe_groups(broadcasts: Broadcasts, tx: StoreTx, groups: Sequence[str] | None) -> str:
    return "all groups" if groups is None else ", ".join(broadcasts.labels(tx, groups))


def _describe_when(row: BroadcastRow) -> str:
    """When a broadcast goes out, in its own zone, named (operators may sit elsewhere)."""
    if row.cron is not None:
        return f"cron {row.cron} ({row.timezone})"
    assert row.at is not None
    return f"{row.at.astimezone(ZoneInfo(row.timezone)):%Y-%m-%d %H:%M} ({row.timezone})"


@broadcast.command("show")
@click.argument("number", type=int)
@config_option
@db_option
def broadcast_show(number: int, config_path: Path | None, db_url: str | None) -> None:
    """One broadcast and its delivery in each group."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        row = _existing(tx, number)
        click.echo(f"#{row.id} {row.status} · {_describe_when(row)} · by {row.created_by}")
        click.echo(f"text: {row.text}")
        delivered = {d.group: d for d in tx.deliveries(row.id)}
        zone = ZoneInfo(row.timezone)
        table = Table("group", "status", f"sent at ({row.timezone})", "error")
        for group in session.operations.broadcasts.targets(tx, row):
            d = delivered.get(group)
            table.add_row(
                group,
                d.status if d else "not yet",
                f"{d.sent_at.astimezone(zone):%Y-%m-%d %H:%M:%S}" if d and d.sent_at else "",
                (d.error or "") if d else "",
            )
        Console().print(table)


def _existing(tx: StoreTx, number: int) -> BroadcastRow:
    row = tx.broadcast(number)
    if row is None:
        raise click.ClickException(f"no broadcast #{number}")
    return row


@broadcast.command("cancel")
@click.argument("number", type=int)
@config_option
@db_option
@actor_option
def broadcast_cancel(
    number: int, config_path: Path | None, db_url: str | None, actor: str | None
) -> None:
    """Cancel a broadcast; messages not sent yet are withdrawn."""
    with operator(config_path, db_url) as session:
        now = datetime.now(UTC)
        with session.store.transaction() as tx:
            try:
                with session.operations.audited(
                    tx, _operator_actor(actor), "cancel", f"#{number}", now
                ):
                    withdrawn = session.operations.broadcasts.cancel(tx, number, now)
            except BroadcastError as error:
                failure = str(error)
            else:
                failure = ""
        if failure:
            raise click.ClickException(failure)
        click.echo(f"broadcast #{number} cancelled; {withdrawn} unsent message(s) withdrawn")


@broadcast.command("preview")
@click.argument("number", type=int)
@click.option("--group", default=None, help="Render for this group (default: its first).")
@config_option
@db_option
def broadcast_preview(
    number: int, group: str | None, config_path: Path | None, db_url: str | None
) -> None:
    """Render a broadcast for one group, without sending anything."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        row = _existing(tx, number)
        broadcasts = session.operations.broadcasts
        targets = broadcasts.targets(tx, row)
        chosen = group or (targets[0] if targets else None)
        if chosen is None:
            raise click.ClickException("the broadcast has no groups to render for")
        zone = session.ruleset.zone_of(chosen)
        messages = broadcasts.messages(tx, row, chosen, datetime.now(UTC), zone)
        if not messages:
            click.echo(f"--- #{number} for {chosen}: nobody there is in {row.segment} now ---")
        for n, (text, _) in enumerate(messages, start=1):
            part = f" ({n}/{len(messages)})" if len(messages) > 1 else ""
            click.echo(f"--- #{number} for {chosen}{part} ---\n{text}")


@main.command()
@click.option("--limit", default=50, show_default=True, help="How many entries, newest first.")
@config_option
@db_option
def audit(limit: int, config_path: Path | None, db_url: str | None) -> None:
    """The audit log: every admin action, who, what, when, where, and how it ended."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        table = Table("when (UTC)", "who", "role", "action", "group", "outcome", "detail")
        for e in tx.audit_log(limit):
            table.add_row(
                f"{e.at:%Y-%m-%d %H:%M:%S}",
                e.actor,
                e.role,
                e.action,
                e.group or "",
                e.outcome,
                e.detail[:60],
            )
        Console().print(table)


@main.command()
@click.option("--limit", default=50, show_default=True, help="How many alerts, newest first.")
@config_option
@db_option
def alerts(limit: int, config_path: Path | None, db_url: str | None) -> None:
    """Alerts to the operators: churn risks and questions nobody answered in time."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        table = Table("when (UTC)", "kind", "group", "sent", "alert")
        for a in tx.alert_log(limit):
            table.add_row(
                f"{a.at:%Y-%m-%d %H:%M}", a.kind, a.group, "yes" if a.sent else "no", a.text
            )
        Console().print(table)


@main.group()
def outbox() -> None:
    """Messages the platform refused: list them, send them again (operators)."""


@outbox.command("failed")
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
@config_option
@db_option
def outbox_failed(limit: int, config_path: Path | None, db_url: str | None) -> None:
    """Failed messages with the reason the platform gave."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        failed = tx.failed_messages(limit)
        labels = session.operations.broadcasts.labels(tx, [m.group for m in failed])
    for message, label in zip(failed, labels, strict=True):
        click.echo(
            f"#{message.id} {label} · decided {message.decided_at:%Y-%m-%d %H:%M:%S} UTC · "
            f"{message.attempts} attempt(s) · rule {message.rule or '-'}\n"
            f"    reason: {message.error or 'unknown'}\n    text: {message.text[:200]}"
        )
    if not failed:
        click.echo("no failed messages")


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Every failed message.")
@config_option
@db_option
@actor_option
def outbox_retry(
    ids: tuple[int, ...],
    every: bool,
    config_path: Path | None,
    db_url: str | None,
    actor: str | None,
) -> None:
    """Queue failed messages again, with fresh attempts (the running bot sends them)."""
    if bool(ids) == every:
        raise click.UsageError("give message ids or --all")
    with operator(config_path, db_url) as session:
        now = datetime.now(UTC)
        detail = "all" if every else " ".join(f"#{n}" for n in ids)
        with (
            session.store.transaction() as tx,
            session.operations.audited(tx, _operator_actor(actor), "retry", detail, now),
        ):
            queued = tx.requeue(None if every else ids, now)
    missing = sorted(set(ids) - set(queued))
    click.echo(
        f"{len(queued)} message(s) queued again"
        + (f": #{', #'.join(map(str, queued))}" if queued else "")
    )
    if missing:
        raise BadRequest(f"not failed messages: {', '.join(map(str, missing))}")
