"""The benchmark suite runs and reports in the agreed shape (no timing assertions here)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench import rule_scaling
from bench.__main__ import _parse
from bench.core import BenchContext, Result, Target
from bench.generate import ConfigSpec, make_config
from bench.report import print_table, write_json
from bench.suite import WORKLOADS, load
from bench.transcripts import TranscriptSpec, transcript
from triggers.loader import compile_text


def test_rule_scaling_at_tiny_sizes_returns_one_row_per_size(tmp_path: Path) -> None:
    context = BenchContext(seed=7, quick=True, workdir=tmp_path)
    params = rule_scaling.Params(sizes=(10, 30), messages=40, rounds=2)

    rows = rule_scaling.run(context, params)

    assert [row.name for row in rows] == ["10 rules + 10 FAQ", "30 rules + 30 FAQ"]
    for row in rows:
        assert isinstance(row, Result)
        assert row.workload == "rule_scaling"
        assert row.unit == "µs/msg"
        assert row.figure > 0
        assert row.baseline == rows[0].figure
        assert row.ratio is not None
        assert row.notes["messages"] == 40
    # The target (ratio at 10,000 rules) is judged only at full size.
    assert all(row.targets == () and row.passed is None for row in rows)


def test_a_target_passes_or_fails_on_its_figure_or_ratio() -> None:
    row = Result("w", "n", figure=30.0, unit="ms", baseline=10.0, baseline_name="b")
    row.targets = (Target("<=", 50),)
    assert row.passed is True
    row.targets = (Target("<=", 50), Target("<=", 2.0, on="ratio"))
    assert row.ratio == 3.0 and row.passed is False
    assert row.target_text() == "≤ 50.0 ms; ratio ≤ 2.00"


def test_results_render_as_a_table_and_as_json(tmp_path: Path) -> None:
    rows = rule_scaling.run(
        BenchContext(seed=7, quick=True, workdir=tmp_path),
        rule_scaling.Params(sizes=(10, 20), messages=20, rounds=1),
    )
    out = io.StringIO()
    print_table(Console(file=out, width=200), rows, {"memory": "Traceback\nOSError: boom"}, "t")
    assert "rule_scaling" in out.getvalue() and "crashed" in out.getvalue()

    path = tmp_path / "results" / "latest.json"
    write_json(
        path,
        started=datetime.now(UTC),
        seconds=1.0,
        seed=7,
        quick=True,
        workloads={"rule_scaling": 0.5},
        results=rows,
        errors={},
    )
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["seed"] == 7 and document["quick"] is True
    first = document["results"][0]
    for key in ("workload", "name", "figure", "unit", "baseline", "ratio", "target", "passed"):
        assert key in first


def test_generated_data_is_deterministic_and_valid() -> None:
    spec = TranscriptSpec(groups=3, members=10, events=200)
    assert transcript(spec, 1) == transcript(spec, 1)
    assert transcript(spec, 1) != transcript(spec, 2)
    ruleset = compile_text(make_config(ConfigSpec(groups=3, briefing=True)), "c.yaml", None)
    assert len(ruleset.faq) == 50


def test_every_workload_is_selectable() -> None:
    for name in WORKLOADS:
        assert callable(load(name))
    assert _parse(["--quick", "--only", "rule_scaling,history"]).selected == [
        "rule_scaling",
        "history",
    ]
