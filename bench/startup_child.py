"""Bot start-up as ``qunbot run`` does it, then exit: load the config, open the store
(migrating it), build the dispatcher and restore the schedule.

Usage: ``python -m bench.startup_child CONFIG DB_URL`` (the startup workload times it).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.app import open_bot
from bot.logs import configure


def main(config: str, db_url: str) -> None:
    configure("INFO")
    with open_bot(Path(config), db_url) as bot:
        bot.dispatcher.restore(datetime.now(UTC))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
