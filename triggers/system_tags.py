"""System tags: what members do, as tags operators can segment by (常问, 热心, 签到达人,
邀请达人). The daily layer job gives each to the members who qualify now and takes it from
those who no longer do; each lasts two days, so a job that stops running leaves none stale.
Tags of the same name set by a rule or an admin are theirs: left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from loguru import logger

from storage.store import StoreTx
from storage.tags import TagSource
from triggers.actions.faq import faq_rule_names
from triggers.ruleset import RuleSet

_LASTS = timedelta(days=2)


def qualifying(tx: StoreTx, ruleset: RuleSet, group: str, now: datetime) -> dict[str, set[str]]:
    """Each configured system tag and the members who qualify for it now."""
    config = ruleset.config.system_tags
    found: dict[str, set[str]] = {}

    def over(tag: str, counts: dict[str, int], at_least: int) -> None:
        found[tag] = {member for member, n in counts.items() if n >= at_least}

    if (asker := config.frequent_asker) is not None:
        start = now - timedelta(days=asker.days)
        asked = tx.questions_asked(group, start, now, faq_rule_names(ruleset.rules))
        over(asker.tag, asked, asker.at_least)
    if (helper := config.helpful_answerer) is not None:
        start = now - timedelta(days=helper.days)
        over(helper.tag, tx.questions_helped(group, start, now), helper.at_least)
    if (streak := config.checkin_streak) is not None:
        yesterday = now.astimezone(ruleset.zone_of(group)).date() - timedelta(days=1)
        over(streak.tag, tx.running_streaks(group, yesterday), streak.at_least)
    if (inviter := config.top_inviter) is not None:
        start = now - timedelta(days=inviter.days)
        over(inviter.tag, tx.members_invited(group, start, now), inviter.at_least)
    return found


def refresh_system_tags(tx: StoreTx, ruleset: RuleSet, group: str, now: datetime) -> int:
    """Give and take the system tags in ``group``; how many were given or taken."""
    wanted = qualifying(tx, ruleset, group, now)
    if not wanted:
        return 0
    held: dict[str, set[str]] = {tag: set() for tag in wanted}
    others: dict[str, set[str]] = {tag: set() for tag in wanted}
    for row in tx.tag_rows(group, now):
        if row.tag in wanted:
            (held if row.source is TagSource.SYSTEM else others)[row.tag].add(row.member)
    changed = 0
    for tag, members in wanted.items():
        for member in members - others[tag]:
            tx.tag(group, member, tag, TagSource.SYSTEM, now, now + _LASTS, "system")
            changed += member not in held[tag]
        for member in held[tag] - members:
            changed += tx.untag(group, member, tag)
    if changed:
        logger.bind(group=group).info("system tags: {} given or taken", changed)
    return changed
