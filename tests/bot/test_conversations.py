"""Whole conversations through the replay adapter: given this transcript, the bot says
exactly this, and the store holds exactly that."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from support import at, join, leave, make_event, message, replay, ruleset_from

from bot.dispatcher import Dispatcher
from storage.store import Store, StoreTx
from storage.tables import CHECKINS, INTERACTIONS, LEDGER, UNANSWERED
from triggers.engine import Engine

CONFIG = """
timezone: Asia/Shanghai
groups:
  - {id: g1, name: 测试群}
  - {id: g2, name: Berlin group, timezone: Europe/Berlin}
roles:
  - {member: alice, role: admin}
points:
  levels:
    - {name: 新人, min: 0}
    - {name: 活跃, min: 30}
faq:
  threshold: 60
  entries:
    - id: refund
      questions: [怎么申请退款]
      keywords: [退款]
      answer: "退款说明"
rules:
  - name: welcome
    when: {event: join}
    do:
      action: welcome
      burst_window: 30s
      text: "欢迎 {{ names }}"
  - name: checkin
    when: {command: [签到, checkin]}
    do:
      action: checkin
      points: 10
      streak_bonus: {7: 50}
      text: "{{ member.name }} 第{{ checkin.rank }} 连续{{ checkin.streak }} +{{ checkin.points }} ={{ balance }}"
      already_text: "{{ member.name }} 已签到"
  - name: my points
    when: {command: [积分]}
    do: {action: my_points, text: "{{ balance }} {{ level.name }} 连续{{ streak }}"}
  - name: board
    when: {command: [排行榜]}
    do: {action: leaderboard, text: "{% for r in rows %}{{ r.name }}={{ r.points }};{% endfor %}"}
  - name: faq
    when: {question: true}
    priority: -10
    do: {action: faq, text: "已记录"}
"""


@pytest.fixture
def rules():  # type: ignore[no-untyped-def]
    return ruleset_from(CONFIG)


def count(store: Store, table, *where) -> int:  # type: ignore[no-untyped-def]
    with store.transaction() as tx:
        return int(
            tx._c.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )


def test_a_burst_of_joins_gets_one_welcome_and_a_late_join_its_own(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            join("2026-11-24T08:00:00", "bob", inviter="alice"),
            join("2026-11-24T08:00:10", "carol"),
            join("2026-11-24T08:00:29", "dave"),
            join("2026-11-24T08:00:31", "erin"),
            message("2026-11-24T08:05:00", "bob", "hello"),
        ],
    )
    assert out.said == [
        {
            "at": "2026-11-24T08:00:30+08:00",
            "group": "g1",
            "text": "@Bob @Carol @Dave 欢迎 Bob、Carol、Dave",
            "mentions": ["bob", "carol", "dave"],
        },
        {
            "at": "2026-11-24T08:01:01+08:00",
            "group": "g1",
            "text": "@Erin 欢迎 Erin",
            "mentions": ["erin"],
        },
    ]
    with store.transaction() as tx:
        assert tx.next_welcome_due() is None
        assert tx.active_members("g1") == 5  # four newcomers and the inviter
    assert count(store, INTERACTIONS, INTERACTIONS.c.kind == "join") == 4


def test_twenty_joins_in_a_minute_are_one_message(rules, store) -> None:  # type: ignore[no-untyped-def]
    lines = [join(f"2026-11-24T08:00:{i:02d}", f"m{i:02d}") for i in range(20)]
    out = replay(rules, store, lines)
    assert len(out.said) == 1
    assert out.said[0]["mentions"] == [f"m{i:02d}" for i in range(20)]


def test_a_member_who_leaves_before_the_welcome_is_not_welcomed(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            join("2026-11-24T08:00:00", "bob"),
            join("2026-11-24T08:00:05", "carol"),
            leave("2026-11-24T08:00:10", "carol"),
        ],
    )
    assert out.said == [
        {
            "at": "2026-11-24T08:00:30+08:00",
            "group": "g1",
            "text": "@Bob 欢迎 Bob",
            "mentions": ["bob"],
        }
    ]


def test_check_in_day_boundary_is_the_groups_local_midnight(rules, store) -> None:  # type: ignore[no-untyped-def]
    # 23:59 and 00:01 Shanghai time are two days, though both fall on 2026-11-24 in UTC.
    out = replay(
        rules,
        store,
        [
            message("2026-11-24T23:59:00+08:00", "bob", "签到"),
            message("2026-11-25T00:01:00+08:00", "bob", "签到"),
            message("2026-11-25T00:02:00+08:00", "bob", "签到"),
        ],
    )
    assert out.texts == [
        "@Bob Bob 第1 连续1 +10 =10",
        "@Bob Bob 第1 连续2 +10 =20",
        "@Bob Bob 已签到",
    ]
    with store.transaction() as tx:
        days = [r[0] for r in tx._c.execute(select(CHECKINS.c.day).order_by(CHECKINS.c.day))]
    assert days == [date(2026, 11, 24), date(2026, 11, 25)]


def test_the_day_boundary_follows_each_groups_own_timezone(rules, store) -> None:  # type: ignore[no-untyped-def]
    # 03:30 in Shanghai on the 25th is still the 24th in Berlin (20:30).
    out = replay(
        rules,
        store,
        [
            message("2026-11-24T20:00:00+01:00", "bob", "签到", group="g2"),
            message("2026-11-25T03:30:00+08:00", "bob", "签到", group="g2"),
            message("2026-11-25T00:10:00+01:00", "bob", "签到", group="g2"),
        ],
    )
    assert out.texts == [
        "@Bob Bob 第1 连续1 +10 =10",
        "@Bob Bob 已签到",
        "@Bob Bob 第1 连续2 +10 =20",
    ]
    assert out.said[0]["at"] == "2026-11-24T20:00:00+01:00"


def test_a_seven_day_streak_earns_the_bonus_once(rules, store) -> None:  # type: ignore[no-untyped-def]
    start = date(2026, 11, 1)
    lines = [
        message(f"{(start + timedelta(days=d)).isoformat()}T08:00:00", "bob", "签到")
        for d in range(8)
    ]
    out = replay(rules, store, lines)
    assert out.texts[5] == "@Bob Bob 第1 连续6 +10 =60"
    assert out.texts[6] == "@Bob Bob 第1 连续7 +60 =120"
    assert out.texts[7] == "@Bob Bob 第1 连续8 +10 =130"
    with store.transaction() as tx:
        reasons = [r[0] for r in tx._c.execute(select(LEDGER.c.reason).order_by(LEDGER.c.id))]
        assert tx.ledger_total("g1", "bob") == 130
    assert reasons.count("streak_bonus:7") == 1
    assert reasons.count("checkin") == 8


def test_double_check_in_answers_already_and_grants_nothing(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            message("2026-11-24T08:00:00", "bob", "签到"),
            message("2026-11-24T08:00:01", "bob", "checkin"),
            message("2026-11-24T21:00:00", "bob", "签到"),
            message("2026-11-24T21:00:05", "carol", "签到"),
        ],
    )
    assert out.texts == [
        "@Bob Bob 第1 连续1 +10 =10",
        "@Bob Bob 已签到",
        "@Bob Bob 已签到",
        "@Carol Carol 第2 连续1 +10 =10",
    ]
    assert count(store, CHECKINS) == 2
    assert count(store, LEDGER, LEDGER.c.member_id == "bob") == 1


def test_points_and_leaderboard_commands(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            message("2026-11-23T08:00:00", "bob", "签到"),
            message("2026-11-24T08:00:00", "bob", "签到"),
            message("2026-11-24T08:01:00", "carol", "签到"),
            message("2026-11-24T08:02:00", "bob", "积分"),
            message("2026-11-24T08:03:00", "dave", "积分"),
            message("2026-11-24T08:04:00", "dave", "排行榜"),
        ],
    )
    assert out.texts[3:] == ["@Bob 20 新人 连续2", "@Dave 0 新人 连续0", "Bob=20;Carol=10;"]


def test_faq_answers_a_reworded_question_and_records_a_miss(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            message("2026-11-24T08:00:00", "bob", "请问如何申请退款呢？"),
            message("2026-11-24T08:01:00", "carol", "周末有线下活动吗？"),
            message("2026-11-24T08:02:00", "dave", "今天天气不错"),
        ],
    )
    assert out.said == [
        {
            "at": "2026-11-24T08:00:00+08:00",
            "group": "g1",
            "text": "@Bob 退款说明",
            "mentions": ["bob"],
        },
        {
            "at": "2026-11-24T08:01:00+08:00",
            "group": "g1",
            "text": "@Carol 已记录",
            "mentions": ["carol"],
        },
    ]
    with store.transaction() as tx:
        unanswered = tx.unanswered("g1")
    assert [(q.member, q.text, q.at) for q in unanswered] == [
        ("carol", "周末有线下活动吗？", at("2026-11-24T08:01:00"))
    ]
    assert count(store, UNANSWERED) == 1


def test_every_message_is_recorded_with_the_rule_that_answered(rules, store) -> None:  # type: ignore[no-untyped-def]
    replay(
        rules,
        store,
        [
            message("2026-11-24T08:00:00", "bob", "签到"),
            message("2026-11-24T08:00:30", "bob", "随便聊聊"),
        ],
    )
    with store.transaction() as tx:
        rows = tx._c.execute(
            select(INTERACTIONS.c.kind, INTERACTIONS.c.text, INTERACTIONS.c.rule).order_by(
                INTERACTIONS.c.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("message", "签到", "checkin"),
        ("message", "随便聊聊", None),
    ]


def test_batched_and_unbatched_runs_say_the_same(rules, store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = [
        join("2026-11-24T08:00:00", "bob"),
        message("2026-11-24T08:00:40", "bob", "签到"),
        message("2026-11-24T08:00:41", "bob", "积分"),
    ]
    batched = replay(rules, store, lines, batch_size=256)
    single = replay(rules, Store(f"sqlite:///{tmp_path / 'other.db'}"), lines, batch_size=1)
    assert batched.said == single.said
    assert len(batched.said) == 3


def test_groups_not_listed_in_the_config_are_ignored(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(rules, store, [message("2026-11-24T08:00:00", "bob", "签到", group="other")])
    assert out.said == []
    assert count(store, INTERACTIONS) == 0


def test_member_text_is_data_never_a_template(store) -> None:  # type: ignore[no-untyped-def]
    rules = ruleset_from(
        """
rules:
  - name: echo
    when: {command: [说]}
    do: {action: reply, text: "你说：{{ match.args }} / {{ message }}"}
"""
    )
    out = replay(
        rules,
        store,
        [message("2026-11-24T08:00:00", "{{7*7}}", "说 {{ 7*7 }} {% raw %}", name="{{ 7*7 }}")],
    )
    assert out.texts == ["你说：{{ 7*7 }} {% raw %} / 说 {{ 7*7 }} {% raw %}"]


def test_a_restart_sends_a_pending_welcome_once(rules, db_url) -> None:  # type: ignore[no-untyped-def]
    """Kill the bot between a join and its welcome: the next run welcomes, exactly once."""
    first = Store(db_url)
    dispatcher = Dispatcher(first, Engine(rules))
    assert (
        dispatcher.process([make_event("join", when="2026-11-24T08:00:00+08:00", member="bob")])
        == []
    )
    first.close()  # the process dies here: no drain, no timer

    second = Store(db_url)
    restarted = Dispatcher(second, Engine(rules))
    restarted.restore(at("2026-11-24T08:01:00"))
    replies = restarted.process(
        [make_event(when="2026-11-24T08:01:00+08:00", member="carol", text_="hi")]
    )
    assert [(r.text, r.mentions) for r in replies] == [("@Bob 欢迎 Bob", ("bob",))]
    # Sent when the bot is back (08:01), not at the due time it slept through.
    assert replies[0].at == at("2026-11-24T08:01:00")
    second.close()

    third = Store(db_url)
    again = Dispatcher(third, Engine(rules))
    again.restore(at("2026-11-24T09:00:00"))
    assert (
        again.process([make_event(when="2026-11-24T09:00:00+08:00", member="carol", text_="hi")])
        == []
    )
    assert again.drain() == []
    third.close()


def test_a_welcome_overdue_beyond_max_delay_is_dropped_not_sent(rules, store) -> None:  # type: ignore[no-untyped-def]
    dispatcher = Dispatcher(store, Engine(rules))
    dispatcher.process([make_event("join", when="2026-11-24T08:00:00+08:00", member="bob")])
    restarted = Dispatcher(store, Engine(rules))
    restarted.restore(at("2026-11-24T13:00:00"))
    # Back after five hours: default max_delay is two hours, so no stale welcome.
    replies = restarted.process(
        [make_event(when="2026-11-24T13:00:00+08:00", member="carol", text_="hi")]
    )
    assert replies == []
    with store.transaction() as tx:
        assert tx.next_welcome_due() is None


def test_a_failing_action_rolls_back_its_event_only(rules, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from triggers.actions import checkin

    real_run = checkin.CheckinAction.run

    def exploding(self, event, match, ctx):  # type: ignore[no-untyped-def]
        if event.member == "bob":
            ctx.tx.grant_points(event.group, event.member, 999, "half-done", event.at)
            raise RuntimeError("boom")
        return real_run(self, event, match, ctx)

    monkeypatch.setattr(checkin.CheckinAction, "run", exploding)
    out = replay(
        rules,
        store,
        [
            message("2026-11-24T08:00:00", "bob", "签到"),
            message("2026-11-24T08:00:01", "carol", "签到"),
        ],
    )
    assert out.texts == ["@Carol Carol 第1 连续1 +10 =10"]
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 0
    # Bob's message itself is still on record; only the rule's changes were undone.
    assert count(store, INTERACTIONS, INTERACTIONS.c.member_id == "bob") == 1


def test_a_renamed_group_keeps_its_data_and_a_picture_is_recorded_not_answered(
    rules, store
) -> None:  # type: ignore[no-untyped-def]
    from core.events import Event, EventKind

    dispatcher = Dispatcher(store, Engine(rules))
    dispatcher.process([make_event(member="bob", text_="签到")])
    dispatcher.process(
        [
            Event(
                kind=EventKind.TOPIC,
                group="g1",
                at=at("2026-11-24T09:00:00"),
                member="alice",
                group_name="新名字",
            ),
            Event(
                kind=EventKind.MESSAGE,
                group="g1",
                at=at("2026-11-24T09:01:00"),
                member="bob",
                text="签到",
                content="image",
            ),
        ]
    )
    with store.transaction() as tx:
        assert tx.group_name("g1") == "新名字"
        assert tx.ledger_total("g1", "bob") == 10  # the same group, the same points
        kinds = [
            k for (k,) in tx._c.execute(select(INTERACTIONS.c.kind).order_by(INTERACTIONS.c.id))
        ]
    assert kinds == ["message", "topic", "image"]
    assert count(store, CHECKINS) == 1  # the picture ran no rule


@pytest.mark.parametrize(
    "typed", ["簽到", "签到！", "@bot 签到", "@小助手\u2005签到", "\u200b签到"]
)
def test_check_in_as_members_really_type_it_and_the_text_is_kept(rules, store, typed) -> None:  # type: ignore[no-untyped-def]
    out = replay(rules, store, [message("2026-11-24T08:00:00", "bob", typed)])
    assert out.texts == ["@Bob Bob 第1 连续1 +10 =10"]
    with store.transaction() as tx:
        kept = tx._c.execute(select(INTERACTIONS.c.text, INTERACTIONS.c.rule)).all()
    assert [tuple(r) for r in kept] == [(typed, "checkin")]


def test_control_characters_and_long_names_are_kept_alike_on_every_backend(rules, store) -> None:  # type: ignore[no-untyped-def]
    long_name = "长" * 300
    out = replay(
        rules,
        store,
        [
            message("2026-11-24T08:00:00", "bob", "签\x00到", name=long_name),
            message("2026-11-24T08:01:00", "carol", "hi\x00\x07 all\n\tok", name="Ca\x00rol"),
        ],
    )
    assert out.texts == [f"@{'长' * 256} {'长' * 256} 第1 连续1 +10 =10"]
    with store.transaction() as tx:
        texts = [r[0] for r in tx._c.execute(select(INTERACTIONS.c.text).order_by("id"))]
        assert (tx.name_of("bob"), tx.name_of("carol")) == ("长" * 256, "Carol")
    assert texts == ["签到", "hi all\n\tok"]


def test_a_repeated_join_is_no_news(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            join("2026-11-24T08:00:00", "bob"),
            join("2026-11-24T08:05:00", "bob"),  # the platform says it again: no second welcome
            leave("2026-11-24T09:00:00", "bob"),
            leave("2026-11-24T09:01:00", "bob"),
            join("2026-11-24T10:00:00", "bob"),  # a real rejoin is welcomed
        ],
    )
    assert out.texts == ["@Bob 欢迎 Bob", "@Bob 欢迎 Bob"]
    assert count(store, INTERACTIONS, INTERACTIONS.c.kind == "join") == 2
    assert count(store, INTERACTIONS, INTERACTIONS.c.kind == "leave") == 1


def test_a_member_who_left_and_speaks_is_back_on_the_leaderboard(rules, store) -> None:  # type: ignore[no-untyped-def]
    out = replay(
        rules,
        store,
        [
            join("2026-11-24T08:00:00", "bob"),
            leave("2026-11-24T08:10:00", "bob"),
            message("2026-11-24T09:00:00", "bob", "签到"),  # only a member can speak: bob is back
            message("2026-11-24T09:01:00", "carol", "排行榜"),
            join("2026-11-24T09:02:00", "bob"),  # the join the platform reported late
        ],
    )
    assert out.texts == ["@Bob 欢迎 Bob", "@Bob Bob 第1 连续1 +10 =10", "Bob=10;"]
    with store.transaction() as tx:
        assert tx.active_members("g1") == 2


def test_a_rule_deduction_follows_the_no_negative_balance_rule(store) -> None:  # type: ignore[no-untyped-def]
    rules = ruleset_from(
        "rules:\n"
        "  - name: ad\n    when: {keywords: [广告]}\n"
        "    do: {action: points, amount: -20, text: '-{{ amount }} ={{ balance }}'}\n"
        "  - name: tip\n    when: {keywords: [干货]}\n"
        "    do: {action: points, amount: 30, text: '+{{ amount }} ={{ balance }}'}\n"
    )
    lines = [
        message("2026-11-24T08:00:00", "bob", "发个广告"),
        message("2026-11-24T08:01:00", "bob", "分享干货"),
        message("2026-11-24T08:02:00", "bob", "再发广告"),
    ]
    out = replay(rules, store, lines)
    assert out.texts == ["@Bob +30 =30", "@Bob --20 =10"]
    with store.transaction() as tx:
        assert tx.balance("g1", "bob") == tx.ledger_total("g1", "bob") == 10


def test_a_faq_rule_told_not_to_record_misses_keeps_no_unanswered_row(store) -> None:  # type: ignore[no-untyped-def]
    quiet = ruleset_from(
        CONFIG.replace(
            'do: {action: faq, text: "已记录"}', "do: {action: faq, record_unanswered: false}"
        )
    )
    replay(quiet, store, [message("2026-11-24T08:01:00", "carol", "周末有线下活动吗？")])
    assert count(store, UNANSWERED) == 0
    assert count(store, INTERACTIONS) == 1  # the message itself is still recorded


def test_state_and_outbox_commit_together_or_not_at_all(rules, store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A reply is enqueued in the transaction that holds the state it reports.

    If enqueueing fails, the check-in it would announce must not be there either: a bot that
    committed the state first and the outbox after could lose a reply for a kept check-in.
    """

    def broken_enqueue(self, messages):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(StoreTx, "enqueue", broken_enqueue)
    with pytest.raises(OSError, match="disk full"):
        replay(rules, store, [message("2026-11-24T08:00:00", "bob", "签到")])
    monkeypatch.undo()
    assert count(store, CHECKINS) == 0
    assert count(store, INTERACTIONS) == 0
