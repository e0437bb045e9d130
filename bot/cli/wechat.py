"""``qunbot groups`` and ``qunbot status``, and the WeChat connection settings ``run`` uses."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bot.adapters.wechaty import WechatySettings, WechatyUnavailable, list_rooms, load_client
from bot.cli.common import db_option, main
from bot.logs import configure
from bot.redact import redact, register
from bot.settings import Settings
from storage.encryption import DataKeys
from storage.store import Store

endpoint_option = click.option(
    "--endpoint",
    default=None,
    help="Puppet service host:port (default: WECHATY_PUPPET_SERVICE_ENDPOINT).",
)
token_option = click.option(
    "--token", default=None, help="Puppet service token (default: WECHATY_PUPPET_SERVICE_TOKEN)."
)


def wechaty_settings(
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
    register(token)
    return WechatySettings(
        endpoint=endpoint,
        token=token,
        private_chats=settings.private_chats,
        scan_images=settings.scan_images,
        status_file=Path(settings.status_file),
        reconnect_max=timedelta(seconds=settings.reconnect_max),
        send_timeout=timedelta(seconds=settings.send_timeout),
        liveness=timedelta(seconds=settings.liveness),
    )


@main.command()
@endpoint_option
@token_option
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the login.")
@db_option
def groups(endpoint: str | None, token: str | None, timeout: float, db_url: str | None) -> None:
    """List the WeChat groups the account is in: ids, topics, member counts (for config.yaml).

    Beside a running bot this reads what the bot recorded: a second connection would
    restart the puppet under it. Only when no bot runs does it connect itself.
    """
    settings = Settings()
    configure("WARNING")
    pid = running_bot(Path(settings.status_file))
    if pid is not None:
        _groups_from_store(db_url or settings.db_url, pid, settings.data_keys())
        return
    wechaty = wechaty_settings(settings, endpoint, token)
    click.echo("no bot is running here: connecting to the puppet service to list groups")
    try:
        rooms = asyncio.run(list_rooms(wechaty, timeout))
    except (ConnectionError, TimeoutError, OSError) as error:
        where = wechaty.endpoint or "token discovery"
        raise click.ClickException(redact(f"cannot list groups via {where}: {error}")) from None
    table = Table("id", "topic", "members")
    for room in rooms:
        table.add_row(room.id, room.topic, str(room.members))
    Console().print(table)
    click.echo("Copy the ids into config.yaml under groups: (README, Connect to WeChat).")


def _groups_from_store(db_url: str, pid: int, keys: DataKeys | None) -> None:
    store = Store(db_url, keys)
    try:
        with store.transaction() as tx:
            summaries = tx.summaries()
    finally:
        store.close()
    click.echo(
        f"a bot is running here (pid {pid}): these are the groups it has seen, from its "
        "database; its connection is left alone"
    )
    table = Table("id", "topic", "members")
    for summary in summaries:
        table.add_row(summary.group, summary.name, str(summary.members))
    Console().print(table)


def running_bot(status_file: Path) -> int | None:
    """The pid of a `qunbot run` alive on this machine, from its status file."""
    try:
        state = json.loads(status_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    pid = state.get("pid") if isinstance(state, dict) else None
    stopped = isinstance(state, dict) and state.get("state") == "stopped"
    return pid if isinstance(pid, int) and not stopped and _alive(pid) else None


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
