"""Every kind of config mistake is reported with its file, line, column, rule and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SAMPLE_CONFIG, ruleset_from

from triggers.loader import ConfigError, ConfigProblem, load_ruleset

GOOD_RULE = """\
rules:
  - name: 签到
    when: {command: [签到]}
    do: {action: checkin}
"""


def problems(yaml_text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        ruleset_from(yaml_text)
    return caught.value.problems


def only(yaml_text: str) -> ConfigProblem:
    found = problems(yaml_text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_the_tests_copy_of_the_sample_config_is_valid() -> None:
    ruleset = load_ruleset(SAMPLE_CONFIG)
    assert len(ruleset.rules) >= 7


def test_yaml_syntax_error_has_its_line() -> None:
    problem = only("rules:\n  - name: a\n    when: {command: [签到]\n    do: x\n")
    assert problem.file == "config.yaml"
    assert problem.line in (3, 4)
    assert problem.rule is None


def test_duplicate_yaml_key() -> None:
    problem = only("timezone: Asia/Shanghai\nrules: []\ntimezone: UTC\n")
    assert problem.line == 3
    assert "duplicate key 'timezone'" in problem.message


def test_unknown_key_with_a_suggestion() -> None:
    problem = only(
        """\
rules:
  - name: 签到
    when: {command: [签到]}
    do:
      action: checkin
      pionts: 10
"""
    )
    assert (problem.line, problem.column) == (6, 7)
    assert problem.rule == "签到"
    assert "unknown key 'pionts'" in problem.message
    assert "did you mean 'points'?" in problem.message
    assert problem.path == "rules[0].do.pionts"  # do: written as one mapping


def test_unknown_top_level_key() -> None:
    problem = only("timezon: Asia/Shanghai\n")
    assert problem.line == 1
    assert "did you mean 'timezone'?" in problem.message


def test_wrong_type_names_what_was_expected() -> None:
    problem = only(GOOD_RULE.replace("{action: checkin}", "{action: checkin, points: ten}"))
    assert problem.line == 4
    assert problem.rule == "签到"
    assert "integer" in problem.message and "'ten'" in problem.message


def test_missing_required_key() -> None:
    problem = only("rules:\n  - name: x\n    do: {action: checkin}\n")
    assert problem.line == 2
    assert problem.rule == "x"
    assert problem.message == "missing required key 'when'"


def test_unknown_action() -> None:
    problem = only(GOOD_RULE.replace("{action: checkin}", "{action: chekin}"))
    assert problem.line == 4
    assert "unknown action 'chekin'" in problem.message
    assert "'checkin'" in problem.message


def test_action_without_a_kind() -> None:
    problem = only(GOOD_RULE.replace("{action: checkin}", "{points: 5}"))
    assert problem.line == 4
    assert "'action'" in problem.message


def test_bad_duration() -> None:
    problem = only(GOOD_RULE.replace("do:", "if: {cooldown: {member: soon}}\n    do:"))
    assert problem.line == 4
    assert "duration" in problem.message


def test_bad_time_of_day_and_bad_timezone_are_both_reported() -> None:
    found = problems(
        "timezone: Mars/Olympus\n"
        + GOOD_RULE.replace("do:", "if: {hours: {from: '25:00', to: '08:00'}}\n    do:")
    )
    assert [p.line for p in found] == [1, 5]
    assert "unknown time zone 'Mars/Olympus'" in found[0].message
    assert "time of day" in found[1].message


def test_bad_regex() -> None:
    problem = only(
        "rules:\n  - name: r\n    when: {regex: '(unclosed'}\n    do: {action: reply, text: x}\n"
    )
    assert problem.line == 3
    assert "invalid regular expression" in problem.message


def test_two_trigger_kinds_in_one_rule() -> None:
    problem = only(
        "rules:\n  - name: r\n    when: {command: [a], keywords: [b]}\n    do: {action: reply, text: x}\n"
    )
    assert problem.line == 3
    assert "only one of" in problem.message


def test_template_syntax_error_points_at_the_rule() -> None:
    problem = only(
        "rules:\n  - name: hi\n    when: {command: [hi]}\n    do:\n      action: reply\n      text: '{{ member.name '\n"
    )
    assert problem.line == 6
    assert problem.rule == "hi"
    assert problem.path == "rules[0].do.text"
    assert "inline text line 1" in problem.message


def test_template_typo_in_a_variable_is_caught_at_load_time() -> None:
    problem = only(
        "rules:\n  - name: hi\n    when: {command: [hi]}\n    do: {action: reply, text: '{{ membr.name }}'}\n"
    )
    assert problem.line == 4
    assert "unknown variable(s) membr" in problem.message


def test_template_attribute_typo_fails_the_trial_render() -> None:
    problem = only(
        "rules:\n  - name: hi\n    when: {command: [hi]}\n    do: {action: reply, text: '{{ member.nmae }}'}\n"
    )
    assert "does not render" in problem.message and "nmae" in problem.message


def test_missing_template_file() -> None:
    problem = only(GOOD_RULE.replace("{action: checkin}", "{action: checkin, template: nope.j2}"))
    assert problem.line == 4
    assert "'nope.j2' not found" in problem.message


def test_template_file_in_the_configs_own_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "mine.j2").write_text("{{ member.name }} 打卡 {{ checkin.rank }}")
    config = tmp_path / "config.yaml"
    config.write_text(
        GOOD_RULE.replace("{action: checkin}", "{action: checkin, template: mine.j2}")
    )
    assert load_ruleset(config).rules[0].name == "签到"


def test_bad_faq_answer_template() -> None:
    problem = only(
        "faq:\n  entries:\n    - id: a\n      questions: [q]\n      answer: '{% if %}'\n"
    )
    assert problem.line == 5
    assert problem.path == "faq.entries[0].answer"


def test_faq_entry_needs_questions_or_keywords() -> None:
    problem = only("faq:\n  entries:\n    - id: a\n      answer: x\n")
    assert problem.line == 3
    assert "at least one of 'questions' or 'keywords'" in problem.message


def test_duplicate_rule_names_and_group_ids() -> None:
    found = problems(
        "groups: [{id: g1}, {id: g1}]\n"
        + GOOD_RULE
        + "  - name: 签到\n    when: {command: [x]}\n    do: {action: checkin}\n"
    )
    messages = sorted(p.message for p in found)
    assert any("duplicate group 'g1'" in m for m in messages)
    assert any("duplicate rule name '签到'" in m for m in messages)
    lines = sorted(p.line for p in found)
    assert lines == [1, 6]


def test_unknown_group_in_a_condition() -> None:
    problem = only("groups: [{id: g1}]\n" + GOOD_RULE.replace("do:", "if: {groups: [g9]}\n    do:"))
    assert problem.line == 5
    assert "unknown group 'g9'" in problem.message


def test_action_on_the_wrong_kind_of_trigger() -> None:
    found = problems(
        "rules:\n"
        "  - name: a\n    when: {event: join}\n    do: {action: checkin}\n"
        "  - name: b\n    when: {command: [x]}\n    do: {action: welcome}\n"
    )
    assert [(p.rule, p.line) for p in found] == [("a", 4), ("b", 7)]
    assert "needs a message trigger" in found[0].message
    assert "needs a join trigger" in found[1].message


def test_faq_action_without_entries() -> None:
    problem = only("rules:\n  - name: q\n    when: {question: true}\n    do: {action: faq}\n")
    assert "faq.entries" in problem.message


def test_levels_must_rise_from_zero() -> None:
    problem = only("points:\n  levels:\n    - {name: a, min: 10}\n")
    assert problem.line == 2
    assert "min: 0" in problem.message


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        """\
timezone: Nowhere
rules:
  - name: a
    when: {command: [x]}
    do: {action: checkin, points: -1}
  - name: b
    when: {keywords: []}
    do: {action: reply}
"""
    )
    assert [p.line for p in found] == [1, 5, 7]
    assert [p.rule for p in found] == [None, "a", "b"]


def test_a_problem_prints_as_file_line_column_rule_path_message() -> None:
    problem = only(GOOD_RULE.replace("{action: checkin}", "{action: checkin, points: x}"))
    assert str(problem).startswith("config.yaml:4:")
    assert " rule '签到': rules[0].do.points: " in str(problem)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_ruleset(tmp_path / "absent.yaml")
    assert "cannot read" in str(caught.value)


def test_top_level_must_be_a_mapping() -> None:
    problem = only("- just\n- a list\n")
    assert "mapping" in problem.message


def test_path_of_an_action_in_a_list_keeps_its_index() -> None:
    problem = only(
        GOOD_RULE.replace(
            "do: {action: checkin}",
            "do:\n      - {action: checkin}\n      - {action: my_points, colour: red}",
        )
    )
    assert problem.path == "rules[0].do[1].colour"
    assert problem.line == 6


def test_an_unquoted_yaml_boolean_gets_a_hint() -> None:
    problem = only("rules:\n  - name: off\n    when: {command: [x]}\n    do: {action: my_points}\n")
    assert problem.line == 2
    assert "put the value in quotes" in problem.message


def load_bytes(tmp_path: Path, data: bytes) -> ConfigProblem:
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as caught:
        load_ruleset(path)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


def test_a_config_that_is_not_utf8_is_located_at_its_first_bad_byte(tmp_path: Path) -> None:
    problem = load_bytes(tmp_path, "timezone: UTC\nrules:\n  - name: 签".encode() + b"\xff\n")
    assert (problem.line, problem.column) == (3, 12)
    assert "not UTF-8 text (byte 0xff)" in problem.message
    gbk = load_bytes(tmp_path, "rules:\n  - name: 签到\n".encode("gbk"))
    assert gbk.line == 2 and "save the file as UTF-8" in gbk.message


def test_a_binary_file_is_a_config_problem_not_a_crash(tmp_path: Path) -> None:
    problem = load_bytes(tmp_path, bytes(range(256)) * 8)
    assert problem.file.endswith("config.yaml") and problem.line >= 1


@pytest.mark.parametrize(
    "nested",
    ["rules: " + "[" * 5000 + "]" * 5000, "rules: " + "{a: " * 5000 + "1" + "}" * 5000],
)
def test_deep_nesting_is_refused_where_it_goes_too_deep(tmp_path: Path, nested: str) -> None:
    problem = load_bytes(tmp_path, nested.encode())
    assert problem.line == 1 and problem.column < 400
    assert "nested more than 64 deep" in problem.message


def test_a_config_over_the_size_limit_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("triggers.loader.MAX_CONFIG_BYTES", 1_000_000)
    problem = load_bytes(tmp_path, b"# " + b"x" * 1_200_000 + b"\n")
    assert "the file is 1.2 MB; a config may be at most 1 MB" in problem.message


def test_a_large_faq_without_aliases_loads(tmp_path: Path) -> None:
    # More values than the alias budget, all written out: a big file, not an attack.
    entry = (
        "    - {{id: q{0}, questions: ['问题{0}怎么办'], keywords: ['业务{0}'], answer: '答{0}'}}\n"
    )
    text = "faq:\n  entries:\n" + "".join(entry.format(n) for n in range(20_000))
    path = tmp_path / "config.yaml"
    path.write_text(text + "rules: []\n", encoding="utf-8")
    assert len(load_ruleset(path).faq) == 20_000


def test_a_command_word_an_earlier_rule_always_takes_is_an_error() -> None:
    problem = only(
        GOOD_RULE
        + "  - name: 打卡\n    when: {command: [打卡, 簽到]}\n    do: {action: reply, text: x}\n"
    )
    assert (problem.rule, problem.line, problem.path) == ("打卡", 6, "rules[1].when.command[1]")
    assert "command '签到' is already answered by rule '签到'" in problem.message


@pytest.mark.parametrize(
    "first",
    [
        "  - name: 签到\n    when: {command: [签到]}\n    do: {action: checkin}\n    continue: true\n",
        "  - name: 签到\n    when: {command: [签到]}\n    if: {roles: [admin]}\n    do: {action: checkin}\n",
    ],
)
def test_a_shared_command_word_is_fine_when_the_first_rule_lets_others_run(first: str) -> None:
    ruleset_from(
        "rules:\n"
        + first
        + "  - name: b\n    when: {command: [签到]}\n    do: {action: reply, text: x}\n"
    )


def test_the_readme_regex_example_passes_check_and_renders_its_groups() -> None:
    ruleset = ruleset_from(
        "rules:\n  - name: order\n    when: {regex: '订单(?P<no>\\d{6})(?P<note>备注)?'}\n"
        "    do: {action: reply, text: '订单 {{ match.groups.no }} {{ match.groups.note }}!'}\n"
    )
    ((_, match),) = ruleset.matcher.match("查订单123456")
    assert dict(match.groups) == {"no": "123456", "note": ""}


def test_a_bad_choice_lists_the_words_the_admin_may_write() -> None:
    problem = only("roles:\n  - {member: alice, role: boss}\n" + GOOD_RULE)
    assert problem.message == "expected one of: operator, admin, owner (got 'boss')"


def test_a_template_file_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "hi.j2").write_bytes(b"hello\n\xfe")
    with pytest.raises(ConfigError) as caught:
        ruleset_from(
            "rules:\n  - {name: r, when: {command: [hi]}, do: {action: reply, template: hi.j2}}\n",
            tmp_path,
        )
    assert "not UTF-8 text (byte 0xfe)" in str(caught.value)
    assert "line 2, column 1" in str(caught.value)
