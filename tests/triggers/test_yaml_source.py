"""load_yaml gives plain values and a SourceMap that points pydantic errors at the right line."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from triggers import yaml_source
from triggers.yaml_source import Position, SourceMap, YamlProblem, YamlSourceError, load_yaml

CONFIG = """\
# qunbot config
version: 1
points:
  streak_bonus:
    7: 50
    30: 200
rules:
  - name: morning
    keywords: [早, 早安]
  - name: welcome
    reply:
      - 欢迎！
      - text: 请看群公告
"""


def load(text: str) -> SourceMap:
    return load_yaml(text)[1]


def problems(text: str) -> tuple[YamlProblem, ...]:
    with pytest.raises(YamlSourceError) as caught:
        load_yaml(text)
    return caught.value.problems


def only_problem(text: str) -> YamlProblem:
    (problem,) = problems(text)
    return problem


def test_values_are_plain_python() -> None:
    value, _ = load_yaml(CONFIG)
    assert value == yaml.safe_load(CONFIG)
    assert value["points"]["streak_bonus"] == {7: 50, 30: 200}


def test_document_start_is_the_root_position() -> None:
    assert load(CONFIG).position(()) == Position(2, 1)


def test_mapping_entries_point_at_their_keys() -> None:
    source = load(CONFIG)
    assert source.position(("version",)) == Position(2, 1)
    assert source.position(("points",)) == Position(3, 1)
    assert source.position(("points", "streak_bonus")) == Position(4, 3)


def test_int_keys() -> None:
    source = load(CONFIG)
    assert source.position(("points", "streak_bonus", 7)) == Position(5, 5)
    assert source.position(("points", "streak_bonus", 30)) == Position(6, 5)
    assert not source.has(("points", "streak_bonus", "7"))


def test_sequence_items_and_keys_inside_them() -> None:
    source = load(CONFIG)
    assert source.position(("rules", 0)) == Position(8, 5)
    assert source.position(("rules", 1, "name")) == Position(10, 5)
    assert source.position(("rules", 0, "keywords", 1)) == Position(9, 19)
    assert source.position(("rules", 1, "reply", 0)) == Position(12, 9)
    assert source.position(("rules", 1, "reply", 1, "text")) == Position(13, 9)


def test_flow_mappings_have_positions_too() -> None:
    source = load("bonus: {7: 50, 30: 200}\n")
    assert source.position(("bonus", 30)) == Position(1, 16)


def test_union_tags_in_loc_are_skipped() -> None:
    source = load(CONFIG)
    assert source.position(("rules", 1, "reply-rule", "reply", 1, "function-after[x]", "text")) == (
        Position(13, 9)
    )
    assert source.position(("points", "PointsConfig", "streak_bonus", 30)) == Position(6, 5)


def test_missing_paths_fall_back_to_the_nearest_ancestor() -> None:
    source = load(CONFIG)
    assert source.position(("rules", 0, "reply")) == Position(8, 5)
    assert source.position(("rules", 7)) == Position(7, 1)
    assert source.position(("rules", -1)) == Position(7, 1)
    assert source.position(("version", "major")) == Position(2, 1)
    assert source.position(("welcome",)) == Position(2, 1)


def test_has_requires_the_whole_loc() -> None:
    source = load(CONFIG)
    assert source.has(())
    assert source.has(("rules", 1, "reply", 1, "text"))
    assert not source.has(("rules", 1, "reply", 2))
    assert not source.has(("rules", 1, "rule", "reply"))
    assert not source.has(("version", "major"))
    assert not source.has(("rules", "0"))


def test_duplicate_key_reports_both_lines() -> None:
    problem = only_problem("rules: []\nname: x\nrules: [1]\n")
    assert problem.position == Position(3, 1)
    assert problem.message == "duplicate key 'rules' (first defined on line 1)"


def test_duplicate_keys_are_found_in_nested_and_flow_mappings() -> None:
    found = problems("a:\n  b: 1\n  c: 2\n  b: 3\nd: {7: 1, 0x7: 2}\n")
    assert [(p.position.line, p.message) for p in found] == [
        (4, "duplicate key 'b' (first defined on line 2)"),
        (5, "duplicate key 7 (first defined on line 5)"),
    ]


def test_every_problem_is_reported_in_file_order() -> None:
    found = problems("x: 1\non: 2\nx: 3\n? [a]\n: 4\ny: !!binary aGk=\n")
    assert [p.position.line for p in found] == [2, 3, 4, 6]
    assert "quote it" in found[0].message
    assert "not a list or mapping" in found[2].message
    assert "!!binary" in found[3].message
    assert str(YamlSourceError(found)).splitlines()[1] == (
        "line 3, column 1: duplicate key 'x' (first defined on line 1)"
    )


@pytest.mark.parametrize("key", ["yes", "off", "~", "1.5"])
def test_keys_must_be_text_or_whole_numbers(key: str) -> None:
    problem = only_problem(f"a: 1\n{key}: 2\n")
    assert problem.position == Position(2, 1)
    assert f"key '{key}' is read as" in problem.message


def test_quoted_keys_are_text() -> None:
    value, source = load_yaml("'on': 1\n'7': 2\n")
    assert value == {"on": 1, "7": 2}
    assert source.position(("7",)) == Position(2, 1)


def test_unclosed_quote() -> None:
    problem = only_problem("version: 1\nname: '早安\nrules: []\n")
    assert problem.position == Position(4, 1)
    assert problem.message == (
        "while scanning a quoted scalar (line 2): found unexpected end of stream"
    )


def test_bad_indentation() -> None:
    problem = only_problem("rules:\n  - name: a\n    reply: hi\n   keywords: [x]\n")
    assert problem.position.line == 4
    assert "indented block" in problem.message
    assert "<" not in problem.message


def test_tab_indentation() -> None:
    problem = only_problem("rules:\n  - name: a\n\treply: hi\n")
    assert problem.position == Position(3, 1)
    assert "tabs" in problem.message


def test_unprintable_character() -> None:
    problem = only_problem("a: 1\nb: x\x07y\n")
    assert problem.position == Position(2, 5)
    assert "U+0007" in problem.message


def test_several_documents_are_rejected() -> None:
    assert only_problem("a: 1\n---\nb: 2\n").position.line == 2


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:collections.OrderedDict {}\n",
        "a: !!python/object/apply:os.system ['echo hacked']\n",
        "a: !!python/name:os.system ''\n",
        "a: !custom 1\n",
        "a: !!set {x, y}\n",
    ],
)
def test_non_standard_tags_are_rejected(text: str) -> None:
    problem = only_problem(text)
    assert problem.position == Position(1, 4)
    assert text.split()[1] in problem.message
    assert "not allowed" in problem.message


def test_explicit_scalar_tag_with_a_wrong_value() -> None:
    problem = only_problem("limit: !!int lots\n")
    assert problem.position == Position(1, 8)
    assert problem.message == "'lots' is not a valid whole number"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_loads_as_none(text: str) -> None:
    value, source = load_yaml(text)
    assert value is None
    assert source.position(("rules", 0)) == source.position(())
    assert not source.has(("rules",))


def test_empty_file_points_at_its_start() -> None:
    assert load("").position(("rules",)) == Position(1, 1)


def test_scalars_follow_safe_load_but_timestamps_stay_text() -> None:
    value, _ = load_yaml("day: 2024-05-01\nat: 2024-05-01 08:00:00\ntime: 8:30\nflag: on\nx: =\n")
    assert value == {
        "day": "2024-05-01",
        "at": "2024-05-01 08:00:00",
        "time": 510,
        "flag": True,
        "x": "=",
    }


ANCHORS = """\
defaults: &defaults
  cooldown: 30s
  groups: [g1]
rules:
  - <<: *defaults
    name: a
    cooldown: 5m
  - *defaults
  - <<: [{cooldown: 1m}, *defaults]
"""


def test_merge_keys_and_aliases() -> None:
    value, source = load_yaml(ANCHORS)
    defaults = {"cooldown": "30s", "groups": ["g1"]}
    assert value["rules"] == [
        {"name": "a", "cooldown": "5m", "groups": ["g1"]},
        defaults,
        {"cooldown": "1m", "groups": ["g1"]},
    ]
    assert value["rules"][1] is not value["defaults"]
    assert source.position(("rules", 0, "cooldown")) == Position(7, 5)
    assert source.position(("rules", 0, "groups")) == Position(3, 3)
    assert source.position(("rules", 1)) == Position(8, 5)
    assert source.position(("rules", 1, "groups", 0)) == Position(3, 12)
    assert source.position(("rules", 2, "cooldown")) == Position(9, 11)
    assert not source.has(("rules", 0, "<<"))


def test_merge_needs_mappings() -> None:
    problem = only_problem("base: &b [1]\nrule:\n  <<: 2\n")
    assert problem.position == Position(3, 3)
    assert "'<<'" in problem.message


def test_alias_inside_its_own_anchor_is_rejected() -> None:
    problem = only_problem("a: &a\n  b: *a\n")
    assert problem.position == Position(2, 3)
    assert "*a" in problem.message


def test_undefined_alias() -> None:
    problem = only_problem("a: *nope\n")
    assert problem.position == Position(1, 4)
    assert "nope" in problem.message


def test_alias_expansion_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_source, "_MAX_VALUES", 1_000)
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]" for p, n in zip("abc", "bcd", strict=True)]
    assert "more than 1,000 values" in only_problem("\n".join(lines)).message


def test_large_config() -> None:
    rule = "  - name: r{0}\n    keywords: [k{0}]\n    streak_bonus: {{7: {0}}}\n"
    text = "rules:\n" + "".join(rule.format(n) for n in range(1000))
    value, source = load_yaml(text)
    assert value["rules"][999]["streak_bonus"] == {7: 999}
    assert source.position(("rules", 999, "streak_bonus", 7)) == Position(3001, 20)


# End to end: a pydantic model like the real config, and the lines its errors must point at.


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _hhmm(value: str) -> str:
    if ":" not in value:
        raise ValueError("expected HH:MM")
    return value


class CheckinRule(Model):
    type: Literal["checkin"]
    points: int
    streak_bonus: dict[int, int] = {}


class ReplyRule(Model):
    type: Literal["reply"]
    keywords: list[str]
    text: str


class Config(Model):
    version: int
    quiet_until: int | Annotated[str, AfterValidator(_hhmm)] = 0
    rules: list[Annotated[CheckinRule | ReplyRule, Field(discriminator="type")]]


BROKEN = """\
version: 1
quiet_until: [8]
rules:
  - type: checkin
    points: lots
    streak_bonus:
      7: fifty
      x: 1
  - type: reply
    keywords: [hi, hello]
    txt: welcome
  - type: reply
    text: ok
    keywords:
      - ok
      - [nested]
"""


def test_pydantic_errors_map_to_the_offending_lines() -> None:
    value, source = load_yaml(BROKEN)
    with pytest.raises(ValidationError) as caught:
        Config.model_validate(value)
    found = {(error["loc"], source.position(error["loc"]).line) for error in caught.value.errors()}
    assert found == {
        (("quiet_until", "int"), 2),
        (("quiet_until", "function-after[_hhmm(), str]"), 2),
        (("rules", 0, "checkin", "points"), 5),
        (("rules", 0, "checkin", "streak_bonus", 7), 7),
        (("rules", 0, "checkin", "streak_bonus", "x", "[key]"), 8),
        (("rules", 1, "reply", "txt"), 11),
        (("rules", 1, "reply", "text"), 9),  # missing: the rule itself
        (("rules", 2, "reply", "keywords", 1), 16),
    }
    assert source.position(("rules", 1, "reply", "text")) == Position(9, 5)
    assert source.position(("rules", 1, "reply", "txt")) == Position(11, 5)
