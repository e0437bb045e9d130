"""System tags: the daily layer job tags who asks often, who helps askers, who keeps a
check-in streak and who brings people in; it takes the tag back when that stops holding,
and leaves a tag of the same name an admin set alone."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from support import at, join, message, replay, ruleset_from

from storage.store import Store
from storage.tables import MEMBER_TAGS
from storage.tags import TagSource
from triggers.loader import ConfigError

CONFIG = """
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
faq:
  entries: [{id: invoice, questions: [怎么开发票], answer: 在订单页申请}]
rules:
  - {name: 签到, when: {command: [签到]}, do: {action: checkin}}
  - {name: 答疑, when: {question: true}, do: {action: faq}}
"""


def day(n: int, hour: str = "10:00") -> str:
    return f"{(date(2026, 11, 2) + timedelta(days=n)).isoformat()}T{hour}:00+08:00"


def first_week() -> list[str]:
    lines = [message(day(n, "08:00"), "dave", "签到") for n in range(8)]  # 11-02 … 11-09
    lines += [message(day(0, f"10:0{i}"), "bob", "请问怎么开发票？") for i in range(5)]
    lines += [message(day(1, f"11:0{i}"), "amy", f"周末第{i}场活动几点开始？") for i in range(3)]
    lines.append(message(day(1, "11:30"), "carol", "@Amy 八点开始", mentions=["amy"]))
    lines += [join(day(2, f"12:0{i}"), f"new{i}", inviter="erin") for i in range(3)]
    return sorted(lines, key=lambda line: json.loads(line)["at"])  # a transcript runs forward


def system_tags(store: Store, when: str) -> dict[str, set[str]]:
    with store.transaction() as tx:
        rows = tx.tag_rows("g1", at(when))
    tags: dict[str, set[str]] = {}
    for row in rows:
        if row.source is TagSource.SYSTEM:
            tags.setdefault(row.tag, set()).add(row.member)
    return tags


def test_the_daily_job_gives_system_tags_by_behaviour(store: Store) -> None:
    with store.transaction() as tx:  # an admin's own 常问 for frank: not the job's
        tx.observe("g1", "frank", at(day(0, "07:00")))
        tx.tag("g1", "frank", "常问", TagSource.ADMIN, at(day(0, "07:00")), set_by="alice")
    rules = ruleset_from(CONFIG)
    replay(rules, store, [*first_week(), message(day(8, "09:00"), "zoe", "早")])
    given = {"常问": {"bob"}, "热心": {"carol"}, "签到达人": {"dave"}, "邀请达人": {"erin"}}
    assert system_tags(store, day(8, "09:30")) == given  # the 11-10 job
    # 11-11 (the bot restarted meanwhile): dave did not check in on 11-10, his streak is
    # over; the rest still holds.
    replay(rules, store, [message(day(9, "09:00"), "zoe", "早")])
    ended = {tag: members for tag, members in given.items() if tag != "签到达人"}
    assert system_tags(store, day(9, "09:30")) == ended
    with store.transaction() as tx:
        assert tx.tags_of("g1", "frank", at(day(9, "09:30"))) == ["常问"]


def test_system_tags_are_taken_back_when_they_stop_holding(store: Store) -> None:
    lines = first_week() + [message(day(n, "09:00"), "zoe", "早") for n in range(8, 40)]
    replay(ruleset_from(CONFIG), store, lines)
    # 12-11: dave's streak ended a month ago, bob's questions and erin's invitations are
    # older than 30 days, and so is the help carol gave.
    assert system_tags(store, day(39, "09:30")) == {}
    with store.engine.connect() as connection:  # taken back by the job, not left to expire
        assert connection.execute(select(func.count()).select_from(MEMBER_TAGS)).scalar() == 0


def test_the_tags_last_two_days_without_the_job(store: Store) -> None:
    lines = [*first_week(), message(day(8, "09:00"), "zoe", "早")]
    replay(ruleset_from(CONFIG), store, lines)
    assert "签到达人" in system_tags(store, day(8, "09:30"))
    after = datetime.fromisoformat(day(11, "04:30"))  # no job ran since 11-10 04:00
    assert system_tags(store, after.isoformat()) == {}


def test_two_system_tags_with_one_name_are_refused_with_the_line() -> None:
    bad = (
        "system_tags:\n"
        "  frequent_asker: {tag: 达人, at_least: 5}\n"
        "  top_inviter: {tag: 达人, at_least: 3}\n"
        "rules: []\n"
    )
    with pytest.raises(ConfigError) as caught:
        ruleset_from(bad)
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (1, "system_tags")
    assert "given twice: 达人" in problem.message
