"""``python -m bench``: run the benchmark workloads, show a table, write JSON.

Every figure is reported beside a baseline measured in the same run, and as a ratio to it:
shared machines are noisy, ratios much less so. ``--quick`` runs small sizes for CI and
fails only when a workload crashes, never on figures.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loguru import logger
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from bench.core import BenchContext, Result
from bench.generate import DEFAULT_SEED
from bench.report import DEFAULT_OUT, environment, print_table, write_json
from bench.suite import WORKLOADS, load

EXIT_TARGETS_MISSED = 1
EXIT_CRASHED = 2


class ProgressReporter:
    """One progress line per workload: its current stage and, when known, how far along."""

    def __init__(self, progress: Progress, name: str) -> None:
        self._progress = progress
        self._name = name
        self._task: TaskID = progress.add_task(name, total=None)

    def stage(self, text: str, total: float | None = None) -> None:
        self._progress.update(
            self._task, description=f"{self._name}: {text}", total=total, completed=0
        )

    def advance(self, amount: float = 1) -> None:
        self._progress.advance(self._task, amount)

    def log(self, text: str) -> None:
        self._progress.console.print(f"[dim]{self._name}:[/dim] {text}")

    def finish(self, text: str) -> None:
        self._progress.update(self._task, description=f"{self._name}: {text}", total=1, completed=1)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of qunbot's real code paths, each beside a baseline.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (CI); fails only on crashes"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only this workload (repeatable, or comma-separated): {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="data seed (default: %(default)s)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where databases go (default: a temp folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = parser.parse_args(argv)
    chosen = [n.strip() for item in args.only or [] for n in item.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in WORKLOADS]
    if unknown:
        parser.error(
            f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}"
        )
    args.selected = [n for n in WORKLOADS if n in chosen] if chosen else list(WORKLOADS)
    return args


def _route_logs(console: Console) -> None:
    """The bot's warnings and errors above the progress display, not through it."""
    logger.remove()

    def sink(message: Any) -> None:
        console.print(
            f"[yellow]log:[/yellow] {str(message).rstrip()}", markup=False, highlight=False
        )

    logger.add(sink, level="WARNING", format="{level} {message}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 150))
    if args.list:
        for name in WORKLOADS:
            console.print(name)
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="qunbot-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    at_start = environment()
    began = time.perf_counter()
    results: list[Result] = []
    errors: dict[str, str] = {}
    seconds: dict[str, float] = {}
    mode = "quick" if args.quick else "full"
    progress = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    _route_logs(progress.console)
    try:
        with progress:
            overall = progress.add_task(
                f"qunbot bench ({mode}, seed {args.seed})", total=len(args.selected)
            )
            for name in args.selected:
                reporter = ProgressReporter(progress, name)
                context = BenchContext(args.seed, args.quick, workdir, reporter)
                start = time.perf_counter()
                try:
                    rows = load(name)(context)
                except Exception:
                    errors[name] = traceback.format_exc(limit=12)
                    progress.console.print(
                        f"[bold red]{name} crashed[/bold red]\n{errors[name]}", markup=True
                    )
                    rows = []
                seconds[name] = time.perf_counter() - start
                results += rows
                reporter.finish(
                    f"{'crashed' if name in errors else 'done'} in {seconds[name]:.1f} s"
                )
                progress.advance(overall)
                if not args.keep:
                    shutil.rmtree(workdir / name, ignore_errors=True)
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    total = time.perf_counter() - began
    print_table(console, results, errors, f"qunbot benchmarks — {mode} run, {total:.0f} s")
    console.print(
        "[dim]Shared, noisy machine: compare ratios to the same-run baselines rather than "
        "absolute numbers.[/dim]"
    )
    write_json(
        args.out,
        started=started,
        seconds=total,
        seed=args.seed,
        quick=args.quick,
        workloads=seconds,
        results=results,
        errors=errors,
        environment_at_start=at_start,
    )
    console.print(f"results: {args.out}")
    if args.keep:
        console.print(f"work folder kept: {workdir}")
    if errors:
        return EXIT_CRASHED
    if not args.quick and any(row.passed is False for row in results):
        return EXIT_TARGETS_MISSED
    return 0


if __name__ == "__main__":
    sys.exit(main())
