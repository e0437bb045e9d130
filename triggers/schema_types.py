"""Value types admins write in config.yaml: durations, times of day, time zones."""

from __future__ import annotations

import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, WithJsonSchema

_DURATION = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class EventType(StrEnum):
    """What a rule reacts to: what happened in the group, or the clock."""

    MESSAGE = "message"
    JOIN = "join"
    LEAVE = "leave"
    SCHEDULE = "schedule"


class StrictModel(BaseModel):
    """Base of every config model: unknown keys are errors, so a typo cannot pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def parse_duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30, '30s', '5m', '2h' or '1d'")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and (found := _DURATION.match(value)):
        seconds = int(found.group(1)) * _UNIT_SECONDS[found.group(2)]
    else:
        raise ValueError("expected a duration such as 30, '30s', '5m', '2h' or '1d'")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return timedelta(seconds=seconds)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 0, "description": "seconds"},
                {"type": "string", "pattern": r"^\s*\d+\s*(s|sec|m|min|h|d)?\s*$"},
            ]
        }
    ),
]


def _parse_time_of_day(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 08:00 as the sexagesimal number 480.
        hours, minutes = divmod(value, 60)
        if hours < 24:
            return time(hours, minutes)
    if isinstance(value, str) and (found := re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)):
        hours, minutes = int(found.group(1)), int(found.group(2))
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise ValueError("expected a time of day such as '08:00' or '23:30'")


TimeOfDay = Annotated[
    time,
    BeforeValidator(_parse_time_of_day),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"}),
]


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}; expected an IANA name such as 'Asia/Shanghai'"
        ) from None
    return value


TimeZoneName = Annotated[
    str,
    AfterValidator(_check_zone),
    WithJsonSchema({"type": "string", "examples": ["Asia/Shanghai", "Europe/Berlin"]}),
]


def _non_empty(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _at_least_one(values: list[str]) -> list[str]:
    if not values:
        raise ValueError("needs at least one word")
    return values


Words = Annotated[
    list[NonEmptyStr],
    BeforeValidator(_one_or_many),
    AfterValidator(_at_least_one),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
            ]
        }
    ),
]
