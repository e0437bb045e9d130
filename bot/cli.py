"""The ``qunbot`` command: a thin click layer over the library.

Errors a user can cause (a bad config, a missing file) end as a clear message and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TextIO

import click
from rich.console import Console

from bot import demo as demo_module
from bot.adapters.console import ConsoleAdapter
from bot.adapters.replay import ReplayAdapter
from bot.app import Bot, open_bot
from bot.clock import FakeClock, OffsetClock
from bot.logs import configure
from bot.outbox import Pacing
from bot.resources import sample_config_path
from bot.runtime import RunOptions
from bot.settings import Settings
from triggers.config import QunbotConfig
from triggers.loader import ConfigError, load_ruleset

EXIT_CONFIG = 2

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
    start = group or (groups[0].id if groups else "g1")
    clock = OffsetClock()
    adapter = ConsoleAdapter(sys.stdin, sys.stdout, clock, bot.ruleset.zone_of, start)
    options = RunOptions(live_timers=True, background_outbox=live, drain_at_end=False)
    bot.run(adapter, clock, options, Pacing() if live else None)


@main.command()
@click.argument("transcript", type=click.File("r", encoding="utf-8"))
@_config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: a throwaway one).")
def replay(transcript: TextIO, config_path: Path | None, db_url: str | None) -> None:
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
        raise SystemExit(1) from None
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


@main.command(name="run")
@_config_option
@click.option("--db", "db_url", default=None, help="Database URL (default: QUNBOT_DB_URL).")
def run_command(config_path: Path | None, db_url: str | None) -> None:
    """Run the bot with the persistent database (the console adapter, until WeChat lands)."""
    settings = Settings()
    configure(settings.log_level)
    with _bot(config_path or Path(settings.config), db_url or settings.db_url) as bot:
        _run_console(bot, None, live=True)
