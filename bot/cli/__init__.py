"""The ``qunbot`` command: a thin click layer over the library, one module per command group.

Errors a user can cause (a bad config, a missing file) end as a clear message and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

from bot.cli import (  # noqa: F401 - they register commands
    config_files,
    faq,
    keys,
    member_rights,
    members,
    moderation,
    operators,
    play,
    report,
    roles,
    tags,
    unanswered,
    wechat,
)
from bot.cli.common import main

__all__ = ["main"]
