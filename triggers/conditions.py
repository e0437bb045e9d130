"""Conditions that gate a rule once its trigger matched: groups, roles, cooldowns, hours,
and the sender's layer, tags and join time (read from the store only for rules that ask)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from core.layers import Layer
from triggers.config import Conditions, Role


@dataclass(frozen=True, slots=True)
class CompiledConditions:
    groups: frozenset[str] | None
    roles: frozenset[Role] | None
    member_cooldown: timedelta | None
    group_cooldown: timedelta | None
    hours: tuple[time, time] | None
    layers: frozenset[Layer] | None = None
    tags: frozenset[str] | None = None
    joined_within: timedelta | None = None

    @property
    def about_member(self) -> bool:
        """Whether admitting the rule needs the sender's layer, tags or join time."""
        return self.layers is not None or self.tags is not None or self.joined_within is not None

    @classmethod
    def build(cls, config: Conditions, room_of: Callable[[str], str]) -> CompiledConditions:
        """``room_of`` turns the config's group names (ids or topics) into room ids."""
        cooldown = config.cooldown
        return cls(
            groups=frozenset(map(room_of, config.groups)) if config.groups is not None else None,
            roles=frozenset(config.roles) if config.roles is not None else None,
            member_cooldown=cooldown.member if cooldown else None,
            group_cooldown=cooldown.group if cooldown else None,
            hours=(config.hours.from_, config.hours.to) if config.hours else None,
            layers=frozenset(config.layers) if config.layers is not None else None,
            tags=frozenset(config.tags) if config.tags is not None else None,
            joined_within=config.joined_within,
        )

    def admits_group(self, group: str) -> bool:
        return self.groups is None or group in self.groups

    def admits(self, group: str, role: Role, local_now: datetime) -> bool:
        """The static part: where, who and when of day (cooldowns are checked separately)."""
        if not self.admits_group(group):
            return False
        if self.roles is not None and role not in self.roles:
            return False
        return self.hours is None or in_window(local_now.time(), *self.hours)


def in_window(now: time, start: time, end: time) -> bool:
    """Whether ``now`` falls in [start, end); a window whose end is earlier wraps midnight."""
    if start <= end:
        return start <= now < end
    return now >= start or now < end


class Cooldowns:
    """When each rule last fired, per member and per group.

    Kept in memory by rule name, so a config reload keeps them; a restart forgets them,
    which at worst lets one extra reply through.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, str, str], datetime] = {}

    def ready(
        self, rule: str, conditions: CompiledConditions, group: str, member: str, at: datetime
    ) -> bool:
        checks = (
            (conditions.member_cooldown, (rule, group, member)),
            (conditions.group_cooldown, (rule, group, "")),
        )
        for span, key in checks:
            if span is not None and (last := self._last.get(key)) is not None and at - last < span:
                return False
        return True

    def fired(
        self, rule: str, conditions: CompiledConditions, group: str, member: str, at: datetime
    ) -> None:
        if conditions.member_cooldown is not None:
            self._last[(rule, group, member)] = at
        if conditions.group_cooldown is not None:
            self._last[(rule, group, "")] = at
