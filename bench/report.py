"""The results: a table for people, JSON for machines (``bench/results/latest.json``)."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.core import Result, fmt

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def _verdict(passed: bool | None, has_target: bool) -> str:
    if not has_target:
        return "[dim]info[/dim]"
    if passed is None:
        return "[yellow]n/a[/yellow]"
    return "[green]pass[/green]" if passed else "[bold red]FAIL[/bold red]"


def table(results: Sequence[Result], errors: dict[str, str], title: str) -> Table:
    grid = Table(title=title, show_lines=False, header_style="bold")
    grid.add_column("workload")
    grid.add_column("figure")
    grid.add_column("value", justify="right")
    grid.add_column("baseline", justify="right")
    grid.add_column("ratio", justify="right")
    grid.add_column("target")
    grid.add_column("result", justify="center")
    previous = ""
    for row in results:
        baseline = (
            f"{fmt(row.baseline)} {row.unit} [dim]({row.baseline_name})[/dim]"
            if row.baseline is not None
            else "—"
        )
        ratio = f"{fmt(row.ratio)}×" if row.ratio is not None else "—"
        grid.add_row(
            row.workload if row.workload != previous else "",
            row.name,
            f"{fmt(row.figure)} {row.unit}",
            baseline,
            ratio,
            row.target_text() or "—",
            _verdict(row.passed, bool(row.targets)),
        )
        previous = row.workload
    for name, error in errors.items():
        last = error.strip().splitlines()[-1] if error.strip() else "error"
        grid.add_row(
            name, "[bold red]crashed[/bold red]", "", "", "", "", f"[red]{last[:60]}[/red]"
        )
    return grid


def print_table(
    console: Console, results: Sequence[Result], errors: dict[str, str], title: str
) -> None:
    console.print(table(results, errors, title))


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def environment() -> dict[str, Any]:
    """What the numbers depend on: the machine, its load, the code."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain")),
    }


def write_json(
    path: Path,
    *,
    started: datetime,
    seconds: float,
    seed: int,
    quick: bool,
    workloads: dict[str, float],
    results: Sequence[Result],
    errors: dict[str, str],
    environment_at_start: dict[str, Any] | None = None,
) -> None:
    """``environment_at_start``: taken before the first workload (the code it measured);
    if the checkout changed during the run, the end state is recorded beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    at_start = environment_at_start or environment()
    at_end = environment()
    document = {
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "seconds": round(seconds, 2),
        "seed": seed,
        "quick": quick,
        "environment": at_start,
        "loadavg_at_end": at_end["loadavg"],
        "commit_at_end": at_end["commit"],
        "workload_seconds": {name: round(s, 2) for name, s in workloads.items()},
        "results": [row.as_json() for row in results],
        "errors": errors,
        "failed_targets": [f"{row.workload}: {row.name}" for row in results if row.passed is False],
    }
    text = json.dumps(_finite(document), ensure_ascii=False, indent=2, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")


def _finite(value: Any) -> Any:
    """NaN and infinities (a figure that could not be measured) as null: strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
