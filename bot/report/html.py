"""The report as one HTML file: pygal's SVG inline (nothing fetched: it opens offline, in any
browser), and each chart's table embedded as JSON beside it, so what is drawn can be checked.

pygal, because it draws SVG in pure Python with no JavaScript runtime to bundle (plotly and
Vega would inline megabytes of it) and no native libraries (matplotlib), and its charts read
well as they come.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pygal
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pygal.style import CleanStyle

from bot.report.tables import WEEKDAYS, GroupReport, ReportTable

# pygal hooks imports for its map plugins (unused here) with the finder API Python deprecated:
# any import that fails anywhere afterwards would warn. The hook goes.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__module__ != "pygal"]

_ENV = Environment(
    loader=PackageLoader("bot.report", "."), autoescape=select_autoescape(["html", "j2"])
)


def _chart(kind: type[pygal.Graph], table: ReportTable, series: Sequence[str]) -> Markup:
    """A chart of some of the table's columns against its first one, as inline SVG."""
    chart = kind(
        js=[],  # pygal's tooltips would load a script from the network
        disable_xml_declaration=True,
        style=CleanStyle,
        width=900,
        height=320,
        x_label_rotation=45,
        show_minor_x_labels=False,
        legend_at_bottom=True,
        include_x_axis=True,  # counts: the axis starts at zero
        title=table.title,
    )
    labels = [str(row[0]) for row in table.rows]
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, len(labels) // 10)]
    for name in series:
        at = table.columns.index(name)
        chart.add(name, [row[at] for row in table.rows])
    return Markup(chart.render(is_unicode=True))


def _heat(table: ReportTable) -> list[list[tuple[int, float]]]:
    """The weekday × hour counts as rows of (count, shade 0–1) for an HTML grid."""
    peak = max((row[2] for row in table.rows), default=0) or 1
    counts = {(row[0], row[1]): row[2] for row in table.rows}
    return [[(counts[(w, h)], counts[(w, h)] / peak) for h in range(24)] for w in WEEKDAYS]


def render_html(reports: Sequence[GroupReport], made: datetime) -> str:
    charts = {
        r.group: {
            "daily": _chart(pygal.Line, r.tables["daily"], ("messages", "active_members")),
            "layers": _chart(pygal.StackedBar, r.tables["layers"], r.tables["layers"].columns[1:]),
            "joins": _chart(pygal.Bar, r.tables["joins"], ("joined",)),
            "checkins": _chart(pygal.Bar, r.tables["checkins"], ("checkins", "active_members")),
            "streaks": _chart(pygal.Bar, r.tables["streaks"], ("members",)),
            "response": _chart(pygal.Bar, r.tables["response"], ("questions",)),
        }
        for r in reports
    }
    data = {
        r.group: {
            key: {"columns": list(t.columns), "rows": [list(row) for row in t.rows]}
            for key, t in r.tables.items()
        }
        for r in reports
    }
    return _ENV.get_template("report.html.j2").render(
        reports=reports,
        charts=charts,
        heat={r.group: _heat(r.tables["weekday_hour"]) for r in reports},
        weekdays=WEEKDAYS,
        # Inert data for whoever checks the charts; "</" cannot end the script element.
        data=Markup(json.dumps(data, ensure_ascii=False).replace("</", "<\\/")),
        made=made,
    )


def write_csv(reports: Sequence[GroupReport], folder: Path) -> list[Path]:
    """One CSV per group and table, named ``<group>-<table>.csv``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        for table in report.tables.values():
            path = folder / f"{_safe(report.group)}-{table.key}.csv"
            with path.open("w", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                writer.writerow(table.columns)
                writer.writerows(table.rows)
            written.append(path)
    return written


def _safe(name: str) -> str:
    """A group id as a file name part: room ids carry '@' and worse."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
