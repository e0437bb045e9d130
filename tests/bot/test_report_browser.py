"""The report in a real browser: headless Chromium opens it with no network, draws every
chart, runs into no script error, and the screenshot is not blank."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_report import two_days

from bot.report.html import render_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("QUNBOT_REQUIRE_E2E"),
    reason="headless Chromium is not installed (Debian package chromium)",
)

# As the machine's notes say: without the background-networking flags Chromium keeps
# trying to reach Google, and on a closed network that only slows it down.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None, "CI requires headless Chromium (apt-get install chromium)"
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the (filtered) pixel bytes of a PNG, with the standard library."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat, size = 8, b"", (0, 0)
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return size[0], size[1], zlib.decompress(idat)


def test_chromium_renders_the_report_with_every_chart_and_no_script_error(
    tmp_path: Path,
) -> None:
    report = two_days(tmp_path)
    page = tmp_path / "report.html"
    page.write_text(render_html([report], datetime(2026, 11, 26, tzinfo=UTC)), encoding="utf-8")

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert len(re.findall(r"<svg[\s>]", dom.stdout)) == 6
    assert "周末上课吗？" in dom.stdout and "一群" in dom.stdout

    shot = tmp_path / "report.png"
    drawn = chromium(tmp_path, "--window-size=1000,2600", f"--screenshot={shot}", page.as_uri())
    assert drawn.returncode == 0, drawn.stderr[-2000:]
    problems = [
        line
        for line in (dom.stderr + drawn.stderr).splitlines()
        if "CONSOLE" in line or "Uncaught" in line or "ERR_" in line
    ]
    assert problems == []
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (1000, 2600)
    assert len(set(pixels)) > 50  # charts and text, not a blank page
