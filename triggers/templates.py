"""Message templates: one sandboxed Jinja2 environment, checked when the config loads.

Admins write templates, so they render in a sandbox; StrictUndefined turns a typo into
an error, and :meth:`Templates.check` finds it at load time rather than at 08:00.
Member text only ever reaches a template as data in its context, never as source.
Every render runs on a budget of time, steps and size (see :mod:`triggers.template_limits`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
)

from core.resources import bundled_templates_dir
from triggers.template_limits import (
    MAX_MESSAGE_CHARS,
    MAX_VALUE_SIZE,
    LimitedSandbox,
    render_within_limits,
)
from triggers.text_files import NotUtf8, not_utf8, read_utf8


class Renderable(Protocol):
    """What actions hold: a compiled Jinja template, or plain text."""

    def render(self, *args: Any, **kwargs: Any) -> str: ...


@dataclass(frozen=True, slots=True)
class PlainText:
    """Text without template syntax, the usual keyword auto-reply: it renders to itself.

    A compiled Jinja template is a module of its own (kilobytes each); a config with
    thousands of plain replies would carry thousands of them for nothing.
    """

    text: str

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self.text


# Anything Jinja would treat as markup; text without it is used as it is.
_SYNTAX = re.compile(r"\{[{%#]")


class TemplateProblem(Exception):
    """A template that does not load or does not render with the variables it is given."""


@dataclass(frozen=True, slots=True)
class LimitedTemplate:
    """A compiled template that renders on a budget and fails only with TemplateProblem.

    Anything a template raises (a limit, a type error in its own expressions, a number
    too large to print) is the template's problem, not the bot's: it is reported as such.
    """

    template: Template
    globals: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "globals", dict(self.template.globals))

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return render_within_limits(self.template, dict(*args, **kwargs), self.globals)
        except Exception as error:
            raise TemplateProblem(f"{type(error).__name__}: {error}") from None


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """Where a template comes from: a file under templates/ or text written in the config."""

    name: str | None = None
    text: str | None = None

    def describe(self) -> str:
        return f"template {self.name!r}" if self.name else "inline text"


class Templates:
    """Compiles templates; a config's own templates/ folder wins over the bundled one."""

    def __init__(self, config_dir: Path | None) -> None:
        search = [str(bundled_templates_dir())]
        if config_dir is not None and (config_dir / "templates").is_dir():
            search.insert(0, str(config_dir / "templates"))
        self.env = LimitedSandbox(
            loader=ChoiceLoader([FileSystemLoader(search)]),
            undefined=StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    def compile(
        self, source: TemplateSource, variables: frozenset[str], sample: Mapping[str, Any]
    ) -> Renderable:
        """Load a template and prove it renders with the action's sample context."""
        if source.name is None and not _SYNTAX.search(source.text or ""):
            if len(source.text or "") > MAX_MESSAGE_CHARS:
                raise TemplateProblem(
                    f"{source.describe()} is longer than {MAX_MESSAGE_CHARS:,} characters"
                )
            return PlainText(source.text or "")
        try:
            if source.name is not None:
                template = self.env.get_template(source.name)
                assert template.filename is not None
                text = read_utf8(Path(template.filename))
            else:
                text = source.text or ""
                template = self.env.from_string(text)
            if len(text) > MAX_VALUE_SIZE:
                raise TemplateProblem(
                    f"{source.describe()} is longer than {MAX_VALUE_SIZE:,} characters"
                )
            unknown = meta.find_undeclared_variables(self.env.parse(text)) - variables
        except TemplateNotFound as missing:
            raise TemplateProblem(
                f"template file {missing.name!r} not found in templates/"
            ) from None
        except TemplateSyntaxError as error:
            raise TemplateProblem(
                f"{source.describe()} line {error.lineno}: {error.message}"
            ) from None
        except UnicodeDecodeError as error:
            raise TemplateProblem(f"{source.describe()}: {not_utf8(error)}") from None
        except NotUtf8 as error:
            raise TemplateProblem(f"{source.describe()}: {error}") from None
        except RecursionError:
            raise TemplateProblem(f"{source.describe()} is nested too deeply") from None
        if unknown:
            raise TemplateProblem(
                f"{source.describe()} uses unknown variable(s) {', '.join(sorted(unknown))}; "
                f"available: {', '.join(sorted(variables))}"
            )
        limited = LimitedTemplate(template)
        try:
            limited.render(**sample)
        except TemplateProblem as error:
            raise TemplateProblem(f"{source.describe()} does not render: {error}") from None
        return limited


def render(template: Renderable, context: Mapping[str, Any]) -> str:
    """Render and trim: admins' YAML block scalars leave stray blank lines."""
    return template.render(**context).strip()
