"""The ``qunbot`` command: a thin click layer over the library.

Errors a user can cause (a bad config, a missing file) end as a clear message and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.table import Table

from bot import demo as demo_module
from bot.adapters.console import ConsoleAdapter
from bot.adapters.replay import ReplayAdapter
from bot.adapters.wechaty import (
    WechatyAdapter,
    WechatyRefused,
    WechatySettings,
    WechatyUnavailable,
    list_rooms,
    load_client,
)
from bot.app import Bot, open_bot
from bot.clock import FakeClock, OffsetClock, SystemClock
from bot.logs import configure
from bot.runtime import RunOptions
from bot.settings import Settings
from core.jobs import JobId
from core.resources import sample_config_path
from storage.broadcasts import BroadcastRow
from storage.db import DatabaseUrlError
from storage.store import StoreTx
from triggers.broadcasts import (
    BroadcastError,
    BroadcastRequest,
    Broadcasts,
    parse_groups,
)
from triggers.config import QunbotConfig
from triggers.loader import ConfigError, load_ruleset
from triggers.text_files import NotUtf8, read_utf8

EXIT_CONFIG = 2


class BadRequest(click.ClickException):
    """An operator's arguments that cannot be done as asked: one line, the usage exit code."""

    exit_code = EXIT_CONFIG


_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Rules file (default: QUNBOT_CONFIG or config.yaml).",
)


@contextmanager
def _bot(config_path: Path, db_url: str | None) -> Iterator[Bot]:
    try:
        with open_bot(config_path, db_url) as bot:
            yield bot
    except ConfigError as error:
        _report(error)
        raise SystemExit(EXIT_CONFIG) from None
    except DatabaseUrlError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


def _report(error: ConfigError) -> None:
    for problem in error.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"{len(error.problems)} problem(s) in the config; nothing was run.", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """qunbot: a community-operations bot for WeChat groups.

    Start with `qunbot demo`, then edit config.yaml, `qunbot check` it and try your
    rules with `qunbot chat`.
    """


@main.command()
@_config_option
@click.option("--db", "db_url", default=None, help="Keep the demo's database at this URL.")
def demo(config_path: Path | None, db_url: str | None) -> None:
    """Play a day in a sample group and show what the store holds."""
    configure("WARNING")
    with _bot(config_path or sample_config_path(), db_url) as bot:
        demo_module.play(bot, Console(highlight=False))


@main.command()
@_config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: a throwaway one).")
@click.option("--group", default=None, help="Group to start in (default: the first configured).")
def chat(config_path: Path | None, db_url: str | None, group: str | None) -> None:
    """Try the rules interactively, playing members of a simulated group."""
    settings = Settings()
    configure("WARNING")
    with _bot(config_path or Path(settings.config), db_url) as bot:
        _run_console(bot, group)


def _run_console(bot: Bot, group: str | None, *, live: bool = False) -> None:
    """``live``: send through the paced outbox, as a real account would."""
    groups = bot.ruleset.config.groups
    start = group or (groups[0].key if groups else "g1")
    clock = OffsetClock()
    served = [g.key for g in groups]
    adapter = ConsoleAdapter(sys.stdin, sys.stdout, clock, bot.ruleset.zone_of, start, served)
    options = RunOptions(live_timers=True, background_outbox=live, drain_at_end=False)
    bot.run(adapter, clock, options, paced=live)


@main.command()
@click.argument("transcript", type=click.File("rb"))  # decoded line by line
@_config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: a throwaway one).")
def replay(transcript: BinaryIO, config_path: Path | None, db_url: str | None) -> None:
    """Play a JSONL transcript; print what the bot says as JSON lines."""
    settings = Settings()
    configure("WARNING")
    with _bot(config_path or Path(settings.config), db_url) as bot:
        clock = FakeClock(datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
        adapter = ReplayAdapter(transcript, sys.stdout, sys.stderr, clock)
        bot.run(adapter, clock, RunOptions())
    if adapter.bad_lines:
        click.echo(f"{adapter.bad_lines} bad line(s) skipped", err=True)


@main.command()
@click.argument("config_path", required=False, type=click.Path(path_type=Path, dir_okay=False))
def check(config_path: Path | None) -> None:
    """Validate a config file; report every problem with its line."""
    path = config_path or Path(Settings().config)
    try:
        ruleset = load_ruleset(path)
    except ConfigError as error:
        _report(error)
        raise SystemExit(EXIT_CONFIG) from None
    config = ruleset.config
    click.echo(
        f"{path}: OK — {len(ruleset.rules)} rule(s), {len(config.faq.entries)} FAQ entr"
        f"{'y' if len(config.faq.entries) == 1 else 'ies'}, {len(config.groups)} group(s)"
    )


@main.command()
def schema() -> None:
    """Print the JSON Schema of config.yaml (for editors' validation and completion)."""
    document = QunbotConfig.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "qunbot config.yaml"
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


_endpoint_option = click.option(
    "--endpoint",
    default=None,
    help="Puppet service host:port (default: WECHATY_PUPPET_SERVICE_ENDPOINT).",
)
_token_option = click.option(
    "--token", default=None, help="Puppet service token (default: WECHATY_PUPPET_SERVICE_TOKEN)."
)


@main.command(name="run")
@_config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: QUNBOT_DB_URL).")
@click.option(
    "--adapter",
    type=click.Choice(["console", "wechaty"]),
    default=None,
    help="Platform (default: QUNBOT_ADAPTER, else console).",
)
@_endpoint_option
@_token_option
def run_command(
    config_path: Path | None,
    db_url: str | None,
    adapter: str | None,
    endpoint: str | None,
    token: str | None,
) -> None:
    """Run the bot: the real clock, the persistent database, the paced outbox."""
    settings = Settings()
    configure(settings.log_level)
    config = config_path or Path(settings.config)
    if (adapter or settings.adapter) == "console":
        with _bot(config, db_url or settings.db_url) as bot:
            _run_console(bot, None, live=True)
        return
    wechaty = _wechaty_settings(settings, endpoint, token)
    with _bot(config, db_url or settings.db_url) as bot:
        clock = SystemClock()
        options = RunOptions(live_timers=True, background_outbox=True, drain_at_end=False)
        try:
            bot.run(WechatyAdapter(wechaty, clock), clock, options, paced=True, graceful=True)
        except WechatyRefused as error:
            raise click.ClickException(str(error)) from None


def _wechaty_settings(
    settings: Settings, endpoint: str | None, token: str | None
) -> WechatySettings:
    """The connection settings, or one clear error saying what is missing."""
    endpoint = endpoint or settings.puppet_endpoint
    token = token or settings.puppet_token
    if not token:
        raise click.ClickException(
            "the WeChat adapter needs a puppet service token: set WECHATY_PUPPET_SERVICE_TOKEN "
            "in .env (and WECHATY_PUPPET_SERVICE_ENDPOINT=host:port for a self-hosted service)"
        )
    try:
        load_client()
    except WechatyUnavailable as error:
        raise click.ClickException(str(error)) from None
    return WechatySettings(
        endpoint=endpoint,
        token=token,
        private_chats=settings.private_chats,
        status_file=Path(settings.status_file),
    )


@main.command()
@_endpoint_option
@_token_option
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the login.")
def groups(endpoint: str | None, token: str | None, timeout: float) -> None:
    """List the WeChat groups the account is in: ids, topics, member counts (for config.yaml)."""
    settings = Settings()
    configure("WARNING")
    wechaty = _wechaty_settings(settings, endpoint, token)
    try:
        rooms = asyncio.run(list_rooms(wechaty, timeout))
    except (ConnectionError, TimeoutError, OSError) as error:
        where = wechaty.endpoint or "token discovery"
        raise click.ClickException(f"cannot list groups via {where}: {error}") from None
    table = Table("id", "topic", "members")
    for room in rooms:
        table.add_row(room.id, room.topic, str(room.members))
    Console().print(table)
    click.echo("Copy the ids into config.yaml under groups: (README, Connect to WeChat).")


@main.command()
def status() -> None:
    """Whether `qunbot run` is connected, as whom, and since when."""
    path = Path(Settings().status_file)
    if not path.is_file():
        raise click.ClickException(
            f"no status at {path}: is `qunbot run --adapter wechaty` running here?"
        )
    state = json.loads(path.read_text(encoding="utf-8"))
    running = _alive(state.get("pid"))
    click.echo(f"state: {state.get('state')}{'' if running else ' (the process is not running)'}")
    click.echo(f"since: {state.get('since')}")
    if state.get("user"):
        click.echo(f"logged in as: {state.get('name') or state['user']} ({state['user']})")
    if state.get("reason"):
        click.echo(f"last error: {state['reason']}")
    click.echo(f"endpoint: {state.get('endpoint') or 'token discovery'}")


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


_db_option = click.option(
    "--db", "db_url", default=None, help="Database URL (default: QUNBOT_DB_URL)."
)


@contextmanager
def _operator(config_path: Path | None, db_url: str | None) -> Iterator[Bot]:
    """The bot's config and persistent database, for operator commands run beside it."""
    settings = Settings()
    configure("WARNING")
    with _bot(config_path or Path(settings.config), db_url or settings.db_url) as bot:
        yield bot


def _actor(name: str | None) -> str:
    return name or f"cli:{getpass.getuser()}"


@main.group()
def broadcast() -> None:
    """Schedule messages to groups, see their delivery, cancel them (operators)."""


@broadcast.command("add")
@_config_option
@_db_option
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
@click.option("--yes", is_flag=True, help="Do not ask before a broadcast to every group.")
@click.option(
    "--as", "actor", default=None, help="Operator name for the audit log (default: cli:<user>)."
)
def broadcast_add(
    config_path: Path | None,
    db_url: str | None,
    groups: str | None,
    to_all: bool,
    at_text: str | None,
    cron: str | None,
    text: str | None,
    template_file: Path | None,
    yes: bool,
    actor: str | None,
) -> None:
    """Schedule a broadcast."""
    if (groups is None) == (not to_all):
        raise click.UsageError("give either --groups or --all")
    if (text is None) == (template_file is None):
        raise click.UsageError("give either --text or --template")
    if at_text is not None and cron is not None:
        raise click.UsageError("give --at or --cron, not both")
    try:
        body = text if text is not None else read_utf8(template_file)  # type: ignore[arg-type]
    except NotUtf8 as error:
        raise click.BadParameter(f"{template_file}: {error}", param_hint="--template") from None
    with _operator(config_path, db_url) as bot:
        zone = ZoneInfo(bot.ruleset.config.timezone)
        now = datetime.now(UTC)
        at = _parse_at(at_text, zone)
        targets = None if to_all else parse_groups(groups or "")
        request = BroadcastRequest(text=body, groups=targets, at=at, cron=cron)
        dispatcher = bot.dispatcher
        with bot.store.transaction() as tx:
            served = bot.ruleset.served_groups(tx)
        if to_all and not yes:
            click.confirm(f"Send to all {len(served)} group(s)?", abort=True)
        try:
            with bot.store.transaction() as tx:
                number = dispatcher.broadcasts.create(
                    tx, request, _actor(actor), now, confirmed=True
                )
                row = tx.broadcast(number)
                to = _describe_groups(dispatcher.broadcasts, tx, targets)
                tx.audit(now, _actor(actor), "operator", "broadcast", None, f"#{number} {to}", "ok")
        except BroadcastError as error:
            raise BadRequest(str(error)) from None
        dispatcher.jobs.persist()
        assert row is not None
        click.echo(f"broadcast #{number} scheduled for {_describe_when(row)} to {to}")


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
@_config_option
@_db_option
def broadcast_list(config_path: Path | None, db_url: str | None) -> None:
    """Every broadcast with its status and delivery counts."""
    with _operator(config_path, db_url) as bot, bot.store.transaction() as tx:
        table = Table("#", "status", "when", "groups", "by", "sent", "pending", "failed")
        for row in tx.broadcasts():
            counts = tx.outbox_counts(JobId.for_broadcast(row.id).messages_prefix)
            table.add_row(
                str(row.id),
                row.status,
                _describe_when(row),
                _describe_groups(bot.dispatcher.broadcasts, tx, row.groups),
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
@_config_option
@_db_option
def broadcast_show(number: int, config_path: Path | None, db_url: str | None) -> None:
    """One broadcast and its delivery in each group."""
    with _operator(config_path, db_url) as bot, bot.store.transaction() as tx:
        row = _existing(tx, number)
        click.echo(f"#{row.id} {row.status} · {_describe_when(row)} · by {row.created_by}")
        click.echo(f"text: {row.text}")
        delivered = {d.group: d for d in tx.deliveries(JobId.for_broadcast(row.id).messages_prefix)}
        zone = ZoneInfo(row.timezone)
        table = Table("group", "status", f"sent at ({row.timezone})", "error")
        for group in dispatcher_targets(bot, tx, row):
            d = delivered.get(group)
            table.add_row(
                group,
                d.status if d else "not yet",
                f"{d.sent_at.astimezone(zone):%Y-%m-%d %H:%M:%S}" if d and d.sent_at else "",
                (d.error or "") if d else "",
            )
        Console().print(table)


def dispatcher_targets(bot: Bot, tx: StoreTx, row: BroadcastRow) -> list[str]:
    return bot.dispatcher.broadcasts.targets(tx, row)


def _existing(tx: StoreTx, number: int) -> BroadcastRow:
    row = tx.broadcast(number)
    if row is None:
        raise click.ClickException(f"no broadcast #{number}")
    return row


@broadcast.command("cancel")
@click.argument("number", type=int)
@_config_option
@_db_option
@click.option("--as", "actor", default=None, help="Operator name for the audit log.")
def broadcast_cancel(
    number: int, config_path: Path | None, db_url: str | None, actor: str | None
) -> None:
    """Cancel a broadcast; messages not sent yet are withdrawn."""
    with _operator(config_path, db_url) as bot:
        now = datetime.now(UTC)
        try:
            with bot.store.transaction() as tx:
                withdrawn = bot.dispatcher.broadcasts.cancel(tx, number, now)
                tx.audit(now, _actor(actor), "operator", "cancel", None, f"#{number}", "ok")
        except BroadcastError as error:
            raise click.ClickException(str(error)) from None
        bot.dispatcher.jobs.persist()
        click.echo(f"broadcast #{number} cancelled; {withdrawn} unsent message(s) withdrawn")


@broadcast.command("preview")
@click.argument("number", type=int)
@click.option("--group", default=None, help="Render for this group (default: its first).")
@_config_option
@_db_option
def broadcast_preview(
    number: int, group: str | None, config_path: Path | None, db_url: str | None
) -> None:
    """Render a broadcast for one group, without sending anything."""
    with _operator(config_path, db_url) as bot, bot.store.transaction() as tx:
        row = _existing(tx, number)
        targets = dispatcher_targets(bot, tx, row)
        chosen = group or (targets[0] if targets else None)
        if chosen is None:
            raise click.ClickException("the broadcast has no groups to render for")
        text = bot.dispatcher.broadcasts.render(
            tx, row, chosen, datetime.now(UTC), bot.ruleset.zone_of(chosen)
        )
        click.echo(f"--- #{number} for {chosen} ---\n{text}")


@main.command()
@click.option("--limit", default=50, show_default=True, help="How many entries, newest first.")
@_config_option
@_db_option
def audit(limit: int, config_path: Path | None, db_url: str | None) -> None:
    """The audit log: every admin action, who, what, when, where, and how it ended."""
    with _operator(config_path, db_url) as bot, bot.store.transaction() as tx:
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
