"""What an admin-written template may cost: render time, loop steps, value and message size.

Jinja's sandbox keeps templates away from Python's internals, but not from running for
hours (``range`` inside ``range``) or building a gigabyte string (``'x' * 300000000``).
Admins write templates and operators write broadcasts, so every render runs on a budget:

* every loop step and every call counts against :data:`MAX_STEPS`, and the render stops
  after :data:`MAX_RENDER_SECONDS`;
* no value a template builds (text, list, the text of a printed list) may exceed
  :data:`MAX_VALUE_SIZE`: operators, calls and filters that multiply sizes are checked
  *before* they allocate, everything else right after;
* the rendered message may not exceed :data:`MAX_MESSAGE_CHARS`.

Going over a limit raises :class:`TemplateLimit`, whose message names the limit.
"""

from __future__ import annotations

import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

MAX_STEPS = 100_000
MAX_RENDER_SECONDS = 1.0
MAX_VALUE_SIZE = 100_000
MAX_MESSAGE_CHARS = 20_000
MAX_INT_BITS = 4_096

# Methods and filters whose integer arguments are sizes of the result.
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "batch", "slice"})
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-+ #0]*(\*|\d*)(?:\.(\*|\d*))?")
_NUMBER = re.compile(r"\d+")
# Filters that turn their input into text: a list in, its printed form out.
_STRINGIFYING_FILTERS = frozenset(
    {
        "string",
        "pprint",
        "tojson",
        "join",
        "format",
        "escape",
        "e",
        "forceescape",
        "safe",
        "urlize",
        "urlencode",
        "xmlattr",
        "center",
        "indent",
        "wordwrap",
        "truncate",
        "title",
        "upper",
        "lower",
        "capitalize",
        "trim",
        "striptags",
        "replace",
        "wordcount",
    }
)
_DICT_ATTRIBUTES = frozenset(dir(dict))
_TOO_LONG = f"a value longer than {MAX_VALUE_SIZE:,} characters or items"


class TemplateLimit(SecurityError):
    """A template went over one of its limits; the message names the limit."""


@dataclass(slots=True)
class _Budget:
    deadline: float
    steps: int = 0


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def step() -> None:
    """One loop step or call; outside a render (constant folding at compile) it is free."""
    budget = _budget.get()
    if budget is None:
        return
    budget.steps += 1
    if budget.steps > MAX_STEPS:
        raise TemplateLimit(f"more than {MAX_STEPS:,} loop steps and calls")
    if budget.steps & 255 == 0:
        _check_time(budget)


def _check_time(budget: _Budget) -> None:
    if time.monotonic() > budget.deadline:
        raise TemplateLimit(f"rendering took longer than {MAX_RENDER_SECONDS:g} s")


def size_of(value: Any, limit: int = MAX_VALUE_SIZE) -> int:
    """About how many characters ``value`` prints as, counted only up to just past ``limit``.

    Shared references count each time they appear, as they would when printed.
    """
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if isinstance(value, Mapping):
        value = [item for pair in value.items() for item in pair]
    if isinstance(value, list | tuple | set | frozenset):
        total = 2
        for item in value:
            total += 2 + size_of(item, limit - total)
            if total > limit:
                return total
        return total
    return 16  # numbers, dates and objects with a short printed form


def bounded(value: Any) -> Any:
    """``value`` if it is within :data:`MAX_VALUE_SIZE`; else refuse."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit(f"a number larger than {MAX_INT_BITS:,} bits")
    if size_of(value) > MAX_VALUE_SIZE:
        raise TemplateLimit(_TOO_LONG)
    return value


def _check_width(width: Any) -> None:
    if isinstance(width, int) and width > MAX_VALUE_SIZE:
        raise TemplateLimit(f"a width of {width:,} (at most {MAX_VALUE_SIZE:,})")


def _check_percent(pattern: str) -> None:
    """``'%9999999d' % x`` allocates before anything can check its result."""
    for spec in _PERCENT_SPEC.finditer(pattern):
        for number in spec.groups():
            if number == "*":
                raise TemplateLimit("'*' widths in % formatting are not allowed")
            if number:
                _check_width(int(number))


def _check_format(pattern: str) -> None:
    """``'{:>9999999}'.format(x)``; a width taken from an argument is refused outright."""
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError:
        return  # str.format itself reports the broken pattern
    for _, _, spec, _ in fields:
        if spec and "{" in spec:
            raise TemplateLimit("widths taken from arguments ('{:{}}') are not allowed")
        for number in _NUMBER.findall(spec or ""):
            _check_width(int(number))


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        count = text.count(old) if old else len(text) + 1
        if len(text) + count * len(new) > MAX_VALUE_SIZE:
            raise TemplateLimit(_TOO_LONG)


def _check_join(items: Any, separator: Any) -> None:
    if (
        isinstance(separator, str)
        and isinstance(items, list | tuple)
        and len(items) * len(separator) + size_of(items) > MAX_VALUE_SIZE
    ):
        raise TemplateLimit(_TOO_LONG)


def _check_filter(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    values = [*args, *kwargs.values()]
    if name in _WIDTH_FILTERS:
        for value in values[1:]:
            _check_width(value)
    if name in _STRINGIFYING_FILTERS and args and not isinstance(args[0], str):
        bounded(args[0])  # a list of one long text, repeated, prints as gigabytes
    if name == "indent" and args and isinstance(args[0], str):
        width = values[1] if len(values) > 1 else 4
        per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        if (args[0].count("\n") + 1) * per_line > MAX_VALUE_SIZE:
            raise TemplateLimit(_TOO_LONG)
    if name == "format" and args and isinstance(args[0], str):
        _check_percent(args[0])
    if name == "replace" and len(args) >= 3:
        _check_replace(args[0], args[1], args[2])
    if name == "join" and args:
        _check_join(args[0], values[1] if len(values) > 1 else "")
    if name == "sum" and not isinstance(kwargs.get("start", 0), int | float):
        raise TemplateLimit("sum adds numbers only")


def _guarded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    # Filters marked with jinja_pass_arg get the context or environment first: not checked.
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0

    @wraps(function)  # keeps jinja_pass_arg, so Jinja passes what the filter asks for
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_filter(name, args[skip:], kwargs)
        return _bounded_text(function(*args, **kwargs))

    return guarded


def _bounded_text(value: Any) -> Any:
    """Text a filter or method built; lists and mappings pass, they are the bot's own data."""
    return bounded(value) if isinstance(value, str) else value


def _check_method(method: Any, args: tuple[Any, ...]) -> None:
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", "")
    if not isinstance(owner, str):
        return
    if name in _WIDTH_METHODS:
        for value in args:
            _check_width(value)
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])
    elif name == "join" and args:
        _check_join(list(args[0]) if isinstance(args[0], Iterable) else args[0], owner)


class _BudgetedCodeGenerator(CodeGenerator):
    """Puts every ``for`` loop's steps and every ``~`` join under the render's budget."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("budget_iter"),
            [node.iter],
            [],
            None,
            None,
            lineno=node.lineno,
        )
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded(")
        super().visit_Concat(node, frame)
        self.write(")")


class LimitedSandbox(SandboxedEnvironment):
    """The sandbox every admin template renders in (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "%", "+", "//", "-"})
    code_generator_class = _BudgetedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.globals["range"] = _range
        self.filters = {name: _guarded_filter(name, f) for name, f in self.filters.items()}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``member.name`` on the dicts the bot passes, without Jinja's failed attribute
        lookup first (an exception per dotted name); a dict's own methods still win."""
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    @staticmethod
    def bounded(value: Any) -> Any:
        return bounded(value)

    @staticmethod
    def budget_iter(iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            step()
            yield item

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            for sized, times in ((left, right), (right, left)):
                sequence = isinstance(sized, str | list | tuple) and isinstance(times, int)
                if sequence and len(sized) * times > MAX_VALUE_SIZE:
                    raise TemplateLimit(_TOO_LONG)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS:
                raise TemplateLimit(f"a number larger than {MAX_INT_BITS:,} bits")
        elif operator == "%" and isinstance(left, str):
            _check_percent(left)
        return bounded(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        step()
        _check_method(__obj, args)
        return _bounded_text(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            _check_format(owner)
        return super().wrap_str_format(value)


def _range(*args: int) -> range:
    try:
        numbers = range(*args)
        size = len(numbers)
    except OverflowError:
        size = MAX_VALUE_SIZE + 1
    if size > MAX_VALUE_SIZE:
        raise TemplateLimit(f"a range of more than {MAX_VALUE_SIZE:,} numbers")
    return numbers


def _finalize(value: Any) -> Any:
    """Every ``{{ … }}`` passes here before it becomes text: a printed list is text too."""
    step()
    size = len(value) if type(value) is str else size_of(value, MAX_MESSAGE_CHARS)
    if size > MAX_MESSAGE_CHARS:
        raise TemplateLimit(f"a message longer than {MAX_MESSAGE_CHARS:,} characters")
    return value


def render_within_limits(
    template: Template, context: Mapping[str, Any], flat_globals: Mapping[str, Any]
) -> str:
    """Render under a fresh budget, joining the output only while it stays within bounds.

    The template's render function is driven directly (``Template.render`` joins first and
    checks nothing); a loop's steps check the clock, so the output loop need not.
    ``flat_globals``: the template's globals as one dict, made once per template (Jinja
    otherwise walks its chain of global maps twice per render, a sixth of a short one).
    """
    budget = _Budget(time.monotonic() + MAX_RENDER_SECONDS)
    token = _budget.set(budget)
    try:
        environment = template.environment
        start = environment.context_class(
            environment, {**flat_globals, **context}, template.name, template.blocks
        )
        start.globals_keys = set(flat_globals)
        parts: list[str] = []
        size = 0
        for chunk in template.root_render_func(start):
            size += len(chunk)
            if size > MAX_MESSAGE_CHARS:
                raise TemplateLimit(f"a message longer than {MAX_MESSAGE_CHARS:,} characters")
            parts.append(chunk)
        _check_time(budget)
        return "".join(parts)
    finally:
        _budget.reset(token)
