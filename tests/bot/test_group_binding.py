"""Groups the config names by topic: bound to their room when first seen, kept through renames
and restarts, with their rules and schedules."""

from __future__ import annotations

import pytest
from support import at, ruleset_from

from bot.dispatcher import Dispatcher
from core.events import Event, EventKind
from core.jobs import JobId, JobKind
from storage.store import Store
from triggers.engine import Engine

CONFIG = """
groups:
  - {topic: 产品交流群, name: 产品群}
rules:
  - name: 签到
    when: {command: [签到]}
    if: {groups: [产品交流群]}
    do: {action: checkin, text: "{{ group.name }} {{ member.id }} {{ balance }}"}
  - name: 早报
    when: {schedule: {at: '08:00'}}
    do: {action: briefing, text: "早报 {{ group.id }}"}
"""


def say(room: str, topic: str | None, when: str, text: str = "签到") -> Event:
    return Event(
        kind=EventKind.MESSAGE, group=room, at=at(when), member="bob", text=text, group_name=topic
    )


def test_a_group_named_by_topic_is_bound_on_first_sight_and_keeps_its_binding(db_url: str) -> None:
    store = Store(db_url)
    dispatcher = Dispatcher(store, Engine(ruleset_from(CONFIG)))
    dispatcher.restore(at("2026-11-24T07:00:00"))
    assert dispatcher.jobs.jobs(JobKind.RULE) == {}  # nothing to schedule until the room is known
    assert dispatcher.process([say("r1", "别的群", "2026-11-24T07:01:00")]) == []
    replies = dispatcher.process([say("r2", "产品交流群", "2026-11-24T07:02:00")])
    assert [(r.group, r.text) for r in replies] == [("r2", "@bob 产品群 bob 10")]
    assert set(dispatcher.jobs.jobs(JobKind.RULE)) == {JobId.for_rule("早报", "r2")}

    rename = Event(
        kind=EventKind.TOPIC,
        group="r2",
        at=at("2026-11-24T07:03:00"),
        member="alice",
        group_name="产品交流群（二期）",
    )
    dispatcher.process([rename])
    later = dispatcher.process([say("r2", "产品交流群（二期）", "2026-11-24T08:00:01", "hi")])
    assert [(r.group, r.text) for r in later] == [("r2", "早报 r2")]
    dispatcher.close()
    store.close()

    reopened = Store(db_url)
    restarted = Dispatcher(reopened, Engine(ruleset_from(CONFIG)))
    restarted.restore(at("2026-11-25T07:00:00"))
    assert restarted.engine.ruleset.serves("r2")
    replies = restarted.process([say("r2", "产品交流群（二期）", "2026-11-25T07:01:00")])
    assert [(r.group, r.text) for r in replies] == [("r2", "@bob 产品群 bob 20")]
    with reopened.transaction() as tx:
        assert tx.group_bindings() == {"产品交流群": "r2"}
        assert tx.group_name("r2") == "产品交流群（二期）"
    restarted.close()
    reopened.close()


def test_a_group_needs_an_id_or_a_topic() -> None:
    import pytest

    from triggers.loader import ConfigError

    with pytest.raises(ConfigError, match="'id' or its 'topic'"):
        ruleset_from("groups: [{name: x}]\n")
    with pytest.raises(ConfigError, match="'id' or its 'topic'"):
        ruleset_from("groups: [{id: a, topic: b}]\n")


def test_a_broadcast_names_a_group_by_topic_or_by_its_bound_room(db_url: str) -> None:
    from triggers.broadcasts import BroadcastError, BroadcastRequest

    store = Store(db_url)
    dispatcher = Dispatcher(store, Engine(ruleset_from(CONFIG)))
    dispatcher.restore(at("2026-11-24T07:00:00"))
    now = at("2026-11-24T07:10:00")

    def add(target: str) -> tuple[str, ...] | None:
        request = BroadcastRequest(text="通知", groups=(target,), at=None)
        with store.transaction() as tx:
            number = dispatcher.operations.broadcasts.create(tx, request, "ops", now, True)
            row = tx.broadcast(number)
        assert row is not None
        return row.groups

    with pytest.raises(BroadcastError, match="has not seen that room yet"):
        add("产品交流群")
    dispatcher.process([say("r2", "产品交流群", "2026-11-24T07:02:00")])
    assert add("产品交流群") == ("r2",)  # by the topic config.yaml uses
    assert add("r2") == ("r2",)  # by the room id `qunbot groups` shows
    store.close()
