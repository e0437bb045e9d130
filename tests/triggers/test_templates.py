"""Templates render in a sandbox, strictly, and member text never becomes template source."""

from __future__ import annotations

import pytest
from jinja2.exceptions import SecurityError
from support import message, replay, ruleset_from

from triggers.templates import PlainText, TemplateProblem, Templates, TemplateSource, render


def test_the_sandbox_blocks_python_internals() -> None:
    templates = Templates(None)
    template = templates.env.from_string("{{ member.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        template.render(member=object())


def test_an_admin_template_reaching_for_internals_fails_at_load_time() -> None:
    with pytest.raises(TemplateProblem):
        Templates(None).compile(
            TemplateSource(text="{{ ''.__class__.__mro__[1].__subclasses__() }}"),
            frozenset(),
            {},
        )


def test_undefined_variables_are_errors_not_blanks() -> None:
    with pytest.raises(TemplateProblem, match="unknown variable"):
        Templates(None).compile(TemplateSource(text="{{ nope }}"), frozenset({"member"}), {})


def test_bundled_default_templates_all_load(store) -> None:  # type: ignore[no-untyped-def]
    ruleset = ruleset_from(
        """
rules:
  - {name: w, when: {event: join}, do: {action: welcome, burst_window: 0}}
  - {name: c, when: {command: [签到]}, do: {action: checkin}}
  - {name: p, when: {command: [积分]}, do: {action: my_points}}
  - {name: l, when: {command: [排行榜]}, do: {action: leaderboard}}
"""
    )
    out = replay(
        ruleset,
        store,
        [
            message("2026-11-24T08:00:00", "bob", "签到"),
            message("2026-11-24T08:00:01", "bob", "签到"),
            message("2026-11-24T08:00:02", "bob", "积分"),
            message("2026-11-24T08:00:03", "bob", "排行榜 本周"),
        ],
    )
    assert out.texts[0].startswith("@Bob 签到成功")
    assert "已经签到过" in out.texts[1]
    assert out.texts[2].splitlines()[0] == "@Bob 你的积分：10（群内第 1 名）"
    assert out.texts[3].splitlines() == ["🏆 g1 · 本周积分榜", "1. Bob  10 分"]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("关于「座新资」的说明见群公告第 1 条。", True),
        ("价格 {单价} 元，100% 满意", True),  # braces that are not Jinja markup
        ("你好 {{ member.name }}", False),
        ("{% if true %}是{% endif %}", False),
        ("{# 备注 #}欢迎", False),
    ],
)
def test_text_without_markup_is_kept_as_plain_text(text: str, plain: bool) -> None:
    compiled = Templates(None).compile(
        TemplateSource(text=text), frozenset({"member"}), {"member": {"name": "Bob"}}
    )
    assert isinstance(compiled, PlainText) is plain
    if plain:
        assert render(compiled, {"member": {"name": "Bob"}}) == text


def test_a_plain_reply_is_said_exactly_as_written(store) -> None:  # type: ignore[no-untyped-def]
    ruleset = ruleset_from(
        "rules:\n  - {name: r, when: {keywords: [价格]}, do: {action: reply, text: '价格 {单价} 元'}}\n"
    )
    said = replay(ruleset, store, [message("2026-11-24T08:00", "bob", "价格多少")])
    assert said.texts == ["价格 {单价} 元"]
