"""Segment broadcasts: an operator's message to the members of a layer (and tag), @mentioned,
a bounded number per message, only in the groups that have them; big ones asked first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from support import message, replay

from bot.cli import main
from bot.dispatcher import Dispatcher
from core.effects import Effect
from core.events import Event, EventKind
from storage.store import Store
from triggers.engine import Engine
from triggers.loader import load_ruleset

CONFIG = """
groups: [{id: g1, name: 一群}, {id: g2, name: 二群}]
sending: {mentions_per_message: 2}
confirmations: {segment_above: 3}
rules:
  - {name: ping, when: {command: [ping]}, do: {action: reply, text: pong}}
"""
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
QUIET = ["m1", "m2", "m3", "m4", "m5"]  # spoke 40 days ago in 一群
ACTIVE = ["m6", "m7"]  # spoke 2 days ago in 一群


def lines() -> list[str]:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=2)
    said = [message(old.isoformat(), m, "大家好", name=f"成员{m}") for m in QUIET]
    said += [message(recent.isoformat(), m, "在呢", name=f"成员{m}") for m in ACTIVE]
    said.append(message(recent.isoformat(), "m8", "二群的人", group="g2", name="成员m8"))
    return said


def setup(tmp_path: Path) -> list[str]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    store = Store(db)
    replay(load_ruleset(config), store, lines())
    store.close()
    return ["--config", str(config), "--db", db]


def cli(*args: str, input_: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input_)
    return result.exit_code, result.output


def fire(common: list[str], at: datetime) -> list[Effect]:
    store = Store(common[-1])
    dispatcher = Dispatcher(store, Engine(load_ruleset(Path(common[1]))))
    try:
        dispatcher.restore(NOW)
        return dispatcher.process([Event(kind=EventKind.TICK, group="", at=at)])
    finally:
        dispatcher.close()
        store.close()


def test_a_segment_broadcast_reaches_exactly_the_segment_a_few_per_message(
    tmp_path: Path,
) -> None:
    common = setup(tmp_path)
    at = NOW + timedelta(hours=1)
    text = (
        "{{ group.name }}：好久不见！{{ segment.size }} 位老朋友，{{ segment.names | join('、') }}"
    )
    code, out = cli(
        "broadcast", "add", *common, "--segment", "layer=quiet", "--text", text,
        "--at", f"{at.astimezone(load_ruleset(Path(common[1])).zone_of('g1')):%Y-%m-%d %H:%M}",
        "--yes",
    )  # fmt: skip
    assert code == 0, out
    assert "layer=quiet: 5 member(s) in 1 group(s) now" in out
    assert "to layer=quiet" in out
    code, out = cli("broadcast", "preview", "1", "--group", "g1", *common)
    assert code == 0 and "(1/3)" in out and "(3/3)" in out
    replies = fire(common, at + timedelta(seconds=5))
    assert {r.group for r in replies} == {"g1"}  # 二群 has nobody quiet: nothing sent there
    assert [len(r.mentions) for r in replies] == [2, 2, 1]
    assert sorted(m for r in replies for m in r.mentions) == QUIET  # exactly the segment
    first = replies[0]
    names = [f"成员{m}" for m in first.mentions]
    assert first.text == (
        f"@{names[0]} @{names[1]} 一群：好久不见！5 位老朋友，{names[0]}、{names[1]}"
    )
    assert len({r.key for r in replies}) == 3  # each part is its own keyed message


def test_a_tag_narrows_the_segment(tmp_path: Path) -> None:
    common = setup(tmp_path)
    code, out = cli("tag", "add", "m2", "VIP", "--group", "g1", *common)
    assert code == 0, out
    at = NOW + timedelta(hours=1)
    zone = load_ruleset(Path(common[1])).zone_of("g1")
    code, out = cli(
        "broadcast", "add", *common, "--segment", "layer=quiet,tag=VIP", "--text", "VIP 回归礼",
        "--at", f"{at.astimezone(zone):%Y-%m-%d %H:%M}",
    )  # fmt: skip
    assert code == 0 and "1 member(s) in 1 group(s)" in out, out
    replies = fire(common, at + timedelta(seconds=5))
    assert [(r.group, r.mentions, r.text) for r in replies] == [
        ("g1", ("m2",), "@成员m2 VIP 回归礼")
    ]


def test_a_big_segment_is_asked_first_and_bad_ones_are_refused(tmp_path: Path) -> None:
    common = setup(tmp_path)
    add = ["broadcast", "add", *common, "--text", "hi"]
    code, out = cli(*add, "--segment", "layer=quiet", input_="n\n")
    assert code == 1 and "@mention 5 member(s) (more than 3)?" in out and "Aborted" in out
    code, out = cli("broadcast", "list", *common)
    assert "scheduled" not in out  # nothing stored
    code, out = cli(*add, "--segment", "layer=active")  # 2 members: within the limit
    assert code == 0 and "scheduled" in out, out
    for bad, says in [
        ("layer=gone", "unknown layer 'gone'"),
        ("layer=left", "unknown layer 'left'"),
        ("quiet", "layer=<layer> and/or tag=<tag>"),
        ("layer=quiet,layer=new", "layer given twice"),
        ("tag=", "layer=<layer> and/or tag=<tag>"),
    ]:
        code, out = cli(*add, "--segment", bad)
        assert code == 2 and says in out, (bad, out)
    code, out = cli(*add[:-1], "{{ segment.size }}", "--groups", "g1")
    assert code == 2 and "segment" in out  # only a segment broadcast knows its segment
    code, out = cli("broadcast", "add", *common, "--text", "hi")
    assert code == 2 and "--groups or --all" in out
