"""Each action module declares its config and the events it accepts; the config takes them all."""

from __future__ import annotations

import pkgutil
import sys
import types
from typing import ClassVar, Literal, get_args

import pytest
from support import ruleset_from

import triggers.actions
from triggers.actions import action_models
from triggers.actions.base import ActionModel, BuildKit
from triggers.loader import ConfigError
from triggers.schema_types import EventType


def test_every_action_module_is_registered_once() -> None:
    names = [get_args(model.model_fields["action"].annotation)[0] for model in action_models()]
    assert sorted(names) == sorted(set(names))
    assert {"reply", "welcome", "checkin", "points", "my_points", "leaderboard", "faq"} <= set(
        names
    )
    assert {"briefing", "admin"} <= set(names)


def test_an_action_on_a_trigger_it_does_not_accept_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="'welcome' needs a join trigger"):
        ruleset_from("rules:\n  - {name: w, when: {command: [hi]}, do: {action: welcome}}\n")


def test_a_new_module_is_an_action_without_touching_any_other_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class WaveConfig(ActionModel):
        action: Literal["wave"]
        accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.JOIN})

        def build(self, kit: BuildKit) -> object:  # type: ignore[override]
            return object()

    module = types.ModuleType("triggers.actions.wave")
    WaveConfig.__module__ = module.__name__
    module.WaveConfig = WaveConfig  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    real = pkgutil.iter_modules
    monkeypatch.setattr(
        triggers.actions.pkgutil,
        "iter_modules",
        lambda path: [*real(path), types.SimpleNamespace(name="wave")],
    )
    action_models.cache_clear()
    try:
        assert WaveConfig in action_models()
    finally:
        monkeypatch.undo()
        action_models.cache_clear()
