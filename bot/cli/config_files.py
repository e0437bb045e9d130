"""``qunbot check`` and ``qunbot schema``: the config file before anything runs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli.common import EXIT_CONFIG, main, report
from bot.settings import Settings
from triggers.config import QunbotConfig
from triggers.loader import ConfigError, load_ruleset


@main.command()
@click.argument("config_path", required=False, type=click.Path(path_type=Path, dir_okay=False))
def check(config_path: Path | None) -> None:
    """Validate a config file; report every problem with its line."""
    path = config_path or Path(Settings().config)
    try:
        ruleset = load_ruleset(path)
    except ConfigError as error:
        report(error)
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
