"""One module per capability; each holds its config model and its behaviour.

:func:`action_models` is the registry: every :class:`ActionModel` subclass defined in a
module of this package, in module order. Adding an action is adding its module.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from triggers.actions.base import ActionModel


@cache
def action_models() -> tuple[type[ActionModel], ...]:
    found: list[type[ActionModel]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, ActionModel)
            and value is not ActionModel
            and value.__module__ == module.__name__
            and "action" in value.__annotations__
        ]
    return tuple(found)
