"""Group rules end to end through the replay path: the ladder, decay, weights, exemptions,
mute, pardon, stream detectors, newcomers, removal, alerts and the audit trail."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from support import Transcript, at, join, make_event, message, replay, ruleset_from

from bot.adapters.base import AlwaysOnline, PermanentSendError
from bot.clock import FakeClock
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox, Pacing
from core.effects import Effect, EffectKind
from storage.store import Store
from triggers.alerts import failure_alerts
from triggers.engine import Engine

CONFIG = """\
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
roles: [{member: ops, role: operator}]
alerts: {to: ops_room}
moderation:
  ladder: [warn, mute 1h, remove]
  decay: 1d
  exempt_tags: [白名单]
  remove_by: %(remove_by)s
rules:
  - {name: 新人广告, when: {detect: [link, contact]}, if: {joined_within: 10m}, priority: 100,
     do: {action: moderate, reason: 新人广告, step: remove}}
  - {name: 广告, when: {detect: [link, contact]}, priority: 90,
     do: {action: moderate, reason: 禁止广告}}
  - {name: 违禁词, when: {detect: {words: [赌博]}}, priority: 90,
     do: {action: moderate, reason: 禁止违规内容, weight: 2}}
  - {name: 二维码, when: {detect: qrcode}, priority: 90,
     do: {action: moderate, reason: 禁止发二维码}}
  - {name: 小程序, when: {detect: {content: [mini_program]}}, priority: 90,
     do: {action: moderate, reason: 禁止小程序}}
  - {name: 刷屏, when: {detect: {flood: {messages: 5, within: 10s}, repeat: {times: 3, within: 1m}}},
     priority: 90, do: {action: moderate, reason: 禁止刷屏}}
  - {name: 签到, when: {command: [签到]}, do: {action: checkin, points: 10}}
  - {name: 你好, when: {command: [hi]}, do: {action: reply, text: hello}}
  - {name: 赦免, when: {command: [/pardon]}, do: {action: admin, command: pardon}}
  - {name: 打标签, when: {command: [/tag]}, do: {action: admin, command: tag}}
"""


def play(where: Path | str, lines: list[str], remove_by: str = "bot") -> tuple[Transcript, Store]:
    """On SQLite in a folder, or on the database a ``db_url`` names (both backends)."""
    store = Store(where if isinstance(where, str) else f"sqlite:///{where / 'q.db'}")
    return replay(ruleset_from(CONFIG % {"remove_by": remove_by}), store, lines), store


def in_group(transcript: Transcript, group: str = "g1") -> list[str]:
    return [
        s.get("text") or f"<remove {s['remove']}>" for s in transcript.said if s["group"] == group
    ]


def alerts(transcript: Transcript) -> list[str]:
    return in_group(transcript, "ops_room")


def test_the_ladder_warns_then_mutes_then_removes(db_url: str) -> None:
    said, store = play(
        db_url,
        [
            message("2026-11-24T10:00", "bob", "看看 www.shop.com"),
            message("2026-11-24T10:01", "bob", "加V：shop8888 优惠"),
            message("2026-11-24T10:02", "bob", "hi"),  # muted: no answer
            message("2026-11-24T10:03", "bob", "签到"),  # muted: no check-in, no points
            message("2026-11-24T10:04", "bob", "最后一次 shop点com"),
        ],
    )
    assert in_group(said) == [
        "@Bob ⚠️ 请遵守群规：禁止广告。这是第 1 次提醒，再犯将禁言 1 小时。",
        "@Bob 🔇 禁止广告：禁言到 11-24 11:01。在此之前机器人不回复你，签到也不积分。",
        "@Bob 🚫 禁止广告：已被移出本群。",
        "<remove bob>",
    ]
    assert len(alerts(said)) == 2
    assert "已禁言" in alerts(said)[0] and "加v:shop8888" in alerts(said)[0]
    assert "已移出" in alerts(said)[1] and "shop点com" in alerts(said)[1]
    with store.transaction() as tx:
        log = tx.strike_log()
        assert [(s.step, s.rule) for s in reversed(log)] == [
            ("warn", "广告"),
            ("mute", "广告"),
            ("remove", "广告"),
        ]
        assert tx.standing("g1", "bob", at("2026-11-24T10:05").date()).checkins == 0
        audited = [(a.action, a.actor, a.group) for a in tx.audit_log()]
        assert audited == [
            ("moderation.remove", "qunbot", "g1"),
            ("moderation.mute", "qunbot", "g1"),
            ("moderation.warn", "qunbot", "g1"),
        ]
    store.close()


def test_a_warning_goes_out_even_when_the_member_spent_their_reply_budget(
    tmp_path: Path,
) -> None:
    config = CONFIG % {"remove_by": "bot"} + "sending: {member_budget: 1, member_window: 1m}\n"
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    said = replay(
        ruleset_from(config),
        store,
        [
            message("2026-11-24T10:00:00", "bob", "hi"),
            message("2026-11-24T10:00:05", "bob", "签到"),  # over budget: held back
            message("2026-11-24T10:00:10", "bob", "www.shop.com"),
        ],
    )
    assert in_group(said) == [
        "hello",
        "@Bob ⚠️ 请遵守群规：禁止广告。这是第 1 次提醒，再犯将禁言 1 小时。",
    ]
    store.close()


def test_a_mute_ends_on_its_own_and_strikes_decay(tmp_path: Path) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "bob", "www.a.com"),
            message("2026-11-24T10:01", "bob", "www.b.com"),  # 2nd: muted for an hour
            message("2026-11-24T11:00", "bob", "hi"),  # still muted
            message("2026-11-24T11:02", "bob", "hi"),  # the hour is over
            message("2026-11-26T09:00", "bob", "www.c.com"),  # both strikes decayed (1d)
        ],
    )
    texts = in_group(said)
    assert texts[2:] == [
        "hello",
        "@Bob ⚠️ 请遵守群规：禁止广告。这是第 1 次提醒，再犯将禁言 1 小时。",
    ]
    store.close()


def test_a_heavy_rule_climbs_two_rungs_at_once(tmp_path: Path) -> None:
    said, store = play(tmp_path, [message("2026-11-24T10:00", "bob", "网上赌 博 来玩")])
    assert in_group(said)[0].startswith("@Bob 🔇 禁止违规内容：禁言到")
    store.close()


def test_staff_and_exempt_tags_are_never_struck_and_their_other_rules_still_run(
    tmp_path: Path,
) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T09:58", "carol", "大家好"),
            message("2026-11-24T09:59", "ops", "/tag carol 白名单"),
            message("2026-11-24T10:00", "ops", "hi 官网 www.ours.com"),
            message("2026-11-24T10:01", "carol", "hi 合作伙伴 www.partner.com"),
            message("2026-11-24T10:02", "dave", "hi 我的店 www.dave.com"),
        ],
    )
    assert in_group(said) == [
        "@Ops 已为 Carol 加上标签 白名单。",
        "hello",
        "hello",
        "@Dave ⚠️ 请遵守群规：禁止广告。这是第 1 次提醒，再犯将禁言 1 小时。",
    ]
    with store.transaction() as tx:
        assert [s.member for s in tx.strike_log()] == ["dave"]
    store.close()


def test_pardon_lifts_the_mute_and_resets_the_ladder_and_is_audited(db_url: str) -> None:
    said, store = play(
        db_url,
        [
            message("2026-11-24T10:00", "bob", "www.a.com"),
            message("2026-11-24T10:01", "bob", "www.b.com"),
            message("2026-11-24T10:02", "dave", "/pardon @Bob"),  # members may not pardon
            message("2026-11-24T10:03", "ops", "/pardon @Bob"),
            message("2026-11-24T10:04", "bob", "hi"),
            message("2026-11-24T10:05", "bob", "www.c.com"),  # the ladder starts over
            message("2026-11-24T10:06", "ops", "/pardon nobody"),
        ],
    )
    texts = in_group(said)
    assert texts[2:] == [
        "@Dave ⛔ 只有运营及以上可以使用 /pardon。",
        "@Ops 已赦免 Bob：撤销 2 条违规记录，禁言（如有）已解除。",
        "hello",
        "@Bob ⚠️ 请遵守群规：禁止广告。这是第 1 次提醒，再犯将禁言 1 小时。",
        "@Ops ❌ nobody 不是本群当前成员（按成员 id 和群昵称查找过 'nobody'）。",
    ]
    with store.transaction() as tx:
        audited = [(a.action, a.actor, a.outcome) for a in reversed(tx.audit_log())]
        pardoned = [s for s in tx.strike_log() if s.pardoned_at is not None]
    assert ("pardon", "dave", "refused") in audited
    assert ("pardon", "ops", "ok") in audited
    assert {s.pardoned_by for s in pardoned} == {"ops"} and len(pardoned) == 2
    store.close()


def test_a_removed_member_is_pardoned_by_id(tmp_path: Path) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "bob", "赌博 赌博"),
            message("2026-11-24T10:01", "bob", "赌博"),  # standing 4: removed
            json.dumps(
                {
                    "at": at("2026-11-24T10:02").isoformat(),
                    "kind": "leave",
                    "group": "g1",
                    "member": "bob",
                }
            ),
            message("2026-11-24T10:03", "ops", "/pardon bob"),
        ],
    )
    assert in_group(said)[-1] == "@Ops 已赦免 bob：违规记录已撤销。"
    store.close()


def test_a_picture_with_a_qr_code_is_struck_and_one_without_is_not(tmp_path: Path) -> None:
    said, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "amy", "", content="image"),
            message(
                "2026-11-24T10:01", "bob", "", content="image", codes=["https://u.wechat.com/x"]
            ),
        ],
    )
    assert in_group(said) == [
        "@Bob ⚠️ 请遵守群规：禁止发二维码。这是第 1 次提醒，再犯将禁言 1 小时。"
    ]
    with store.transaction() as tx:
        assert [s.evidence for s in tx.strike_log()] == ["二维码 https://u.wechat.com/x"]
    store.close()


def test_message_types_floods_and_repeats(tmp_path: Path) -> None:
    lines = [
        message("2026-11-24T10:00", "amy", "", content="mini_program"),
        message("2026-11-24T10:00", "amy", "", content="image"),  # not a detected type
    ]
    lines += [message(f"2026-11-24T11:00:0{i}", "bob", f"第{i}条") for i in range(5)]
    lines += [message(f"2026-11-24T11:00:0{i}", "bob", f"还有{i}") for i in range(5, 9)]
    lines += [message(f"2026-11-24T12:00:{i}0", "cat", "快来快来") for i in range(3)]
    said, store = play(tmp_path, lines)
    texts = in_group(said)
    assert texts == [
        "@Amy ⚠️ 请遵守群规：禁止小程序。这是第 1 次提醒，再犯将禁言 1 小时。",
        "@Bob ⚠️ 请遵守群规：禁止刷屏。这是第 1 次提醒，再犯将禁言 1 小时。",  # once
        "@Cat ⚠️ 请遵守群规：禁止刷屏。这是第 1 次提醒，再犯将禁言 1 小时。",
    ]
    with store.transaction() as tx:
        evidence = {s.member: s.evidence for s in tx.strike_log()}
    assert evidence == {
        "amy": "消息类型 mini_program",
        "bob": "刷屏 5 条/10秒",
        "cat": "重复 3 次：快来快来",
    }
    store.close()


def test_a_newcomer_who_posts_an_ad_at_once_is_removed_without_warning(tmp_path: Path) -> None:
    said, store = play(
        tmp_path,
        [
            join("2026-11-24T10:00", "spam"),
            message("2026-11-24T10:03", "spam", "低价代购 13912345678"),
            join("2026-11-24T10:00", "slow"),
            message("2026-11-24T10:30", "slow", "我的店 www.slow.com"),  # 30 min later: a warning
        ],
    )
    texts = in_group(said)
    assert "<remove spam>" in texts
    assert "@Slow ⚠️ 请遵守群规：禁止广告。这是第 1 次提醒，再犯将禁言 1 小时。" in texts
    assert "<remove slow>" not in texts
    with store.transaction() as tx:
        (spam,) = [s for s in tx.strike_log() if s.member == "spam"]
    assert (spam.rule, spam.evidence) == ("新人广告", "联系方式 139****5678")
    store.close()


def test_without_the_right_to_remove_operators_are_asked_and_the_member_stays_muted(
    tmp_path: Path,
) -> None:
    said, store = play(
        tmp_path,
        [
            join("2026-11-24T10:00", "spam"),
            message("2026-11-24T10:01", "spam", "加微信 daigou88"),
            message("2026-11-24T10:02", "spam", "hi"),
        ],
        remove_by="operators",
    )
    assert in_group(said)[-1] == "@Spam 🚫 新人广告：已通知管理员处理。"
    assert "<remove spam>" not in in_group(said)
    (alert,) = alerts(said)
    assert alert.startswith("🚨 请移出：一群（g1） 的 Spam（spam）")
    with store.transaction() as tx:
        assert tx.muted_until("g1", "spam", at("2026-11-24T10:02")) is not None
    store.close()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "rules: [{name: x, when: {detect: phone}, do: {action: moderate, reason: r}}]",
            "unknown detector 'phone'",
        ),
        (
            "rules: [{name: x, when: {detect: {}}, do: {action: moderate, reason: r}}]",
            "name at least one detector",
        ),
        (
            "rules: [{name: x, when: {detect: link, command: [a]}, do: {action: moderate, reason: r}}]",
            "give only one of command, keywords, regex, question, detect",
        ),
        ("moderation: {ladder: [warn, mute]}\nrules: []", "a mute needs its length"),
        ("moderation: {ladder: [remove 1h]}\nrules: []", "'remove' takes no duration"),
        (
            "moderation: {ladder: [ban]}\nrules: []",
            "expected 'warn', 'mute <duration>' or 'remove'",
        ),
        ("moderation: {decay: 0}\nrules: []", "decay is longer than 0"),
        ("moderation: {warn_text: '{{ nope }}'}\nrules: []", "nope"),
        (
            "rules: [{name: x, when: {detect: {content: [sticker]}}, do: {action: moderate, reason: r}}]",
            "content",
        ),
        (
            "rules: [{name: x, when: {event: join}, do: {action: moderate, reason: r}}]",
            "'moderate' needs a message trigger",
        ),
        (
            "rules: [{name: x, when: {detect: {words_file: missing.txt}}, "
            "do: {action: moderate, reason: r}}]",
            "cannot read missing.txt",
        ),
    ],
)
def test_bad_moderation_config_is_refused_with_the_reason(
    yaml_text: str, expected: str, tmp_path: Path
) -> None:
    from triggers.loader import ConfigError

    with pytest.raises(ConfigError) as error:
        ruleset_from(yaml_text, tmp_path)
    assert expected in str(error.value)


def test_a_words_file_adds_banned_words(tmp_path: Path) -> None:
    (tmp_path / "banned.txt").write_text("# 赌博类\n博彩\n\n六合彩\n", encoding="utf-8")
    ruleset = ruleset_from(
        "rules: [{name: x, when: {detect: {words_file: banned.txt}}, "
        "do: {action: moderate, reason: r}}]",
        tmp_path,
    )
    assert ruleset.matcher.match("买 六 合 彩 吗")[0][1].detected == ("违禁词 六合彩",)
    (tmp_path / "bad.txt").write_bytes("博彩\n".encode("gbk"))
    from triggers.loader import ConfigError

    with pytest.raises(ConfigError, match="not UTF-8"):
        ruleset_from(
            "rules: [{name: x, when: {detect: {words_file: bad.txt}}, "
            "do: {action: moderate, reason: r}}]",
            tmp_path,
        )


def test_the_moderation_log_lists_strikes_newest_first(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    _, store = play(
        tmp_path,
        [
            message("2026-11-24T10:00", "bob", "www.a.com", name="小鲍"),
            message("2026-11-24T10:05", "amy", "", content="mini_program"),
        ],
    )
    store.close()
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG % {"remove_by": "bot"}, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'q.db'}"
    runner = CliRunner()
    result = runner.invoke(main, ["moderation", "log", "--config", str(config), "--db", db])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "g1" in line]
    assert len(rows) == 2
    assert "amy" in rows[0] and "mini_program" in rows[0]
    assert "小鲍 (bob)" in rows[1] and "2026-11-24 10:00 CST" in rows[1]
    only_bob = runner.invoke(
        main, ["moderation", "log", "--member", "bob", "--config", str(config), "--db", db]
    )
    assert "amy" not in only_bob.output and "bob" in only_bob.output
    unknown = runner.invoke(
        main, ["moderation", "log", "--group", "g9", "--config", str(config), "--db", db]
    )
    assert unknown.exit_code == 2 and "no group 'g9'" in unknown.output


class RefusingRemovals(AlwaysOnline):
    """A platform where the bot account is not an admin: every removal is refused."""

    effects = frozenset({EffectKind.SEND_TEXT, EffectKind.REMOVE_MEMBER})

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def events(self):  # type: ignore[no-untyped-def]  # pragma: no cover
        return
        yield

    async def perform(self, effect: Effect) -> None:
        if effect.kind is EffectKind.REMOVE_MEMBER:
            raise PermanentSendError("PERMISSION_DENIED: not the room owner")
        self.sent.append((effect.group, effect.text))


def test_a_removal_the_platform_refuses_becomes_an_operator_alert(db_url: str) -> None:
    ruleset = ruleset_from(CONFIG % {"remove_by": "bot"})
    store = Store(db_url)
    dispatcher = Dispatcher(store, Engine(ruleset))
    dispatcher.restore(at("2026-11-24T10:00"))
    dispatcher.process(
        [
            make_event(when="2026-11-24T10:00:00+08:00", member="bob", text_=f"赌博 {n}")
            for n in range(2)
        ]
    )
    platform = RefusingRemovals()
    clock = FakeClock(at("2026-11-24T10:00:05"))
    outbox = Outbox(
        store,
        platform,
        clock,
        Pacing.immediate(),
        ruleset.zone_of,
        on_failed=lambda tx, effect, reason, when: failure_alerts(
            tx, ruleset, effect, reason, when
        ),
    )
    asyncio.run(outbox.send_due())
    refused = [text for group, text in platform.sent if group == "ops_room" and "移出失败" in text]
    assert len(refused) == 1
    assert "Bob（bob）没有被移出：PermanentSendError: PERMISSION_DENIED" in refused[0]
    with store.transaction() as tx:
        assert tx.outbox_counts().failed == 1
        assert [a.kind for a in tx.alert_log()][:1] == ["removal_refused"]
        # The member stays muted while a human has not acted.
        assert tx.muted_until("g1", "bob", at("2026-11-24T10:01")) is not None
    dispatcher.close()
    store.close()
