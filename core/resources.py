"""Where the bundled sample config, templates and demo transcript live.

In a source checkout (editable install) they sit at the repository's top level, as the
project layout fixes; a built wheel carries copies under ``core/_bundled``. The demo's
transcript ships inside the ``bot`` package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = _PACKAGE_DIR / "_bundled"
_SOURCE_ROOT = _PACKAGE_DIR.parent
_BOT_DIR = _SOURCE_ROOT / "bot"


def _root() -> Path:
    return _BUNDLED if _BUNDLED.is_dir() else _SOURCE_ROOT


def bundled_templates_dir() -> Path:
    return _root() / "templates"


def sample_config_path() -> Path:
    return _root() / "config.yaml"


def demo_transcript_path() -> Path:
    return _BOT_DIR / "demo_day.jsonl"
