"""``qunbot faq``: the FAQ as admins tune it — what it holds, and what it makes of a question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import yaml

from bot.cli.common import (
    EXIT_CONFIG,
    BadRequest,
    config_option,
    db_option,
    main,
    operator,
    report,
)
from bot.settings import Settings
from storage.faq_queue import LearnedRow
from triggers.faq_eval import SWEEP, Evaluation, LabelledSetError, evaluate, read_labelled
from triggers.loader import ConfigError, load_ruleset
from triggers.ruleset import RuleSet
from triggers.text import looks_like_question


@main.group()
def faq() -> None:
    """The FAQ (答疑): list its entries, test a question against it, evaluate it."""


def _ruleset(config_path: Path | None) -> RuleSet:
    try:
        return load_ruleset(config_path or Path(Settings().config))
    except ConfigError as error:
        report(error)
        raise SystemExit(EXIT_CONFIG) from None


@faq.command("list")
@click.option(
    "--db", "db_url", default=None, help="Also what operators taught it (/learn), from here."
)
@config_option
def faq_list(db_url: str | None, config_path: Path | None) -> None:
    """Every entry: its id, the questions and keywords that find it, its answer; with --db
    also the questions operators taught it and the entries they added."""
    config = _ruleset(config_path).config.faq
    learned = _learned(config_path, db_url) if db_url else []
    taught: dict[str, list[LearnedRow]] = {}
    for row in learned:
        taught.setdefault(row.entry, []).append(row)
    click.echo(
        f"{len(config.entries)} entr{'y' if len(config.entries) == 1 else 'ies'}, "
        f"threshold {config.threshold:g}" + (f", {len(learned)} taught" if learned else "")
    )
    for entry in config.entries:
        click.echo(f"\n{entry.id}")
        for question in entry.questions:
            click.echo(f"  question: {question}")
        for row in taught.pop(entry.id, []):
            click.echo(f"  learned:  {row.question}  (by {row.learned_by}, {row.at:%Y-%m-%d})")
        if entry.keywords:
            click.echo(f"  keywords: {', '.join(entry.keywords)}")
        click.echo(f"  answer:   {entry.answer.strip()[:120]}")
    for entry_id, rows in taught.items():
        click.echo(f"\n{entry_id}  (taught, not in the config)")
        for row in rows:
            click.echo(f"  learned:  {row.question}  (by {row.learned_by}, {row.at:%Y-%m-%d})")
        answer = next((row.answer for row in rows if row.answer is not None), "")
        click.echo(f"  answer:   {answer.strip()[:120]}")


@faq.command("learned")
@db_option
@config_option
def faq_learned(db_url: str | None, config_path: Path | None) -> None:
    """What operators taught the FAQ, as YAML to move into config.yaml's faq.entries (the
    config stays the admins' file: nothing is written to it)."""
    rows = _learned(config_path, db_url)
    entries: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = entries.setdefault(row.entry, {"id": row.entry, "questions": []})
        entry["questions"].append(row.question)
        if row.answer is not None:
            entry.setdefault("answer", row.answer)
    if not entries:
        click.echo("# nothing taught yet")
        return
    click.echo("# add these questions to the entries of the same id (new ids are new entries)")
    click.echo(
        yaml.safe_dump(
            {"entries": list(entries.values())}, allow_unicode=True, sort_keys=False
        ).rstrip()
    )


def _learned(config_path: Path | None, db_url: str | None) -> list[LearnedRow]:
    with operator(config_path, db_url) as session, session.store.transaction() as tx:
        return tx.learned()


@faq.command("test")
@click.argument("question")
@click.option("--top", default=3, show_default=True, help="How many candidates to show.")
@config_option
def faq_test(question: str, top: int, config_path: Path | None) -> None:
    """What the bot makes of QUESTION: the best entries with their scores, and the verdict."""
    ruleset = _ruleset(config_path)
    threshold = ruleset.faq.threshold
    asks = looks_like_question(question)
    click.echo(f"reads as a question: {'yes' if asks else 'no'}")
    hits = ruleset.faq.candidates(question, top)
    if not hits:
        click.echo("no entry shares a word with it")
    for rank, hit in enumerate(hits, start=1):
        mark = "answers" if rank == 1 and hit.score >= threshold else "below the threshold"
        if rank > 1 and hit.score >= threshold:
            mark = "would answer, but ranks lower"
        click.echo(f"{rank}. {hit.key}  score {hit.score:.1f}  ({mark}; matched {hit.matched!r})")
    answered = bool(hits) and hits[0].score >= threshold
    if answered:
        verdict = f"answered with {hits[0].key!r}"
    elif asks:
        verdict = "not answered: a question, so the faq rule queues it as unanswered"
    else:
        verdict = "not answered, and not a question: ignored"
    click.echo(f"threshold {threshold:g}: {verdict}")


@faq.command("eval")
@click.argument("labelled", type=click.Path(path_type=Path))
@click.option("--threshold", type=click.FloatRange(0, 100), help="Instead of faq.threshold.")
@click.option("--sweep", is_flag=True, help="Also the rates at thresholds 30, 35 … 90.")
@config_option
def faq_eval(
    labelled: Path, threshold: float | None, sweep: bool, config_path: Path | None
) -> None:
    """How the FAQ does on LABELLED: one ask per line, '<entry id or -> <text>' (- is
    chatter nothing should answer). Prints the hit, wrong and chatter-answered rates and
    every ask that went wrong."""
    ruleset = _ruleset(config_path)
    catalog = ruleset.faq
    try:
        asks = read_labelled(labelled, [e.id for e in ruleset.config.faq.entries])
    except LabelledSetError as error:
        raise BadRequest(str(error)) from None
    result = evaluate(catalog, asks, catalog.threshold if threshold is None else threshold)
    click.echo(_rates(result))
    for label, outcomes in (
        ("wrong entry", result.wrong),
        ("not answered", result.missed),
        ("chatter answered", result.chatter_answered),
    ):
        for o in outcomes:
            got = o.answered or "nothing"
            click.echo(
                f"  {label}: line {o.ask.line} {o.ask.text!r} -> {got} "
                f"(expected {o.ask.expected or 'nothing'}, best score {o.score:.1f})"
            )
    if sweep:
        click.echo("threshold sweep:")
        for value in SWEEP:
            click.echo("  " + _rates(evaluate(catalog, asks, value)))


def _rates(result: Evaluation) -> str:
    return (
        f"threshold {result.threshold:g}: hit {len(result.hits)}/{len(result.questions)} "
        f"({result.hit_rate:.2f}), wrong {len(result.wrong)} ({result.wrong_rate:.2f}), "
        f"chatter answered {len(result.chatter_answered)}/{len(result.chatter)} "
        f"({result.chatter_rate:.2f})"
    )
