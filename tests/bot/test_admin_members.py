"""/who and /tag in the chat: operators look a member up and tag them, audited."""

from __future__ import annotations

from support import at, join, message, replay, ruleset_from

from storage.store import Store

CONFIG = """
groups: [{id: g1, name: 一群}]
roles:
  - {member: oscar, role: operator}
rules:
  - {name: 查人, when: {command: [/who]}, do: {action: admin, command: who}}
  - {name: 标签, when: {command: [/tag]}, do: {action: admin, command: tag}}
  - {name: 签到, when: {command: [签到]}, do: {action: checkin}}
"""


def said(store: Store, lines: list[str]) -> list[str]:
    return [s["text"] for s in replay(ruleset_from(CONFIG), store, lines).said]


def test_who_shows_layer_tags_points_inviter_and_activity(store: Store) -> None:
    replies = said(
        store,
        [
            message("2026-11-20T09:00:00+08:00", "oscar", "大家好"),
            join("2026-11-24T09:00:00+08:00", "bob", inviter="oscar"),
            message("2026-11-24T09:01:00+08:00", "bob", "签到"),
            message("2026-11-24T09:02:00+08:00", "oscar", "/tag @Bob VIP"),
            message("2026-11-24T09:03:00+08:00", "oscar", "/who @Bob"),
            message("2026-11-24T09:04:00+08:00", "bob", "/who @Oscar"),
        ],
    )
    who = replies[2]
    assert who.startswith("@Oscar Bob（bob）")
    assert "分层 new · 标签 VIP" in who
    assert "积分 10（第 1 名）· 连续签到 1 天" in who
    assert "入群 2026-11-24 · 邀请人 oscar · 邀请了 0 人" in who
    assert "7/30/90 天发言 1/1/1" in who
    assert replies[3] == "@Bob ⛔ 只有运营及以上可以使用 /who。"


def test_tag_adds_with_expiry_removes_and_refuses_clearly(store: Store) -> None:
    replies = said(
        store,
        [
            message("2026-11-24T09:00:00+08:00", "bob", "hi"),
            message("2026-11-24T09:01:00+08:00", "oscar", "/tag bob 意向:瓷砖 30d"),
            message("2026-11-24T09:02:00+08:00", "oscar", "/tag bob 30"),  # a tag, not a span
            message("2026-11-24T09:03:00+08:00", "oscar", "/tag bob -30"),
            message("2026-11-24T09:04:00+08:00", "oscar", "/tag bob -30"),
            message("2026-11-24T09:05:00+08:00", "oscar", "/tag nobody VIP"),
            message("2026-11-24T09:06:00+08:00", "oscar", "/tag bob"),
        ],
    )
    assert replies[0] == "@Oscar 已为 Bob 加上标签 意向:瓷砖，12-24 09:01 到期。"
    assert replies[1] == "@Oscar 已为 Bob 加上标签 30。"
    assert replies[2] == "@Oscar 已去掉 Bob 的标签 30。"
    assert replies[3] == "@Oscar ❌ Bob 没有标签 30。"
    assert "nobody 不是本群当前成员" in replies[4]
    assert replies[5].startswith("@Oscar ❌ 用法：/tag")
    with store.transaction() as tx:
        assert tx.tags_of("g1", "bob", at("2026-11-24T10:00:00+08:00")) == ["意向:瓷砖"]
        assert tx.tags_of("g1", "bob", at("2026-12-24T09:02:00+08:00")) == []
        rows = tx.tag_rows("g1", at("2026-11-24T10:00:00+08:00"))
        log = [(e.actor, e.action, e.outcome) for e in reversed(tx.audit_log())]
    assert [(r.source, r.set_by) for r in rows] == [("admin", "oscar")]
    # Every attempt is audited: three done, three that could not be (named in the reply).
    assert log == [("oscar", "tag", "ok")] * 3 + [("oscar", "tag", "error")] * 3
