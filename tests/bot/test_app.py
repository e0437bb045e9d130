"""Assembly: the readiness log line, and secrets kept out of it."""

from __future__ import annotations

from storage.db import masked_url


def test_database_passwords_never_reach_the_log() -> None:
    assert masked_url("postgresql+psycopg://bot:s3cret@db.example/qun") == (
        "postgresql+psycopg://bot:***@db.example/qun"
    )
    assert masked_url("sqlite:///qunbot.db") == "sqlite:///qunbot.db"
    # A string SQLAlchemy cannot parse still loses its password (it goes into error messages).
    assert masked_url("postgres ql://bot:s3cret@db/qun") == "postgres ql://bot:***@db/qun"


def test_a_termination_signal_stops_the_work_cleanly() -> None:
    """A service manager's SIGTERM cancels the run (adapters close) instead of killing it."""
    import asyncio
    import os
    import signal

    from bot.app import until_signalled

    cleaned: list[str] = []

    async def work() -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.sleep(30)
        finally:
            cleaned.append("closed")

    asyncio.run(until_signalled(work()))
    assert cleaned == ["closed"]
