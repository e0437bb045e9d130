"""``qunbot unanswered``: the questions nothing answered, as a queue operators work from."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

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
from bot.cli.members import served_rooms
from core.actors import Actor
from triggers.human_answers import MAX_ANSWER_CHARS, NotAnswerable, human_answer


@main.group()
def unanswered() -> None:
    """Questions nothing answered: list them, answer one (operators)."""


@unanswered.command("list")
@click.option("--group", default=None, help="One group (id or configured topic).")
@click.option("--limit", default=50, show_default=True, help="How many, oldest first.")
@config_option
@db_option
def unanswered_list(
    group: str | None, limit: int, config_path: Path | None, db_url: str | None
) -> None:
    """Open questions oldest first: id, group, who asked, when (group's zone), waiting, text."""
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        room = served_rooms(session, tx, group)[0] if group is not None else None
        questions = tx.unanswered(room, limit)
    if not questions:
        click.echo("no open questions")
        return
    table = Table("id", "group", "member", "asked", "waiting", "question")
    for q in questions:
        zone = session.ruleset.zone_of(q.group)
        minutes = int((now - q.at).total_seconds() // 60)
        waiting = (
            f"{minutes // 1440}d {minutes % 1440 // 60}h"
            if minutes >= 1440
            else (f"{minutes // 60}h {minutes % 60}m")
        )
        table.add_row(
            f"#{q.id}",
            q.group,
            f"{q.name} ({q.member})" if q.name != q.member else q.member,
            f"{q.at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            waiting,
            q.text,
        )
    Console(width=200).print(table)


@unanswered.command("answer")
@click.argument("question", type=int)
@click.argument("text")
@actor_option
@config_option
@db_option
def unanswered_answer(
    question: int, text: str, actor: str | None, config_path: Path | None, db_url: str | None
) -> None:
    """Answer question QUESTION (its id from `list`) with TEXT: the running bot @mentions the
    member in their group, quoting what they asked (audited)."""
    if not text.strip() or len(text) > MAX_ANSWER_CHARS:
        raise BadRequest(f"an answer is 1 to {MAX_ANSWER_CHARS:,} characters")
    now = datetime.now(UTC)
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        asked = tx.open_question(question)
        if asked is None:
            raise BadRequest(f"no open question #{question} (answered already, or never asked)")
        who = Actor(actor_name(actor), "operator", asked.group)
        with session.operations.audited(tx, who, "answer", f"#{question} {text[:100]}", now):
            try:
                effect = human_answer(
                    tx, asked, text, who.name, now, session.ruleset.zone_of(asked.group)
                )
            except NotAnswerable as problem:
                raise BadRequest(str(problem)) from None
            tx.enqueue([effect])
    click.echo(f"answered #{question} in {asked.group}: the bot sends it within seconds")
