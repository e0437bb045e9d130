"""Scheduled rules and the morning briefing, on a fake clock: right times in each group's
zone, exactly once per morning through restarts, late within grace, skipped beyond it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from support import at, join, make_event, message, replay, ruleset_from

from bot.dispatcher import MAX_TICK_RETRIES, Dispatcher
from core.jobs import JobId, JobKind, Tick
from storage.store import Store
from storage.tables import OUTBOX
from triggers.engine import Engine

CONFIG = """
groups:
  - {id: g1, name: 上海群}
  - {id: g2, name: Berlin, timezone: Europe/Berlin}
rules:
  - name: 早报
    when:
      schedule: {at: '08:00', grace: 30m}
    do:
      action: briefing
      items: [今日要点一]
      text: "{{ group.name }} {{ date }} {{ weekday_name }} items={{ items|join('/') }} msgs={{ yesterday.messages }} checkins={{ yesterday.checkins }}"
  - name: 签到
    when: {command: [签到]}
    do: {action: checkin, text: ok}
"""


def briefings(out_said: list[dict[str, object]]) -> list[tuple[str, str]]:
    return [(str(s["group"]), str(s["at"])) for s in out_said if "items=" in str(s["text"])]


def test_three_days_of_briefings_in_two_time_zones(store: Store) -> None:
    lines = [
        message("2026-11-24T06:00:00+08:00", "bob", "hi"),
        message("2026-11-25T12:00:00+08:00", "bob", "hi", group="g2"),
        message("2026-11-26T23:00:00+01:00", "bob", "hi"),
    ]
    out = replay(ruleset_from(CONFIG), store, lines)
    assert briefings(out.said) == [
        ("g1", "2026-11-24T08:00:00+08:00"),
        ("g2", "2026-11-24T08:00:00+01:00"),
        ("g1", "2026-11-25T08:00:00+08:00"),
        ("g2", "2026-11-25T08:00:00+01:00"),
        ("g1", "2026-11-26T08:00:00+08:00"),
        ("g2", "2026-11-26T08:00:00+01:00"),
    ]


def test_the_briefing_reports_yesterday_in_the_groups_own_day(store: Store) -> None:
    lines = [
        message("2026-11-23T09:00:00+08:00", "bob", "签到"),
        message("2026-11-23T09:01:00+08:00", "carol", "签到"),
        message("2026-11-23T23:59:00+08:00", "dave", "聊天"),
        message("2026-11-24T00:01:00+08:00", "erin", "today, not yesterday"),
        message("2026-11-24T09:00:00+08:00", "bob", "hi"),
    ]
    out = replay(ruleset_from(CONFIG), store, lines)
    shanghai = [s["text"] for s in out.said if str(s["text"]).startswith("上海群 2026-11-24")]
    assert shanghai == ["上海群 2026-11-24 星期二 items=今日要点一 msgs=3 checkins=2"]


def dispatcher(db_url: str, config: str = CONFIG) -> Dispatcher:
    return Dispatcher(Store(db_url), Engine(ruleset_from(config)))


def outbox_keys(store: Store) -> list[str]:
    with store.transaction() as tx:
        return [k for (k,) in tx._c.execute(select(OUTBOX.c.key).where(OUTBOX.c.key.is_not(None)))]


def stop(d: Dispatcher) -> None:
    d.close()
    d.store.close()


def test_down_over_eight_and_back_within_grace_sends_one_late_briefing(db_url: str) -> None:
    first = dispatcher(db_url)
    first.restore(at("2026-11-24T07:00:00"))
    first.process([make_event(when="2026-11-24T07:30:00+08:00", text_="hi")])
    stop(first)  # down at 07:30, back at 08:20

    second = dispatcher(db_url)
    second.restore(at("2026-11-24T08:20:00"))
    replies = second.process([make_event(when="2026-11-24T08:20:00+08:00", text_="hi")])
    late = [r for r in replies if r.group == "g1" and "items=" in r.text]
    assert len(late) == 1
    assert late[0].at == at("2026-11-24T08:20:00")  # sent late, when the bot is back
    assert late[0].key == "rule:早报:g1@2026-11-24T08:00#0"  # for the 08:00 run
    stop(second)

    third = dispatcher(db_url)  # another restart the same morning sends nothing again
    third.restore(at("2026-11-24T08:40:00"))
    again = third.process([make_event(when="2026-11-24T08:40:00+08:00", text_="hi")])
    assert [r for r in again if r.group == "g1"] == []
    assert outbox_keys(third.store).count("rule:早报:g1@2026-11-24T08:00#0") == 1
    stop(third)


def test_down_beyond_grace_skips_the_morning_and_logs_it(db_url: str, warnings: list[str]) -> None:
    first = dispatcher(db_url)
    first.restore(at("2026-11-24T07:00:00"))
    stop(first)

    second = dispatcher(db_url)
    second.restore(at("2026-11-24T09:00:00"))
    replies = second.process([make_event(when="2026-11-24T09:00:00+08:00", text_="hi")])
    assert [r for r in replies if r.group == "g1"] == []
    assert any("missed by 1:00:00 (beyond grace): skipped" in w for w in warnings)
    # The next morning runs as usual.
    tomorrow = second.process([make_event(when="2026-11-25T08:00:05+08:00", text_="hi")])
    assert [(r.group, r.at) for r in tomorrow if r.group == "g1"] == [
        ("g1", at("2026-11-25T08:00:00"))
    ]
    stop(second)


def test_two_drivers_on_one_database_store_one_briefing(db_url: str) -> None:
    one, two = dispatcher(db_url), dispatcher(db_url)
    one.restore(at("2026-11-24T07:00:00"))
    two.restore(at("2026-11-24T07:00:00"))
    one.process([make_event(when="2026-11-24T08:00:01+08:00", text_="hi")])
    two.process([make_event(when="2026-11-24T08:00:02+08:00", text_="hi")])
    keys = outbox_keys(one.store)
    assert keys.count("rule:早报:g1@2026-11-24T08:00#0") == 1
    stop(one)
    stop(two)


def test_an_unchanged_schedule_keeps_its_next_run_and_a_changed_one_moves(db_url: str) -> None:
    first = dispatcher(db_url)
    first.restore(at("2026-11-24T07:00:00"))
    assert first.jobs.next_due() == at("2026-11-24T08:00:00")  # Shanghai's 08:00 comes first
    stop(first)
    # Restarted at 07:59 with the same config: the 08:00 run is still owed.
    same = dispatcher(db_url)
    same.restore(at("2026-11-24T07:59:00"))
    assert same.jobs.next_due() == at("2026-11-24T08:00:00")
    stop(same)
    moved = dispatcher(db_url, CONFIG.replace("at: '08:00'", "at: '09:30'"))
    moved.restore(at("2026-11-24T07:59:00"))
    assert moved.jobs.next_due() == at("2026-11-24T09:30:00")
    stop(moved)
    gone = dispatcher(
        db_url,
        CONFIG.split("  - name: 早报")[0] + "  - name: 签到" + CONFIG.split("  - name: 签到")[1],
    )
    gone.restore(at("2026-11-24T07:59:00"))
    assert gone.jobs.jobs(JobKind.RULE) == {}
    # What stays is each group's daily layer job, at 04:00 in its own zone.
    assert gone.jobs.jobs(JobKind.LAYERS) == {
        JobId.for_layers("g1"): at("2026-11-25T04:00:00+08:00"),
        JobId.for_layers("g2"): at("2026-11-24T04:00:00+01:00"),
    }
    stop(gone)


def test_weekdays_and_skip_dates(store: Store) -> None:
    config = CONFIG.replace(
        "schedule: {at: '08:00', grace: 30m}",
        "schedule: {at: '08:00', days: [mon, tue, wed, thu, fri], skip_dates: [2026-11-25]}",
    )
    # 2026-11-23 is a Monday; the 25th is skipped, the 28th and 29th are a weekend.
    # (No gap reaches a week: that would count as downtime.)
    lines = [
        message("2026-11-23T07:00:00+08:00", "bob", "hi"),
        message("2026-11-27T12:00:00+08:00", "bob", "hi"),
        message("2026-11-30T09:00:00+08:00", "bob", "hi"),
    ]
    out = replay(
        ruleset_from(config.replace("  - {id: g2, name: Berlin, timezone: Europe/Berlin}\n", "")),
        store,
        lines,
    )
    days = [at_[:10] for _, at_ in briefings(out.said)]
    assert days == ["2026-11-23", "2026-11-24", "2026-11-26", "2026-11-27", "2026-11-30"]


def test_items_file_is_read_at_send_time(tmp_path: Path, store: Store) -> None:
    items = tmp_path / "today.json"
    items.write_text('{"2026-11-24": ["直播 20:00", "新品上线"]}', encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text(
        CONFIG.replace("items: [今日要点一]", "items_file: today.json"), encoding="utf-8"
    )
    from triggers.loader import load_ruleset

    lines = [
        message("2026-11-24T07:00:00+08:00", "bob", "hi"),
        message("2026-11-24T09:00:00+08:00", "bob", "hi"),
    ]
    out = replay(load_ruleset(config), store, lines)
    assert "items=直播 20:00/新品上线" in out.said[0]["text"]


def test_a_missing_items_file_is_a_config_error(tmp_path: Path) -> None:
    from triggers.loader import ConfigError

    with pytest.raises(ConfigError, match="file not found"):
        ruleset_from(CONFIG.replace("items: [今日要点一]", "items_file: nope.md"), tmp_path)


def test_schedule_config_errors() -> None:
    from triggers.loader import ConfigError

    cases = {
        "schedule: {at: '08:00', cron: '0 8 * * *'}": "either 'at'",
        "schedule: {cron: '0 25 * * *'}": "invalid cron line",
        "schedule: {at: '08:00'}\n      command: [x]": "takes no",
    }
    for schedule, fragment in cases.items():
        with pytest.raises(ConfigError, match=fragment):
            ruleset_from(CONFIG.replace("schedule: {at: '08:00', grace: 30m}", schedule))
    with pytest.raises(ConfigError, match="needs groups"):
        ruleset_from(
            "rules:\n  - name: x\n    when: {schedule: {at: '08:00'}}\n    do: {action: briefing}\n"
        )
    with pytest.raises(ConfigError, match="needs a schedule trigger"):
        ruleset_from("rules:\n  - name: x\n    when: {command: [x]}\n    do: {action: briefing}\n")


@pytest.mark.parametrize(
    "later", ["2026-12-02T09:00:00", "2027-11-24T08:10:00", "9998-12-31T08:10:00"]
)
def test_a_jump_of_the_clock_beyond_a_week_is_downtime(
    store: Store, warnings: list[str], later: str
) -> None:
    lines = [message("2026-11-24T07:00:00+08:00", "bob", "hi"), message(later, "bob", "hi")]
    out = replay(ruleset_from(CONFIG), store, lines)
    # Shanghai's morning catches up within grace (08:10) or is skipped (09:00); Berlin's
    # is hours away in both cases. Never a briefing per missed morning.
    expected = [("g1", at(later).isoformat())] if later.endswith("08:10:00") else []
    assert briefings(out.said) == expected
    assert sum("the clock jumped" in w for w in warnings) == 1


def test_a_jump_under_a_week_is_lived_through_morning_by_morning(store: Store) -> None:
    lines = [
        message("2026-11-24T07:00:00+08:00", "bob", "hi"),
        message("2026-11-30T09:00:00+08:00", "bob", "hi", group="g2"),
    ]
    out = replay(ruleset_from(CONFIG), store, lines)
    assert [g for g, _ in briefings(out.said)].count("g1") == 7


def test_a_repeated_autumn_hour_replays_to_the_end_with_one_run_a_day(store: Store) -> None:
    config = """
timezone: America/New_York
groups: [{id: g1}]
rules:
  - name: night
    when: {schedule: {at: '01:30'}}
    do: {action: reply, text: "night {{ now }}"}
"""
    lines = [
        message("2026-10-31T12:00:00-04:00", "bob", "hi"),
        message("2026-11-02T12:00:00-05:00", "bob", "hi"),
    ]
    out = replay(ruleset_from(config), store, lines)
    assert out.texts == ["night 2026-11-01 01:30:00-04:00", "night 2026-11-02 01:30:00-05:00"]


def test_a_late_run_after_midnight_renders_for_its_scheduled_day(db_url: str) -> None:
    config = CONFIG.replace("{at: '08:00', grace: 30m}", "{at: '23:50', grace: 30m}").replace(
        "items={{", "now={{ now.strftime('%H:%M') }} y={{ yesterday.date }} items={{"
    )
    first = dispatcher(db_url, config)
    first.restore(at("2026-11-24T23:00:00"))
    first.process([make_event(when="2026-11-24T23:00:00+08:00", text_="签到")])
    stop(first)  # down at 23:00, back at 00:10

    second = dispatcher(db_url, config)
    second.restore(at("2026-11-25T00:10:00"))
    replies = second.process([make_event(when="2026-11-25T00:10:00+08:00", text_="hi")])
    [late] = [r for r in replies if r.group == "g1" and "items=" in r.text]
    assert late.text.startswith("上海群 2026-11-24 星期二 now=23:50 y=2026-11-23 ")
    assert "checkins=0" in late.text  # the 23rd's numbers, not the 24th's check-in
    assert late.at == at("2026-11-25T00:10:00")  # decided (and sent) when the bot is back
    stop(second)


def test_a_timer_that_always_fails_is_retried_a_few_times_then_left_for_the_next_start(
    store: Store, warnings: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ruleset = ruleset_from(
        "rules:\n  - name: hi\n    when: {event: join}\n    do: {action: welcome, burst_window: 30s}\n"
    )
    handle = Engine.handle
    ticks: list[Tick] = []

    def failing_ticks(self: Engine, event, *args):  # type: ignore[no-untyped-def]
        if event.tick and len(ticks) < 100:  # beyond 100: retried without end, let it pass
            ticks.append(event.tick)
            raise RuntimeError("the welcome cannot be decided")
        return handle(self, event, *args)

    monkeypatch.setattr(Engine, "handle", failing_ticks)
    out = replay(ruleset, store, [join("2026-11-24T08:00:00", "bob")])
    assert out.said == []
    assert len(ticks) == 1 + MAX_TICK_RETRIES
    assert any("no more retries until the next start" in w for w in warnings)
    with store.transaction() as tx:
        assert tx.next_welcome_due() is not None  # still owed: the next start tries again
