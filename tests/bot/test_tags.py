"""Tags end to end: a rule tags by keyword, rules gated on tags and layers, operators' CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from support import at, join, message, replay, ruleset_from

from bot.cli import main
from storage.store import Store, StoreTx
from triggers.loader import ConfigError

CONFIG = """\
timezone: Asia/Shanghai
groups: [{id: g1, name: 一群}]
rules:
  - name: 瓷砖意向
    when: {keywords: [瓷砖, 地板]}
    do: {action: tag, add: [意向:瓷砖], expires: 30d, text: "已记下 {{ added | join(',') }}"}
  - name: 意向跟进
    when: {command: [报价]}
    if: {tags: [意向:瓷砖]}
    do: {action: reply, text: "瓷砖报价单已发你"}
  - name: 新人福利
    when: {command: [福利]}
    if: {layers: [new]}
    do: {action: reply, text: "新人专享福利"}
"""


def said(lines: list[str], tmp_path: Path) -> list[str]:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        return [s["text"] for s in replay(ruleset_from(CONFIG), store, lines).said]
    finally:
        store.close()


def test_a_keyword_tags_the_sender_and_tagged_members_get_the_gated_rule(tmp_path: Path) -> None:
    replies = said(
        [
            message("2026-11-24T10:00", "bob", "报价"),  # not tagged yet: nothing
            message("2026-11-24T10:01", "bob", "你们的瓷砖怎么卖"),
            message("2026-11-24T10:02", "bob", "报价"),
            message("2026-11-24T10:03", "amy", "报价"),  # amy has no tag
            message("2026-12-24T10:04", "bob", "报价"),  # the tag expired after 30 days
        ],
        tmp_path,
    )
    assert replies == ["@Bob 已记下 意向:瓷砖", "瓷砖报价单已发你"]


def test_a_layer_condition_admits_new_members_only(tmp_path: Path) -> None:
    replies = said(
        [
            message("2026-11-01T10:00", "old", "大家好"),
            join("2026-11-24T10:00", "amy"),
            message("2026-11-24T10:01", "amy", "福利"),
            message("2026-11-24T10:02", "old", "福利"),
            message("2026-12-05T10:00", "amy", "福利"),  # eleven days on: not new any more
        ],
        tmp_path,
    )
    assert replies.count("新人专享福利") == 1


def test_bad_tag_rules_are_refused_with_the_rule_named() -> None:
    bad = (
        "rules:\n  - {name: 坏, when: {keywords: [x]}, do: {action: tag, add: [a], remove: [a]}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        ruleset_from(bad)
    (problem,) = caught.value.problems
    assert (problem.line, problem.rule) == (2, "坏")
    assert "both added and removed: a" in problem.message
    empty = "rules:\n  - {name: 空, when: {keywords: [x]}, do: {action: tag}}\n"
    with pytest.raises(ConfigError) as caught:
        ruleset_from(empty)
    assert "give tags to 'add' or to 'remove'" in str(caught.value.problems)


def test_operators_tag_list_and_untag_with_every_change_audited(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'q.db'}"
    store = Store(url)
    replay(ruleset_from(CONFIG), store, [message("2026-11-24T10:00", "bob", "大家好")])
    store.close()
    runner = CliRunner()
    base = ["--config", str(config), "--db", url]
    added = runner.invoke(main, ["tag", "add", "bob", "VIP", "--for", "2h", "--as", "ops", *base])
    assert added.exit_code == 0, added.output
    assert "tagged bob VIP in g1" in added.stdout
    listed = runner.invoke(main, ["tag", "list", *base])
    assert "VIP" in listed.stdout and "admin" in listed.stdout and "ops" in listed.stdout
    vip = runner.invoke(main, ["members", "--tag", "VIP", "--format", "csv", *base])
    assert [line.split(",")[1] for line in vip.stdout.splitlines()[1:]] == ["bob"]
    nobody = runner.invoke(main, ["tag", "add", "zed", "VIP", *base])
    assert nobody.exit_code == 2 and "no member 'zed'" in nobody.stderr
    bad = runner.invoke(main, ["tag", "add", "bob", "VIP", "--for", "soon", *base])
    assert bad.exit_code == 2 and "--for 'soon'" in bad.stderr
    removed = runner.invoke(main, ["tag", "remove", "bob", "VIP", "--as", "ops", *base])
    assert removed.exit_code == 0, removed.output
    again = runner.invoke(main, ["tag", "remove", "bob", "VIP", *base])
    assert again.exit_code == 2 and "has no tag 'VIP'" in again.stderr
    store = Store(url)
    with store.transaction() as tx:
        log = [(e.actor, e.action, e.group, e.detail, e.outcome) for e in tx.audit_log()]
        assert tx.tags_of("g1", "bob", at("2026-11-24T10:00")) == []
    store.close()
    assert ("ops", "untag", "g1", "bob VIP", "ok") in log
    assert ("ops", "tag", "g1", "bob VIP for 2h", "ok") in log


def test_a_batchs_layers_and_tags_are_read_together_and_a_join_in_it_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine reads ahead the layers and tags a batch's rules will ask about, each in
    one read; a member who joins within the batch is judged on the join, not on the read
    ahead."""
    reads: list[int] = []
    tag_reads: list[int] = []
    read_layers, load_tags = StoreTx._read_layers, StoreTx._load_tags

    def counted(self: StoreTx, bounds: Any, pairs: Any) -> Any:
        reads.append(len(pairs))
        return read_layers(self, bounds, pairs)

    def tags_counted(self: StoreTx, pairs: Any) -> None:
        tag_reads.append(len(pairs))
        load_tags(self, pairs)

    monkeypatch.setattr(StoreTx, "_read_layers", counted)
    monkeypatch.setattr(StoreTx, "_load_tags", tags_counted)
    olds = [f"old{i}" for i in range(20)]
    earlier = [message("2026-11-01T10:00", m, "大家好") for m in olds]
    said(earlier, tmp_path)
    reads.clear()
    tag_reads.clear()
    batch = [
        *(message("2026-11-24T09:00", m, "报价") for m in olds[:5]),  # none tagged
        *(message("2026-11-24T10:00", m, "福利") for m in olds),
        message("2026-11-24T10:01", "amy", "福利"),  # not a member yet
        join("2026-11-24T10:02", "amy"),
        message("2026-11-24T10:03", "amy", "福利"),  # new now
        message("2026-11-24T10:04", "amy", "天气不错"),  # asks no rule: not read
    ]
    assert said(batch, tmp_path) == ["新人专享福利"]
    # The batch's speakers together (amy, first seen in it, is known without a read: see
    # tests/storage/test_new_memberships.py); amy again after her join.
    assert reads == [20, 1]
    assert tag_reads == [5]  # only those whose rule asks for a tag


def test_a_long_message_is_not_matched_twice_and_still_judged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Texts the matcher does not memoise are left out of the read-ahead (matching them
    ahead would match them twice); the member's layer is read when the rule asks."""
    reads: list[int] = []
    read_layers = StoreTx._read_layers

    def counted(self: StoreTx, bounds: Any, pairs: Any) -> Any:
        reads.append(len(pairs))
        return read_layers(self, bounds, pairs)

    monkeypatch.setattr(StoreTx, "_read_layers", counted)
    long = "福利 " + "请问今天新人的福利都有哪些我想知道得详细一点" * 2
    assert len(long) > 40
    replies = said(
        [join("2026-11-24T10:00", "amy"), message("2026-11-24T10:01", "amy", long)], tmp_path
    )
    assert replies == ["新人专享福利"]
    assert reads == [1]
