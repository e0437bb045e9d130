"""Running the bot: ``demo``, ``chat``, ``replay`` and ``run``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import click
from rich.console import Console

from bot import demo as demo_module
from bot.adapters.console import ConsoleAdapter
from bot.adapters.replay import ReplayAdapter
from bot.adapters.wechaty import WechatyAdapter, WechatyRefused
from bot.app import Bot
from bot.cli.common import config_option, main, opened_bot
from bot.cli.wechat import endpoint_option, token_option, wechaty_settings
from bot.clock import FakeClock, OffsetClock, SystemClock
from bot.logs import configure
from bot.runtime import RunOptions
from bot.settings import Settings
from core.resources import sample_config_path


@main.command()
@config_option
@click.option("--db", "db_url", default=None, help="Keep the demo's database at this URL.")
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("qunbot-demo-report.html"),
    show_default=True,
    help="Where to write the operators' report of the sample days.",
)
def demo(config_path: Path | None, db_url: str | None, report: Path) -> None:
    """Play a day in a sample group, show what the store holds, write the report."""
    configure("WARNING")
    with opened_bot(config_path or sample_config_path(), db_url) as bot:
        demo_module.play(bot, Console(highlight=False), report)


@main.command()
@config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: a throwaway one).")
@click.option("--group", default=None, help="Group to start in (default: the first configured).")
def chat(config_path: Path | None, db_url: str | None, group: str | None) -> None:
    """Try the rules interactively, playing members of a simulated group."""
    settings = Settings()
    configure("WARNING")
    with opened_bot(config_path or Path(settings.config), db_url) as bot:
        _run_console(bot, group)


def _run_console(bot: Bot, group: str | None, *, live: bool = False) -> None:
    """``live``: send through the paced outbox, as a real account would."""
    groups = bot.ruleset.config.groups
    start = group or (groups[0].key if groups else "g1")
    clock = OffsetClock()
    served = [g.key for g in groups]
    adapter = ConsoleAdapter(sys.stdin, sys.stdout, clock, bot.zone_of, start, served)
    options = RunOptions(live_timers=True, background_outbox=live, drain_at_end=False)
    bot.run(adapter, clock, options, paced=live)


@main.command()
@click.argument("transcript", type=click.File("rb"))  # decoded line by line
@config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: a throwaway one).")
def replay(transcript: BinaryIO, config_path: Path | None, db_url: str | None) -> None:
    """Play a JSONL transcript; print what the bot says as JSON lines."""
    settings = Settings()
    configure("WARNING")
    with opened_bot(config_path or Path(settings.config), db_url) as bot:
        clock = FakeClock(datetime.fromisoformat("2000-01-01T00:00:00+00:00"))
        adapter = ReplayAdapter(transcript, sys.stdout, sys.stderr, clock)
        bot.run(adapter, clock, RunOptions())
    if adapter.bad_lines:
        click.echo(f"{adapter.bad_lines} bad line(s) skipped", err=True)


@main.command(name="run")
@config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: QUNBOT_DB_URL).")
@click.option(
    "--adapter",
    type=click.Choice(["console", "wechaty"]),
    default=None,
    help="Platform (default: QUNBOT_ADAPTER, else console).",
)
@endpoint_option
@token_option
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
        with opened_bot(config, db_url or settings.db_url) as bot:
            _run_console(bot, None, live=True)
        return
    wechaty = wechaty_settings(settings, endpoint, token)
    with opened_bot(config, db_url or settings.db_url) as bot:
        clock = SystemClock()
        options = RunOptions(live_timers=True, background_outbox=True, drain_at_end=False)
        try:
            bot.run(WechatyAdapter(wechaty, clock), clock, options, paced=True, graceful=True)
        except WechatyRefused as error:
            raise click.ClickException(str(error)) from None
