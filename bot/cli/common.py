"""What every command shares: the ``qunbot`` group, its options, opening a bot or the store."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from bot.app import Bot, open_bot
from bot.logs import configure
from bot.operations import OperatorSession, operator_session
from bot.settings import Settings
from storage.db import DatabaseUrlError
from storage.encryption import DataKeyError
from triggers.loader import ConfigError

EXIT_CONFIG = 2


class BadRequest(click.ClickException):
    """An operator's arguments that cannot be done as asked: one line, the usage exit code."""

    exit_code = EXIT_CONFIG


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Rules file (default: QUNBOT_CONFIG or config.yaml).",
)
actor_option = click.option(
    "--as", "actor", default=None, help="Operator name for the audit log (default: cli:<user>)."
)
db_option = click.option(
    "--db", "db_url", default=None, help="Database URL (default: QUNBOT_DB_URL)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """qunbot: a community-operations bot for WeChat groups.

    Start with `qunbot demo`, then edit config.yaml, `qunbot check` it and try your
    rules with `qunbot chat`.
    """


@contextmanager
def opened_bot(config_path: Path, db_url: str | None) -> Iterator[Bot]:
    """A bot on the config and database, or one clear error and exit code 2."""
    with _user_errors(), open_bot(config_path, db_url, Settings().data_keys()) as bot:
        yield bot


@contextmanager
def operator(config_path: Path | None, db_url: str | None) -> Iterator[OperatorSession]:
    """The bot's config and persistent database, for operator commands run beside it."""
    settings = Settings()
    configure("WARNING")
    config = config_path or Path(settings.config)
    with (
        _user_errors(),
        operator_session(config, db_url or settings.db_url, settings.data_keys()) as session,
    ):
        yield session


@contextmanager
def _user_errors() -> Iterator[None]:
    try:
        yield
    except ConfigError as error:
        report(error)
        raise SystemExit(EXIT_CONFIG) from None
    except (DatabaseUrlError, DataKeyError) as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(EXIT_CONFIG) from None


def report(error: ConfigError) -> None:
    for problem in error.problems:
        click.echo(f"error: {problem}", err=True)
    click.echo(f"{len(error.problems)} problem(s) in the config; nothing was run.", err=True)


def actor_name(name: str | None) -> str:
    return name or f"cli:{getpass.getuser()}"
