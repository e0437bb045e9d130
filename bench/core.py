"""What every workload shares: result rows, targets, the run context and small measuring tools."""

from __future__ import annotations

import io
import math
import os
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Op = Literal[">=", "<="]


@dataclass(frozen=True, slots=True)
class Target:
    """A bound on a row's ``figure`` or on its ``ratio`` to the baseline."""

    op: Op
    value: float
    on: Literal["figure", "ratio"] = "figure"

    def met(self, row: Result) -> bool | None:
        measured = row.figure if self.on == "figure" else row.ratio
        if measured is None or math.isnan(measured):
            return None
        return measured >= self.value if self.op == ">=" else measured <= self.value

    def describe(self, unit: str) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        if self.on == "ratio":
            return f"ratio {sign} {fmt(self.value)}"
        return f"{sign} {fmt(self.value)} {unit}".rstrip()


@dataclass(slots=True)
class Result:
    """One measured figure beside the baseline measured in the same run."""

    workload: str
    name: str
    figure: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    targets: tuple[Target, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.figure / self.baseline

    @property
    def passed(self) -> bool | None:
        """None when the row has no target (informational) or a target cannot be judged."""
        if not self.targets:
            return None
        verdicts = [t.met(self) for t in self.targets]
        if any(v is False for v in verdicts):
            return False
        if any(v is None for v in verdicts):
            return None
        return True

    def target_text(self) -> str:
        return "; ".join(t.describe(self.unit) for t in self.targets)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["targets"] = [asdict(t) for t in self.targets]
        data["target"] = self.target_text()
        data["ratio"] = self.ratio
        data["passed"] = self.passed
        return data


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for people: a few significant digits, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    return f"{value:,.{decimals}f}"


class Reporter(Protocol):
    """Progress of one workload: a stage name and, when known, how far along it is."""

    def stage(self, text: str, total: float | None = None) -> None: ...

    def advance(self, amount: float = 1) -> None: ...

    def log(self, text: str) -> None: ...


class SilentReporter:
    def stage(self, text: str, total: float | None = None) -> None:
        pass

    def advance(self, amount: float = 1) -> None:
        pass

    def log(self, text: str) -> None:
        pass


@dataclass
class BenchContext:
    seed: int
    quick: bool
    workdir: Path
    reporter: Reporter = field(default_factory=SilentReporter)

    def dir(self, name: str) -> Path:
        """A fresh folder for one workload's files (on the same disk as every other one)."""
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path


Workload = Callable[[BenchContext], list[Result]]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by the nearest-rank method; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def raw_sqlite(path: Path) -> sqlite3.Connection:
    """A plain sqlite3 connection with the store's settings: WAL, synchronous=FULL."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    return connection


RAW_INTERACTIONS_DDL = (
    "CREATE TABLE interactions (id INTEGER PRIMARY KEY, group_id VARCHAR(128) NOT NULL, "
    "member_id VARCHAR(128) NOT NULL, kind VARCHAR(16) NOT NULL, text VARCHAR, "
    "rule VARCHAR(128), at DATETIME NOT NULL)",
    "CREATE INDEX ix_interactions_group_at ON interactions (group_id, at)",
    "CREATE INDEX ix_interactions_group_member_at_kind"
    " ON interactions (group_id, member_id, at, kind)",
)
RAW_INSERT = (
    "INSERT INTO interactions (group_id, member_id, kind, text, rule, at) VALUES (?, ?, ?, ?, ?, ?)"
)


class NullText(io.TextIOBase):
    """Where the replay adapter writes what the bot says, when nobody reads it."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ChildRun:
    seconds: float
    maxrss_kb: int
    stdout: str
    stderr: str
    returncode: int


def run_child(
    args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> ChildRun:
    """Run a subprocess; its wall time, output and ``ru_maxrss`` from ``wait4``.

    Beware: on Linux a child's ``ru_maxrss`` includes the parent's RSS at ``fork``, so it
    is no measure of the child alone (``bench.memory`` uses ``bench.rss_child`` instead).
    """
    with (
        Path(os.devnull).open("rb") as stdin,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        start = time.perf_counter()
        process = subprocess.Popen(
            list(args), stdin=stdin, stdout=out, stderr=err, cwd=cwd, env=env
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return ChildRun(seconds, int(usage.ru_maxrss), stdout, stderr, process.returncode)


def child_env() -> dict[str, str]:
    """The environment for bot subprocesses: no .env or settings leaking in from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUNBOT_")}
    env["PYTHONHASHSEED"] = "0"
    return env
