"""The README documents every action, trigger, condition and top-level config key."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from triggers.config import ActionConfig, Conditions, QunbotConfig, Trigger

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_action_is_documented() -> None:
    union = get_args(ActionConfig)[0]
    for model in get_args(union):
        name = get_args(model.model_fields["action"].annotation)[0]
        assert f"| `{name}` |" in README, f"action {name!r} missing from README"


def test_every_trigger_condition_and_top_level_key_is_documented() -> None:
    for model in (Trigger, Conditions, QunbotConfig):
        for name, field in model.model_fields.items():
            key = field.alias or name
            if model is Trigger and key == "match":
                key = "match: any"
            assert f"`{key}" in README, f"{model.__name__}.{key} missing from README"
