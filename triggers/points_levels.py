"""Levels earned by points thresholds (新人 → 活跃 → 核心…), shared by every points action."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass

from pydantic import Field, field_validator

from triggers.schema_types import NonEmptyStr, StrictModel


class LevelConfig(StrictModel):
    name: NonEmptyStr
    min: int = Field(ge=0, description="points needed to reach this level")


def _default_levels() -> list[LevelConfig]:
    return [
        LevelConfig(name="新人", min=0),
        LevelConfig(name="活跃成员", min=100),
        LevelConfig(name="核心成员", min=500),
    ]


class PointsConfig(StrictModel):
    levels: list[LevelConfig] = Field(default_factory=_default_levels, min_length=1)

    @field_validator("levels")
    @classmethod
    def _ascending_from_zero(cls, levels: list[LevelConfig]) -> list[LevelConfig]:
        if levels[0].min != 0:
            raise ValueError("the first level must start at min: 0")
        for lower, higher in itertools.pairwise(levels):
            if higher.min <= lower.min:
                raise ValueError(
                    f"levels must rise: {higher.name!r} (min {higher.min}) "
                    f"comes after {lower.name!r} (min {lower.min})"
                )
        return levels


@dataclass(frozen=True, slots=True)
class LevelStatus:
    name: str
    next_name: str | None
    next_min: int | None
    missing: int | None

    def as_context(self) -> dict[str, object]:
        return {
            "name": self.name,
            "next": self.next_name,
            "next_min": self.next_min,
            "missing": self.missing,
        }


class Levels:
    def __init__(self, config: PointsConfig) -> None:
        self._names = [level.name for level in config.levels]
        self._mins = [level.min for level in config.levels]

    def of(self, balance: int) -> LevelStatus:
        index = max(bisect_right(self._mins, balance) - 1, 0)
        if index + 1 < len(self._mins):
            nxt = self._mins[index + 1]
            return LevelStatus(self._names[index], self._names[index + 1], nxt, nxt - balance)
        return LevelStatus(self._names[index], None, None, None)
