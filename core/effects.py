"""What the bot does to a group: the one shape decisions take on their way to a platform.

Actions decide effects; the outbox stores them in the transaction that changed the state;
the outbox worker hands each to the adapter of its ``account``. An adapter declares the
kinds it can perform (:attr:`bot.adapters.base.Adapter.effects`); one it cannot perform
fails with a clear error instead of being retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

DEFAULT_ACCOUNT = "default"
"""The bot account an effect goes out through while qunbot drives one account."""


class EffectKind(StrEnum):
    SEND_TEXT = "send_text"  # a message, with @mentions
    REMOVE_MEMBER = "remove_member"  # take ``member`` out of the group


@dataclass(frozen=True, slots=True)
class Effect:
    """One thing to do in a group; ``rule`` names the rule that decided it, for logs.

    ``key`` makes the decision idempotent (a briefing per group and day); ``priority``
    orders the outbox: answers to members (0) go before broadcasts. ``text`` is the
    message for :attr:`EffectKind.SEND_TEXT`; ``member`` whom a removal is about;
    ``requester`` the member whose message this answers (the outbox takes turns between
    requesters, and each has a reply budget).
    """

    group: str
    text: str
    at: datetime
    mentions: tuple[str, ...] = ()
    rule: str | None = field(default=None, compare=False)
    key: str | None = None
    priority: int = 0
    broadcast: int | None = None  # the broadcast this message delivers, if any
    kind: EffectKind = EffectKind.SEND_TEXT
    member: str | None = None
    account: str = DEFAULT_ACCOUNT
    requester: str | None = None

    @classmethod
    def remove_member(
        cls, group: str, member: str, at: datetime, rule: str | None = None
    ) -> Effect:
        return cls(group, "", at, rule=rule, kind=EffectKind.REMOVE_MEMBER, member=member)

    def describe(self) -> str:
        """One line for logs and operators: what this effect does."""
        if self.kind is EffectKind.REMOVE_MEMBER:
            return f"remove {self.member} from {self.group}"
        return self.text
