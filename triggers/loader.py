"""Load config.yaml into a running RuleSet, or say exactly what is wrong and where.

Every problem carries file, line, column, the rule it belongs to and what was expected;
all problems are reported at once, so an admin fixes a file in one pass.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from triggers.config import QunbotConfig
from triggers.ruleset import RuleSet, RuleSetProblems
from triggers.text_files import NotUtf8, read_utf8
from triggers.yaml_source import SourceMap, YamlSourceError, load_yaml

_QUOTED = re.compile(r"'([^']*)'")
# Large enough for tens of thousands of FAQ entries; small enough to load in seconds.
MAX_CONFIG_BYTES = 20_000_000


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int
    column: int
    rule: str | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        rule = f" rule {self.rule!r}:" if self.rule else ""
        path = f" {self.path}:" if self.path else ""
        return f"{where}:{rule}{path} {self.message}"


class ConfigError(Exception):
    """A config that cannot run; ``problems`` lists every reason."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load_ruleset(path: Path, bindings: Mapping[str, str] | None = None) -> RuleSet:
    """Parse, validate and compile a config file (``bindings``: topic → room id)."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                [
                    ConfigProblem(
                        str(path),
                        1,
                        1,
                        None,
                        "",
                        f"the file is {size / 1e6:.1f} MB; a config may be at most "
                        f"{MAX_CONFIG_BYTES // 1_000_000} MB",
                    )
                ]
            )
        text = read_utf8(path)
    except OSError as error:
        raise ConfigError(
            [ConfigProblem(str(path), 1, 1, None, "", f"cannot read: {error.strerror}")]
        ) from None
    except NotUtf8 as error:
        raise ConfigError(
            [ConfigProblem(str(path), error.line, error.column, None, "", error.reason)]
        ) from None
    return compile_text(text, str(path), path.parent, bindings)


def compile_text(
    text: str, filename: str, config_dir: Path | None, bindings: Mapping[str, str] | None = None
) -> RuleSet:
    try:
        data, source = load_yaml(text)
    except YamlSourceError as error:
        raise ConfigError(
            [
                ConfigProblem(filename, p.position.line, p.position.column, None, "", p.message)
                for p in error.problems
            ]
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [ConfigProblem(filename, 1, 1, None, "", "expected a mapping of settings at the top")]
        )
    locate = _Locator(filename, source, data)
    try:
        config = QunbotConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError([locate(e["loc"], _explain(e)) for e in error.errors()]) from None
    try:
        return RuleSet(config, config_dir, bindings)
    except RuleSetProblems as error:
        raise ConfigError([locate(loc, message) for loc, message in error.problems]) from None


class _Locator:
    def __init__(self, filename: str, source: SourceMap, data: dict[str, Any]) -> None:
        self._filename = filename
        self._source = source
        self._data = data

    def __call__(self, loc: Sequence[str | int], message: str) -> ConfigProblem:
        position = self._source.position(loc)
        return ConfigProblem(
            file=self._filename,
            line=position.line,
            column=position.column,
            rule=self._rule_name(loc),
            path=_render_path(self._source, loc),
            message=message,
        )

    def _rule_name(self, loc: Sequence[str | int]) -> str | None:
        if len(loc) < 2 or loc[0] != "rules" or not isinstance(loc[1], int):
            return None
        rules = self._data.get("rules")
        if isinstance(rules, list) and loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
            name = rules[loc[1]].get("name")
            return str(name) if name is not None else f"#{loc[1] + 1}"
        return None


def _render_path(source: SourceMap, loc: Sequence[str | int]) -> str:
    """``rules[2].do[0].points``: the loc without the union tags pydantic inserts.

    A tag is an element the file does not have with more loc after it; a last element
    the file lacks is a missing key, and is kept.
    """
    parts: list[str] = []
    kept: list[str | int] = []
    for position, element in enumerate(loc):
        candidate = [*kept, element]
        is_last = position == len(loc) - 1
        if not (source.has(candidate) or is_last or not source.has(kept)):
            continue
        parts.append(
            f"[{element}]" if isinstance(element, int) else ("." if parts else "") + element
        )
        kept = candidate
    return "".join(parts)


def _explain(error: ErrorDetails) -> str:
    """Pydantic's message, reworded where an admin needs to know what was expected."""
    kind = error["type"]
    context = error.get("ctx") or {}
    loc = error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = _allowed_keys(loc[:-1])
        hint = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
        listing = f" (expected one of: {', '.join(allowed)})" if allowed else ""
        return f"unknown key {key!r}{suggestion}{listing}"
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}"
    if kind == "union_tag_invalid":
        expected = context.get("expected_tags", "")
        kind_name = str(context.get("discriminator", "tag")).strip("'")
        return f"unknown {kind_name} {context.get('tag')!r}; expected one of: {expected}"
    if kind == "union_tag_not_found":
        return (
            f"missing the {context.get('discriminator', 'tag')!r} key that says which kind this is"
        )
    message = error["msg"]
    if kind in ("literal_error", "enum"):
        # Pydantic lists Literal[Enum.X] choices as "<Role.OPERATOR: 'operator'>": the
        # admin wrote, and should read, just the quoted words.
        choices = _QUOTED.findall(str(context.get("expected", "")))
        message = f"expected one of: {', '.join(choices)}"
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if kind == "string_type" and isinstance(error.get("input"), bool):
        return (
            f"{message} (got {error['input']}: YAML reads unquoted yes/no/on/off as true/false;"
            " put the value in quotes)"
        )
    if "input" in error and kind not in ("model_type", "dict_type", "list_type"):
        shown = error["input"]
        if isinstance(shown, str | int | float | bool) or shown is None:
            message += f" (got {shown!r})"
    return message


def _allowed_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the model at ``loc`` accepts, found by walking the config's types."""
    model: Any = QunbotConfig
    for element in loc:
        if isinstance(element, int):
            continue
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = _field_by_alias(model, element)
            if field is None:
                model = _union_member(model, element)
                continue
            model = _unwrap(field)
        else:
            model = _union_member(model, element)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [f.alias or name for name, f in model.model_fields.items()]
    return []


def _field_by_alias(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if (field.alias or name) == key:
            return field
    return None


def _unwrap(field: Any) -> Any:
    """Peel list[...], Optional[...] and Annotated[...] down to a model or a union of models."""
    annotation = field.annotation
    while True:
        origin = get_origin(annotation)
        args = [a for a in get_args(annotation) if a is not type(None)]
        single_optional = origin in (Union, UnionType) and len(args) == 1
        if origin is Annotated or origin is list or single_optional:
            annotation = args[0]
        else:
            return annotation


def _union_member(union: Any, tag: str | int) -> Any:
    for member in get_args(union) or ():
        if isinstance(member, type) and issubclass(member, BaseModel):
            action = member.model_fields.get("action")
            if action is not None and tag in get_args(action.annotation):
                return member
    return union
