"""Retention: old message texts blanked (their rows kept for the numbers), old queued
questions and audit records deleted, by a daily job on the bot's clock; nothing when unset."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import at, message, replay, ruleset_from

from storage.store import Store
from storage.tables import AUDIT, INTERACTIONS, UNANSWERED

CONFIG = """
groups: [{id: g1, name: 一群}]
roles: [{member: alice, role: admin}]
%(retention)s
faq:
  entries: [{id: refund, questions: [怎么申请退款], answer: 退款说明}]
rules:
  - {name: 打标签, when: {command: [/tag]}, do: {action: admin, command: tag}}
  - {name: 答疑, when: {question: true}, do: {action: faq}}
"""
RETENTION = "retention: {message_text_days: 30, unanswered_days: 45, audit_days: 60}"


def days_of_chatter(first: date, last: date) -> list[str]:
    """A member speaks every few days, so the bot's clock runs through every night."""
    lines, day = [], first
    while day <= last:
        lines.append(message(f"{day.isoformat()}T12:00", "carol", f"{day:%m-%d} 早"))
        day += timedelta(days=3)
    return lines


def play(db: str, retention: str) -> None:
    lines = [
        message("2026-10-01T10:00", "bob", "周末有线下活动吗？"),
        message("2026-10-01T10:01", "alice", "/tag bob 老客户"),
        *days_of_chatter(date(2026, 10, 2), date(2026, 12, 10)),
    ]
    store = Store(db)
    try:
        replay(ruleset_from(CONFIG % {"retention": retention}), store, lines)
    finally:
        store.close()


def facts(db: str) -> dict[str, object]:
    store = Store(db)
    try:
        with store.engine.connect() as c:
            old = INTERACTIONS.c.at < at("2026-10-02T00:00")
            return {
                "rows": c.execute(select(func.count()).select_from(INTERACTIONS)).scalar_one(),
                "old texts": c.execute(
                    select(func.count()).where(old, INTERACTIONS.c.text.is_not(None))
                ).scalar_one(),
                "old rows": c.execute(select(func.count()).where(old)).scalar_one(),
                "recent text": c.execute(
                    select(INTERACTIONS.c.text).order_by(INTERACTIONS.c.at.desc()).limit(1)
                ).scalar_one(),
                "queued": c.execute(select(func.count()).select_from(UNANSWERED)).scalar_one(),
                "audit": [
                    (r.action, r.detail)
                    for r in c.execute(select(AUDIT.c.action, AUDIT.c.detail).order_by(AUDIT.c.id))
                ],
            }
    finally:
        store.close()


def test_the_daily_job_forgets_what_is_older_than_the_config_allows(db_url: str) -> None:
    play(db_url, RETENTION)
    seen = facts(db_url)
    assert seen["old rows"] == 2 and seen["old texts"] == 0  # blanked, not deleted
    assert seen["recent text"] == "12-10 早"
    assert seen["queued"] == 0  # the October question is past 45 days
    audit = seen["audit"]
    assert isinstance(audit, list)
    assert "tag" not in [action for action, _ in audit]  # the October /tag is past 60 days
    runs = [detail for action, detail in audit if action == "retention"]
    assert runs and all("message texts" in detail for detail in runs)
    assert any("message texts 2" in detail for detail in runs)  # the day October 1 fell out


def test_without_retention_nothing_is_forgotten(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    play(db, "")
    seen = facts(db)
    assert seen["old texts"] == 2 and seen["queued"] == 1
    assert "retention" not in [action for action, _ in seen["audit"]]  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["{message_text_days: 0}", "{audit_days: -1}", "{keep: 3}"])
def test_a_bad_retention_is_refused(bad: str) -> None:
    from triggers.loader import ConfigError

    with pytest.raises(ConfigError, match="retention"):
        ruleset_from(f"retention: {bad}\nrules: []")
