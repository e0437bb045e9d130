"""Who acts on the bot from outside the chat's ordinary flow: operators and admins."""

from __future__ import annotations

from dataclasses import dataclass

ROLE_RANK = {"member": 0, "operator": 1, "admin": 2, "owner": 3}
"""Roles, weakest first: a role may do what every weaker one may."""


@dataclass(frozen=True, slots=True)
class Actor:
    """A member (by id) with their role in ``group``, ``cli:<user>``, or the bot itself."""

    name: str
    role: str
    group: str | None = None


class Denied(Exception):
    """The actor's role is below what the operation needs."""

    def __init__(self, action: str, needed: str) -> None:
        super().__init__(f"{action} needs the {needed} role")
        self.action = action
        self.needed = needed
