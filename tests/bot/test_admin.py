"""Admin commands, roles, broadcasts, the audit log and hot reload."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from support import at, leave, make_event, message, replay, ruleset_from

from bot.adapters.base import AlwaysOnline
from bot.cli import main
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from storage.store import Store
from storage.tables import LEDGER, MEMBERS
from triggers.broadcasts import BroadcastRequest
from triggers.engine import Engine
from triggers.loader import load_ruleset

ADMIN_RULES = """
  - {name: 群发, when: {command: [/broadcast, 群发]}, do: {action: admin, command: broadcast}}
  - {name: 确认, when: {command: [/confirm]}, do: {action: admin, command: confirm}}
  - {name: 取消, when: {command: [/cancel]}, do: {action: admin, command: cancel}}
  - {name: 加分, when: {command: [/grant]}, do: {action: admin, command: grant}}
  - {name: 重载, when: {command: [/reload]}, do: {action: admin, command: reload}}
  - {name: 踢, when: {command: [/remove]}, do: {action: admin, command: remove}}
"""
CONFIG = f"""
groups: [{{id: g1, name: 一群}}, {{id: g2, name: 二群}}]
confirmations: {{points_above: null}}  # grants of any size at once (see test_confirmations)
roles:
  - {{member: alice, role: admin}}
  - {{member: oscar, role: operator, groups: [g1]}}
  - {{member: olga, role: owner}}
  - {{member: adam, role: admin}}
rules:
{ADMIN_RULES}
  - {{name: ping, when: {{command: [ping]}}, do: {{action: reply, text: pong}}}}
"""


def audit(store: Store) -> list[tuple[str, str, str]]:
    with store.transaction() as tx:
        return [(e.actor, e.action, e.outcome) for e in reversed(tx.audit_log())]


def test_a_member_is_refused_clearly_and_the_attempt_is_audited(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "bob", "/broadcast now here 大家好"),
            message("2026-11-24T08:00:01", "bob", "/grant bob 100"),
            message("2026-11-24T08:00:02", "oscar", "/grant bob 100"),
        ],
    )
    assert out.texts == [
        "@Bob ⛔ 只有运营及以上可以使用 /broadcast。",
        "@Bob ⛔ 只有管理员及以上可以使用 /grant。",
        "@Oscar ⛔ 只有管理员及以上可以使用 /grant。",
    ]
    assert audit(store) == [
        ("bob", "broadcast", "refused"),
        ("bob", "grant", "refused"),
        ("oscar", "grant", "refused"),
    ]
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 0


def test_roles_hold_only_where_granted(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "oscar", "/broadcast now here 一群你好"),
            message("2026-11-24T08:00:01", "oscar", "/broadcast now here 二群你好", group="g2"),
        ],
    )
    assert {
        "at": "2026-11-24T08:00:00+08:00",
        "group": "g1",
        "text": "一群你好",
        "mentions": [],
    } in out.said
    assert out.said[-1]["text"] == "一群你好"  # replies to members go first: priority
    assert "@Oscar ⛔ 只有运营及以上可以使用 /broadcast。" in out.texts
    assert "二群你好" not in out.texts


def test_an_operator_broadcast_goes_out_to_the_named_groups(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message(
                "2026-11-24T08:00:00",
                "alice",
                "/broadcast 2026-11-24 20:00 g1,g2 今晚 {{ group.name }} 直播",
            ),
            message("2026-11-24T21:00:00", "bob", "ping"),
        ],
    )
    assert out.texts[0] == "@Alice ✅ 群发 #1 已安排：一群 (g1)、二群 (g2)，11-24 20:00 发送。"
    sent = [(s["group"], s["at"], s["text"]) for s in out.said if "直播" in str(s["text"])]
    assert sent == [
        ("g1", "2026-11-24T20:00:00+08:00", "今晚 一群 直播"),
        ("g2", "2026-11-24T20:00:00+08:00", "今晚 二群 直播"),
    ]
    with store.transaction() as tx:
        assert tx.broadcast(1).status == "done"  # type: ignore[union-attr]
        assert tx.outbox_counts(1).sent == 2


def test_a_broadcast_to_every_group_waits_for_confirmation(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "alice", "/broadcast now all 全员通知"),
            message("2026-11-24T08:05:00", "bob", "ping"),
            message("2026-11-24T08:10:00", "alice", "/confirm 1"),
        ],
    )
    assert out.texts[0] == "@Alice ⚠️ 群发 #1 将发往全部群，请回复 /confirm 1 确认。"
    assert out.texts[1] == "pong"  # nothing went out before the confirmation
    assert out.texts[2].startswith("@Alice ✅ 群发 #1 已确认")
    assert [(s["group"], s["text"]) for s in out.said[3:]] == [
        ("g1", "全员通知"),
        ("g2", "全员通知"),
    ]


def test_cancelled_broadcast_sends_nothing(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "alice", "/broadcast 20:00 here 晚上见"),
            message("2026-11-24T09:00:00", "alice", "/cancel 1"),
            message("2026-11-24T21:00:00", "bob", "ping"),
            message("2026-11-24T21:00:01", "alice", "/cancel 1"),
        ],
    )
    assert out.texts[1] == "@Alice 🛑 群发 #1 已取消（撤回 0 条未发消息）。"
    assert out.texts[2] == "pong"
    assert out.texts[3] == "@Alice ❌ broadcast #1 is already cancelled"
    assert [a for a in audit(store) if a[1] == "cancel"] == [
        ("alice", "cancel", "ok"),
        ("alice", "cancel", "error"),
    ]


def test_admin_grants_and_deducts_points_with_a_reason_in_the_ledger(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "bob", "ping"),
            message("2026-11-24T08:01:00", "alice", "/grant bob 20 优质回答"),
            message("2026-11-24T08:02:00", "alice", "/grant bob -5 刷屏"),
            message("2026-11-24T08:03:00", "alice", "/grant bob lots"),
        ],
    )
    assert out.texts[1:] == [
        "@Alice 已为 Bob 增加 20 积分（优质回答），现有 20 分。",
        "@Alice 已为 Bob 扣除 5 积分（刷屏），现有 15 分。",
        "@Alice ❌ 用法：/grant <@成员|成员id> <积分，可为负> [原因]",
    ]
    with store.transaction() as tx:
        rows = tx._c.execute(select(LEDGER.c.delta, LEDGER.c.reason, LEDGER.c.actor_id)).all()
    assert [tuple(r) for r in rows] == [(20, "优质回答", "alice"), (-5, "刷屏", "alice")]
    assert audit(store) == [
        ("alice", "grant", "ok"),
        ("alice", "grant", "ok"),
        ("alice", "grant", "error"),
    ]


def test_reload_swaps_valid_rules_and_keeps_the_old_ones_on_a_bad_file(
    tmp_path: Path, store: Store
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    dispatcher = Dispatcher(store, Engine(load_ruleset(config)), config)
    dispatcher.restore(at("2026-11-24T08:00:00"))

    def say(when: str, who: str, text: str) -> list[str]:
        replies = dispatcher.process([make_event(when=when, member=who, text_=text)])
        dispatcher.jobs.persist()
        return [r.text for r in replies]

    config.write_text(CONFIG.replace("text: pong", "text: pong v2"), encoding="utf-8")
    assert say("2026-11-24T08:00:01+08:00", "alice", "/reload") == ["@Alice ✅ 配置已重新加载。"]
    assert say("2026-11-24T08:00:02+08:00", "bob", "ping") == ["pong v2"]

    config.write_text(CONFIG.replace("text: pong", "txt: pong"), encoding="utf-8")
    refused = say("2026-11-24T08:00:03+08:00", "alice", "/reload")
    assert refused[0].startswith("@Alice ❌ 配置有误，仍在使用旧配置（1 处问题）：")
    assert "unknown key 'txt'" in refused[0]
    # A minute later: the same reply to the same member within a minute is sent once.
    assert say("2026-11-24T08:01:04+08:00", "bob", "ping") == ["pong v2"]
    assert [a for a in audit(store) if a[1] == "reload"] == [
        ("alice", "reload", "ok"),
        ("alice", "reload", "error"),
    ]
    dispatcher.close()


def test_the_file_watcher_reloads_on_change_and_audits(tmp_path: Path, store: Store) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    dispatcher = Dispatcher(store, Engine(load_ruleset(config)), config)
    dispatcher.restore(at("2026-11-24T08:00:00"))
    dispatcher.reload_if_changed(at("2026-11-24T08:00:01"))
    assert audit(store) == []  # unchanged: nothing to do
    config.write_text(CONFIG.replace("text: pong", "text: pang"), encoding="utf-8")
    dispatcher.reload_if_changed(at("2026-11-24T08:00:02"))
    config.write_text("rules: [oops", encoding="utf-8")
    dispatcher.reload_if_changed(at("2026-11-24T08:00:03"))
    replies = dispatcher.process(
        [make_event(when="2026-11-24T08:00:04+08:00", member="bob", text_="ping")]
    )
    assert [r.text for r in replies] == ["pang"]
    assert audit(store) == [("file-watch", "reload", "ok"), ("file-watch", "reload", "error")]
    dispatcher.close()


class Crash(BaseException):
    pass


class Recorder(AlwaysOnline):
    def __init__(self, crash_after: int | None = None) -> None:
        self.sent: list[str] = []
        self.crash_after = crash_after

    async def events(self):  # type: ignore[no-untyped-def]  # pragma: no cover
        return
        yield

    async def perform(self, effect) -> None:  # type: ignore[no-untyped-def]
        if self.crash_after is not None and len(self.sent) == self.crash_after:
            raise Crash
        self.sent.append(effect.group)


def test_a_crash_mid_200_group_broadcast_then_a_restart_delivers_each_group_once(
    db_url: str,
) -> None:
    groups = "\n".join(f"  - {{id: g{i:03d}}}" for i in range(200))
    config = f"groups:\n{groups}\nrules:\n  - {{name: ping, when: {{command: [ping]}}, do: {{action: reply, text: pong}}}}\n"
    ruleset = ruleset_from(config)
    store = Store(db_url)
    dispatcher = Dispatcher(store, Engine(ruleset))
    dispatcher.restore(at("2026-11-24T08:00:00"))
    with store.transaction() as tx:
        dispatcher.operations.broadcasts.create(
            tx,
            BroadcastRequest("通知 {{ group.id }}", None, None),
            "ops",
            at("2026-11-24T08:00:00"),
            confirmed=True,
        )
    dispatcher.jobs.persist()
    dispatcher.process(
        [make_event(when="2026-11-24T08:00:01+08:00", member="bob", text_="hi", group="g000")]
    )
    clock = FakeClock(at("2026-11-24T08:00:01"))
    dying = Recorder(crash_after=83)
    with pytest.raises(Crash):
        asyncio.run(
            Outbox(
                store, dying, clock, Pacing.default(), ruleset.zone_of, random.Random(1)
            ).send_due()
        )
    dispatcher.close()
    store.close()

    again = Store(db_url)
    revived = Recorder()
    restarted = Dispatcher(again, Engine(ruleset))
    restarted.restore(at("2026-11-24T08:30:00"))
    restarted.process(
        [make_event(when="2026-11-24T08:30:00+08:00", member="bob", text_="hi", group="g000")]
    )
    asyncio.run(
        Outbox(
            again, revived, clock, Pacing.default(), ruleset.zone_of, random.Random(2)
        ).send_due()
    )
    assert sorted(dying.sent + revived.sent) == [f"g{i:03d}" for i in range(200)]
    with again.transaction() as tx:
        counts = tx.outbox_counts(1)
    assert (counts.sent, counts.pending, counts.failed) == (200, 0, 0)
    restarted.close()
    again.close()


def cli(*args: str, input_: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input_)
    return result.exit_code, result.output


def test_broadcast_cli_add_list_show_preview_cancel(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    common = ["--config", str(config), "--db", db]
    code, out = cli(
        "broadcast",
        "add",
        *common,
        "--groups",
        "g1,g2",
        "--at",
        "2030-01-01 20:00",
        "--text",
        "{{ group.name }} 新年快乐",
        "--as",
        "ops",
    )
    assert code == 0, out
    assert "broadcast #1 scheduled for 2030-01-01 20:00" in out
    code, out = cli("broadcast", "list", *common)
    assert "scheduled" in out and "ops" in out
    code, out = cli("broadcast", "preview", "1", "--group", "g2", *common)
    assert "二群 新年快乐" in out
    code, out = cli("broadcast", "show", "1", *common)
    assert "g1" in out and "not yet" in out
    code, out = cli("broadcast", "cancel", "1", *common)
    assert code == 0 and "cancelled" in out
    code, out = cli("broadcast", "cancel", "1", *common)
    assert code == 1 and "already cancelled" in out
    code, out = cli("audit", *common)
    assert "broadcast" in out and "cancel" in out


def test_broadcast_cli_asks_before_every_group_and_validates(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    common = ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'bot.db'}"]
    code, out = cli("broadcast", "add", *common, "--all", "--text", "hi", input_="n\n")
    assert code == 1 and "Send to all 2 group(s)?" in out and "Aborted" in out
    code, out = cli("broadcast", "add", *common, "--all", "--text", "hi", input_="y\n")
    assert code == 0 and "to all groups" in out
    code, out = cli("broadcast", "add", *common, "--groups", "g9", "--text", "hi")
    assert code == 2 and "unknown group(s): g9" in out
    code, out = cli("broadcast", "add", *common, "--groups", "g1", "--text", "{{ group.nmae }}")
    assert code == 2 and "does not render" in out
    code, out = cli("broadcast", "add", *common, "--groups", "g1")
    assert code == 2 and "--text or --template" in out


def test_a_broadcast_added_by_the_cli_reaches_a_running_bot(tmp_path: Path) -> None:
    """The CLI writes the job store; the bot sees it on its next look (jobs.reload)."""
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = Store(db)
    dispatcher = Dispatcher(store, Engine(load_ruleset(config)))
    dispatcher.restore(datetime(2030, 1, 1, 11, 0, tzinfo=UTC))
    code, out = cli(
        "broadcast",
        "add",
        "--config",
        str(config),
        "--db",
        db,
        "--groups",
        "g1",
        "--at",
        "2030-01-01 20:00",
        "--text",
        "hello",
    )
    assert code == 0, out
    dispatcher.jobs.reload()
    assert dispatcher.next_due() == datetime(2030, 1, 1, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    replies = dispatcher.process([make_event(when="2030-01-01T20:00:05+08:00", text_="x")])
    assert [(r.group, r.text) for r in replies] == [("g1", "hello")]
    dispatcher.close()
    store.close()


def test_a_chat_broadcast_at_a_past_date_is_refused_not_sent_now(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [message("2026-11-24T08:00:00", "alice", "/broadcast 2026-11-23 20:00 here 昨晚的事")],
    )
    assert out.texts == [
        "@Alice ❌ 2026-11-23 20:00 (Asia/Shanghai) is in the past: "
        "it is now 2026-11-24 08:00 (Asia/Shanghai)"
    ]
    with store.transaction() as tx:
        assert tx.broadcasts() == []


def test_grant_names_a_current_member_by_name_or_id_and_refuses_anyone_else(
    store: Store,
) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "bob", "ping", name="Bob Li"),
            message("2026-11-24T08:00:01", "bo", "ping", name="Bo"),
            message("2026-11-24T08:00:02", "bo2", "ping", name="Bo"),
            message("2026-11-24T08:01:00", "alice", "/grant @Bob Li 5 帮忙"),
            message("2026-11-24T08:01:01", "alice", "/grant @bob\u20053"),
            message("2026-11-24T08:01:02", "alice", "/grant @Bob 5"),
            message("2026-11-24T08:01:03", "alice", "/grant nobody 5"),
            message("2026-11-24T08:01:04", "alice", "/grant @Bo 5"),
            message("2026-11-24T08:01:05", "alice", "/grant bo2 1"),
        ],
    )
    assert out.texts[3:] == [
        "@Alice 已为 Bob Li 增加 5 积分（帮忙），现有 5 分。",
        "@Alice 已为 Bob Li 增加 3 积分（管理员调整），现有 8 分。",
        "@Alice ❌ @Bob 不是本群当前成员（按成员 id 和群昵称查找过 'Bob'）。",
        "@Alice ❌ nobody 不是本群当前成员（按成员 id 和群昵称查找过 'nobody'）。",
        "@Alice ❌ 本群有 2 位成员叫 Bo：bo、bo2，请改用成员 id。",
        "@Alice 已为 Bo 增加 1 积分（管理员调整），现有 1 分。",
    ]
    with store.transaction() as tx:
        members = [r[0] for r in tx._c.execute(select(MEMBERS.c.id).order_by(MEMBERS.c.id))]
    assert members == ["alice", "bo", "bo2", "bob"]  # no member "@Bob" or "nobody" made up
    assert [a[2] for a in audit(store)] == ["ok", "ok", "error", "error", "error", "ok"]


def test_grant_refuses_a_member_who_left_even_when_mentioned(store: Store) -> None:
    lines = [
        message("2026-11-24T08:00:00", "bob", "ping"),
        leave("2026-11-24T08:00:10", "bob"),
        message("2026-11-24T08:01:00", "alice", "/grant @Bob 5", mentions=["bob"]),
    ]
    out = replay(ruleset_from(CONFIG), store, lines)
    assert out.texts[1:] == ["@Alice ❌ @Bob 不是本群当前成员（按成员 id 和群昵称查找过 'bob'）。"]
    with store.transaction() as tx:
        assert tx.ledger_total("g1", "bob") == 0


@pytest.mark.parametrize(
    ("amount", "said"),
    [
        ("99999999999999999999999", "❌ 单次最多调整 10000 积分（收到 99999999999999999999999）。"),
        ("-10001", "❌ 单次最多调整 10000 积分（收到 -10001）。"),
        ("٣", "❌ 积分请用数字 0-9 书写（收到 ٣）。"),
        ("+٣", "❌ 积分请用数字 0-9 书写（收到 +٣）。"),
        ("０", "❌ 用法：/grant <@成员|成员id> <积分，可为负> [原因]"),
        ("１２", "已为 Bob 增加 12 积分（管理员调整），现有 12 分。"),  # full-width: read
        ("10000", "已为 Bob 增加 10000 积分（管理员调整），现有 10000 分。"),
    ],
)
def test_grant_amounts_are_ascii_or_full_width_digits_within_the_maximum(
    store: Store, amount: str, said: str
) -> None:
    lines = [
        message("2026-11-24T08:00:00", "bob", "ping"),
        message("2026-11-24T08:01:00", "alice", f"/grant bob {amount}"),
    ]
    out = replay(ruleset_from(CONFIG), store, lines)
    assert out.texts[1:] == [f"@Alice {said}"]
    assert audit(store)[-1][2] == ("ok" if said.startswith("已") else "error")


def test_a_deduction_may_not_take_a_balance_below_zero(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "bob", "ping"),
            message("2026-11-24T08:01:00", "alice", "/grant bob 5"),
            message("2026-11-24T08:02:00", "alice", "/grant bob -1000"),
            message("2026-11-24T08:03:00", "alice", "/grant bob -5"),
        ],
    )
    assert out.texts[1:] == [
        "@Alice 已为 Bob 增加 5 积分（管理员调整），现有 5 分。",
        "@Alice ❌ Bob 现有 5 分，不能扣除 1000 分（积分不能扣成负数）。",
        "@Alice 已为 Bob 扣除 5 积分（管理员调整），现有 0 分。",
    ]
    with store.transaction() as tx:
        assert tx.balance("g1", "bob") == tx.ledger_total("g1", "bob") == 0
    assert [a[2] for a in audit(store)] == ["ok", "error", "ok"]


def test_a_broadcast_keeps_no_control_characters_on_either_backend(store: Store) -> None:
    dispatcher = Dispatcher(store, Engine(ruleset_from(CONFIG)))
    request = BroadcastRequest(text="今晚\x00直播\x07！", groups=("g1",), at=None, cron=None)
    with store.transaction() as tx:
        number = dispatcher.operations.broadcasts.create(
            tx, request, "cli", at("2026-11-24T08:00"), True
        )
    with store.transaction() as tx:
        assert [(row.id, row.text) for row in tx.broadcasts()] == [(number, "今晚直播！")]


def test_a_broadcast_template_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    body = tmp_path / "notice.j2"
    body.write_bytes("通知".encode() + b"\xff")
    common = ["--config", str(config), "--db", f"sqlite:///{tmp_path / 'bot.db'}"]
    code, out = cli("broadcast", "add", *common, "--groups", "g1", "--template", str(body))
    assert code == 2 and "not UTF-8 text" in out and "Traceback" not in out


def test_an_admin_removes_a_member_after_saying_so_and_it_is_audited(store: Store) -> None:
    out = replay(
        ruleset_from(CONFIG),
        store,
        [
            message("2026-11-24T08:00:00", "spam1", "加V看片", name="Ad Guy"),
            message("2026-11-24T08:00:01", "bob", "ping"),
            message("2026-11-24T08:01:00", "alice", "/remove @Ad Guy 发广告", mentions=["spam1"]),
            message("2026-11-24T08:01:01", "alice", "/remove bob"),
        ],
    )
    assert out.said[1:] == [
        {
            "at": "2026-11-24T08:01:00+08:00",
            "group": "g1",
            "text": "@Alice 已将 Ad Guy 移出本群（发广告）。",
            "mentions": ["alice"],
        },
        {"at": "2026-11-24T08:01:00+08:00", "group": "g1", "remove": "spam1"},
        {
            "at": "2026-11-24T08:01:01+08:00",
            "group": "g1",
            "text": "@Alice 已将 Bob 移出本群。",
            "mentions": ["alice"],
        },
        {"at": "2026-11-24T08:01:01+08:00", "group": "g1", "remove": "bob"},
    ]
    assert audit(store) == [("alice", "remove", "ok"), ("alice", "remove", "ok")]


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        ("bob", "/remove carol", "⛔ 只有管理员及以上可以使用 /remove。"),
        ("oscar", "/remove carol", "⛔ 只有管理员及以上可以使用 /remove。"),
        ("alice", "/remove alice", "❌ 不能移出自己。"),
        ("alice", "/remove adam", "❌ Adam 是管理员，不能由你移出。"),
        ("alice", "/remove olga", "❌ Olga 是群主，不能由你移出。"),
        (
            "alice",
            "/remove nobody",
            "❌ nobody 不是本群当前成员（按成员 id 和群昵称查找过 'nobody'）。",
        ),
        ("alice", "/remove", "❌ 用法：/remove <@成员|成员id> [原因]"),
    ],
)
def test_remove_is_refused_to_members_for_oneself_for_equal_roles_and_strangers(
    store: Store, sender: str, command: str, answer: str
) -> None:
    lines = [
        message("2026-11-24T08:00:00", who, "ping")
        for who in ("alice", "bob", "carol", "oscar", "adam", "olga")
    ]
    out = replay(
        ruleset_from(CONFIG), store, [*lines, message("2026-11-24T08:01:00", sender, command)]
    )
    assert out.removed == []
    assert out.texts[-1] == f"@{sender.title()} {answer}"
    assert audit(store)[-1][1:] == ("remove", "refused" if "⛔" in answer else "error")


def test_an_owner_may_remove_an_admin(store: Store) -> None:
    lines = [
        message("2026-11-24T08:00:00", "adam", "ping"),
        message("2026-11-24T08:01:00", "olga", "/remove adam 换届"),
    ]
    out = replay(ruleset_from(CONFIG), store, lines)
    assert out.removed == [("g1", "adam")]
    assert out.texts[-1] == "@Olga 已将 Adam 移出本群（换届）。"
