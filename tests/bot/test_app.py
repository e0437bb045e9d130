"""Assembly: the readiness log line, and secrets kept out of it."""

from __future__ import annotations

from bot.app import masked_url


def test_database_passwords_never_reach_the_log() -> None:
    assert masked_url("postgresql+psycopg://bot:s3cret@db.example/qun") == (
        "postgresql+psycopg://bot:***@db.example/qun"
    )
    assert masked_url("sqlite:///qunbot.db") == "sqlite:///qunbot.db"
