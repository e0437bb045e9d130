"""What operators and admins can do, one implementation for every way in.

The CLI, the chat's admin commands and a future web dashboard call the same operations:
each checks the actor's role and writes the audit log in the caller's transaction,
whether it succeeds, is refused or fails. Nothing here reaches into the dispatcher; the
running bot hands in how to reload itself, and a CLI opens only what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from loguru import logger

from bot.scheduler import JobBook
from core.actors import ROLE_RANK, Actor, Denied
from core.jobs import Schedule
from core.statuses import Outcome
from storage.encryption import DataKeys
from storage.faq_queue import LearnedRow
from storage.store import Store, StoreTx
from triggers.broadcasts import Broadcasts, Reach
from triggers.grants import GrantRefused, Grants
from triggers.loader import load_ruleset
from triggers.ruleset import RuleSet

# Who may do what; the bot's own housekeeping (the file watcher) acts as "system".
NEEDED_ROLE = {
    "answer": "operator",
    "broadcast": "operator",
    "confirm": "operator",
    "cancel": "operator",
    "grant": "admin",
    "approve": "admin",
    "role": "admin",
    "unrole": "admin",
    "learn": "operator",
    "member.export": "owner",
    "member.request": "owner",
    "keys.rotate": "owner",
    "member.delete": "owner",
    "pardon": "operator",
    "reload": "admin",
    "remove": "admin",
    "retry": "operator",
    "tag": "operator",
    "untag": "operator",
    "who": "operator",
}
SYSTEM = "system"
GRANTABLE = ("operator", "admin", "owner")
MAX_GRANT = timedelta(days=90)


class Operations:
    def __init__(
        self,
        ruleset: Callable[[], RuleSet],
        jobs: Schedule,
        reload: Callable[[datetime, str], list[str]] | None = None,
        grants: Grants | None = None,
    ) -> None:
        """``grants``: the running bot's, updated at once when a role is granted or revoked
        (a CLI has none: the bot reads the store again within seconds)."""
        self._ruleset = ruleset
        self._jobs = jobs
        self._reload = reload
        self._grants = grants

    @property
    def broadcasts(self) -> Broadcasts:
        """Broadcast operations under the rules in force now."""
        ruleset = self._ruleset()
        return Broadcasts(
            ruleset.templates,
            self._jobs,
            ruleset.served_groups,
            ruleset.display_name,
            ruleset.config.timezone,
            ruleset.room_of,
            Reach(
                ruleset.zone_of,
                ruleset.layer_thresholds,
                ruleset.config.sending.mentions_per_message,
            ),
        )

    @contextmanager
    def audited(
        self, tx: StoreTx, actor: Actor, action: str, detail: str, now: datetime
    ) -> Iterator[None]:
        """Check the role, run the block, and log who did what and how it ended.

        A refusal by role is "refused", any exception from the block "error" (and is
        raised on), a normal end "ok".
        """
        outcome = Outcome.ERROR
        try:
            needed = NEEDED_ROLE[action]
            if actor.role != SYSTEM and ROLE_RANK.get(actor.role, 0) < ROLE_RANK[needed]:
                outcome = Outcome.REFUSED
                raise Denied(action, needed)
            yield
            outcome = Outcome.OK
        finally:
            tx.audit(now, actor.name, actor.role, action, actor.group, detail, outcome)
            logger.bind(actor=actor.name, group=actor.group).info(
                "{} by {} ({}): {}", action, actor.name, actor.role, outcome
            )

    def grant_role(
        self,
        tx: StoreTx,
        actor: Actor,
        member: str,
        role: str,
        group: str | None,
        lasting: timedelta,
        now: datetime,
    ) -> datetime:
        """Hand ``role`` to ``member`` for ``lasting`` (in ``group``, or every group);
        until when. Never above the granter's own role, never for longer than MAX_GRANT."""
        if role not in GRANTABLE:
            raise GrantRefused(f"a role to grant is one of {', '.join(GRANTABLE)} (got {role!r})")
        if actor.role != SYSTEM and ROLE_RANK[role] > ROLE_RANK.get(actor.role, 0):
            raise GrantRefused(f"{actor.name} is {actor.role}: cannot grant {role}, which is above")
        if not timedelta(0) < lasting <= MAX_GRANT:
            raise GrantRefused(f"a grant lasts more than 0 and at most {MAX_GRANT.days} days")
        until = now + lasting
        tx.grant(member, group, role, actor.name, now, until)
        self._grants_changed(tx)
        return until

    def revoke_roles(
        self, tx: StoreTx, actor: Actor, member: str, group: str | None, now: datetime
    ) -> int:
        """End the member's running grants (in ``group``, or everywhere); how many."""
        ended = tx.revoke_grants(member, group, actor.name, now)
        self._grants_changed(tx)
        return ended

    def _grants_changed(self, tx: StoreTx) -> None:
        if self._grants is not None:
            self._grants.load(tx.open_grants())

    def learn(self, tx: StoreTx, rows: Sequence[LearnedRow]) -> None:
        """The FAQ was taught (rows: everything taught so far): the rules in force use it now."""
        self._ruleset().learn(rows)

    def reload(self, now: datetime, actor: str) -> list[str]:
        """Reload the config; the problems found (the old config then stays), or none."""
        if self._reload is None:
            return ["this bot was started without a config file"]
        return self._reload(now, actor)


@dataclass
class OperatorSession:
    """What an operator's command beside the running bot needs: rules, store, schedule."""

    ruleset: RuleSet
    store: Store
    jobs: JobBook
    operations: Operations


@contextmanager
def operator_session(
    config: Path, db_url: str, keys: DataKeys | None = None
) -> Iterator[OperatorSession]:
    """Open the config and the bot's database without starting a bot.

    Schedule changes are written to the job store when the session ends; the running bot
    reads them on its next look (see ``JobBook.reload``).
    """
    ruleset = load_ruleset(config)
    store = Store(db_url, keys)
    try:
        with store.transaction() as tx:
            bindings = tx.group_bindings()
        if bindings:
            ruleset = ruleset.rebound(bindings)
        jobs = JobBook(store.light_engine)
        try:
            bound = ruleset
            yield OperatorSession(bound, store, jobs, Operations(lambda: bound, jobs))
            jobs.persist()
        finally:
            jobs.close()
    finally:
        store.close()
