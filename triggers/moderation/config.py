"""What admins write for moderation: ``detect:`` in a rule's trigger, and the ``moderation:``
section (the ladder, how strikes decay, who is exempt, how removal happens)."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from core.events import ContentKind
from triggers.schema_types import Duration, NonEmptyStr, StrictModel, Words, parse_duration


class Flood(StrictModel):
    messages: int = Field(ge=2, le=1000, description="this many messages from one member …")
    within: Duration = Field(description="… within this long, e.g. '30s'")


class Repeat(StrictModel):
    times: int = Field(ge=2, le=1000, description="the same text this many times …")
    within: Duration = Field(description="… within this long, e.g. '5m'")


_DETECTOR_NAMES = ("link", "contact", "qrcode")  # the detectors without settings


def _shorthand(value: Any) -> Any:
    """``detect: link`` and ``detect: [link, contact]`` for the detectors without settings."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        unknown = [v for v in value if v not in _DETECTOR_NAMES]
        if unknown:
            raise ValueError(
                f"unknown detector {unknown[0]!r}: write link, contact or qrcode, or a mapping "
                "with link, contact, qrcode, words, words_file, content, flood or repeat"
            )
        return dict.fromkeys(value, True)
    return value


class Detect(StrictModel):
    """What breaks a group rule; the trigger matches when any of the given detectors does."""

    link: bool = Field(
        default=False, description="web links, also written 'www . x . com', 'x点com', 'x。cn'"
    )
    contact: bool = Field(
        default=False,
        description="contact ads: mobile numbers (also spaced or in 一三九 digits), "
        "'加V/加微/vx: id', QQ numbers, e-mail addresses",
    )
    qrcode: bool = Field(
        default=False,
        description="pictures holding a QR code (a group's or a seller's code), where the "
        "platform lets the bot read the picture",
    )
    words: Words | None = Field(
        default=None,
        description="banned words, found through inserted spaces and symbols, full-width "
        "and traditional forms",
    )
    words_file: str | None = Field(
        default=None, description="more banned words, one per line, in a UTF-8 file"
    )
    content: list[ContentKind] | None = Field(
        default=None, description="message types: mini_program, url, attachment, contact …"
    )
    flood: Flood | None = Field(default=None, description="too many messages too fast")
    repeat: Repeat | None = Field(default=None, description="the same text over and over")

    @model_validator(mode="after")
    def _something(self) -> Detect:
        if not (
            self.link
            or self.contact
            or self.qrcode
            or self.words
            or self.words_file
            or self.content
            or self.flood
            or self.repeat
        ):
            raise ValueError(
                "name at least one detector: link, contact, qrcode, words, words_file, "
                "content, flood or repeat"
            )
        return self

    @property
    def reads_text(self) -> bool:
        return bool(self.link or self.contact or self.words or self.words_file)


_Named = Literal["link", "contact", "qrcode"]

DetectSpec = Annotated[
    Detect,
    BeforeValidator(_shorthand, json_schema_input_type=_Named | list[_Named] | Detect),
]


class Step(StrEnum):
    WARN = "warn"
    MUTE = "mute"
    REMOVE = "remove"


_STEP = re.compile(r"^\s*(warn|mute|remove)(?:\s+(\S+))?\s*$")


class LadderStep(StrictModel):
    step: Step
    mute_for: timedelta | None = None


def _parse_step(value: Any) -> Any:
    """``warn``, ``mute 1h``, ``remove``: one rung of the ladder as admins write it."""
    if not isinstance(value, str):
        return value
    found = _STEP.match(value)
    if found is None:
        raise ValueError(f"expected 'warn', 'mute <duration>' or 'remove', got {value!r}")
    step, duration = Step(found.group(1)), found.group(2)
    if step is Step.MUTE:
        if duration is None:
            raise ValueError("a mute needs its length, e.g. 'mute 1h'")
        mute_for = parse_duration(duration)
        if mute_for <= timedelta(0):
            raise ValueError("a mute lasts longer than 0")
        return {"step": step, "mute_for": mute_for}
    if duration is not None:
        raise ValueError(f"'{step.value}' takes no duration")
    return {"step": step}


Rung = Annotated[
    LadderStep,
    BeforeValidator(_parse_step),
    WithJsonSchema({"type": "string", "pattern": r"^\s*(warn|mute\s+\S+|remove)\s*$"}),
]


class ModerationConfig(StrictModel):
    """How a member's strikes are answered (rules with ``detect:`` and ``moderate`` give them)."""

    ladder: list[Rung] = Field(
        default_factory=lambda: [
            LadderStep(step=Step.WARN),
            LadderStep(step=Step.MUTE, mute_for=timedelta(hours=1)),
            LadderStep(step=Step.REMOVE),
        ],
        min_length=1,
        description="what the 1st, 2nd … strike brings; the last rung repeats",
    )
    decay: Duration = Field(
        default=timedelta(days=7), description="a strike older than this no longer counts"
    )
    exempt_from: Literal["operator", "admin", "owner"] = Field(
        default="operator", description="this role and above are never struck"
    )
    exempt_tags: list[NonEmptyStr] = Field(
        default_factory=list, description="members with one of these tags are never struck"
    )
    remove_by: Literal["bot", "operators"] = Field(
        default="operators",
        description="bot: the account removes the member (it must be the group's owner or an "
        "admin); operators: an alert asks a human to, and the member stays muted",
    )
    warn_text: str | None = Field(default=None, description="the warning, instead of the default")
    mute_text: str | None = Field(default=None, description="the mute notice")
    remove_text: str | None = Field(default=None, description="the removal notice")

    @field_validator("decay")
    @classmethod
    def _positive(cls, decay: timedelta) -> timedelta:
        if decay <= timedelta(0):
            raise ValueError("strikes must count for some time: decay is longer than 0")
        return decay

    def rung(self, strikes: int) -> LadderStep:
        """The step for a member's ``strikes``-th standing strike (the last rung repeats)."""
        return self.ladder[min(strikes, len(self.ladder)) - 1]
