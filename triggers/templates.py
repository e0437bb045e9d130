"""Message templates: one sandboxed Jinja2 environment, checked when the config loads.

Admins write templates, so they render in a sandbox; StrictUndefined turns a typo into
an error, and :meth:`Templates.check` finds it at load time rather than at 08:00.
Member text only ever reaches a template as data in its context, never as source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
)
from jinja2.sandbox import SandboxedEnvironment

from bot.resources import bundled_templates_dir


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
        self.env = SandboxedEnvironment(
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
            return PlainText(source.text or "")
        try:
            if source.name is not None:
                template = self.env.get_template(source.name)
                assert template.filename is not None
                text = Path(template.filename).read_text(encoding="utf-8")
            else:
                text = source.text or ""
                template = self.env.from_string(text)
            unknown = meta.find_undeclared_variables(self.env.parse(text)) - variables
        except TemplateNotFound as missing:
            raise TemplateProblem(
                f"template file {missing.name!r} not found in templates/"
            ) from None
        except TemplateSyntaxError as error:
            raise TemplateProblem(
                f"{source.describe()} line {error.lineno}: {error.message}"
            ) from None
        if unknown:
            raise TemplateProblem(
                f"{source.describe()} uses unknown variable(s) {', '.join(sorted(unknown))}; "
                f"available: {', '.join(sorted(variables))}"
            )
        try:
            template.render(**sample)
        except TemplateError as error:
            raise TemplateProblem(f"{source.describe()} does not render: {error}") from None
        return template


def render(template: Renderable, context: Mapping[str, Any]) -> str:
    """Render and trim: admins' YAML block scalars leave stray blank lines."""
    return template.render(**context).strip()
