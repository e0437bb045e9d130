"""``qunbot keys``: the key member data is sealed with at rest (new, status, rotate).

Keys live in ``.env`` only (``QUNBOT_DATA_KEY``, older ones in ``QUNBOT_DATA_KEYS_OLD``);
the database and the logs see key ids, never keys. Rotation is audited under ``--as``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.progress import Progress

from bot.cli.common import (
    BadRequest,
    actor_name,
    actor_option,
    config_option,
    db_option,
    main,
    operator,
)
from core.actors import Actor
from storage.encryption import new_key
from storage.key_rotation import BATCH, rotate


@main.group()
def keys() -> None:
    """Seal member data at rest: make a key, see which keys are in use, rotate (owner)."""


@keys.command("new")
def keys_new() -> None:
    """Print a fresh key for QUNBOT_DATA_KEY (keep it secret, and keep a copy)."""
    click.echo(new_key())


@keys.command("status")
@config_option
@db_option
def keys_status(config_path: Path | None, db_url: str | None) -> None:
    """Which key seals new data, and which keys data here is sealed with."""
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        live = sorted(tx.live_key_ids())
        sealed = {key_id: tx.sealed_with(key_id) for key_id in live}
    active = session.store.keys
    click.echo(
        f"sealing with: key {active.active_id}" if active else "sealing with: nothing (unencrypted)"
    )
    for key_id in live:
        click.echo(f"key {key_id}: {sealed[key_id]} value(s) sealed with it")


@keys.command("rotate")
@click.option("--batch", default=BATCH, show_default=True, help="Rows per transaction.")
@actor_option
@config_option
@db_option
def keys_rotate(
    batch: int, actor: str | None, config_path: Path | None, db_url: str | None
) -> None:
    """Seal everything again under QUNBOT_DATA_KEY; retire the keys nothing uses any more.

    Start the bot with the new key first (the old one in QUNBOT_DATA_KEYS_OLD): it keeps
    running meanwhile. Values stored before encryption was turned on are sealed too.
    """
    if batch < 1:
        raise BadRequest("--batch must be at least 1")
    with operator(config_path, db_url) as session:
        if session.store.keys is None:
            raise BadRequest("QUNBOT_DATA_KEY is not set: nothing to seal with (`qunbot keys new`)")
        with Progress(transient=True) as progress:
            task = progress.add_task("sealing", total=None)

            def advance(table: str, rows: int) -> None:
                progress.update(task, advance=rows, description=f"sealing {table}")

            done = rotate(session.store, batch, advance)
        now = datetime.now(UTC)
        with session.store.transaction() as tx:
            retired = ", ".join(done.retired) or "-"
            detail = f"{done.values} value(s) sealed again; retired {retired}"
            with session.operations.audited(
                tx, Actor(actor_name(actor), "owner"), "keys.rotate", detail, now
            ):
                pass
    click.echo(f"{done.values} value(s) in {done.rows} row(s) sealed with the active key")
    for key_id in done.retired:
        click.echo(f"key {key_id} retired: nothing is sealed with it any more")
    for key_id, left in done.left.items():
        click.echo(
            f"key {key_id} still seals {left} value(s) written meanwhile by a bot using it: "
            "restart that bot with the new key and rotate again"
        )
