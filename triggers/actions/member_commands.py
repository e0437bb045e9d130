"""Admin commands about one member: look them up, tag them, pardon their strikes, hand
them a role for a while. Each raises Refusal with what to tell the admin."""

from __future__ import annotations

import re
from datetime import timedelta

from core.actors import ROLE_RANK, Actor
from core.events import Event
from storage.tags import MAX_TAG_CHARS, TagSource
from triggers.actions.base import ActionContext, Control
from triggers.grants import GrantRefused
from triggers.schema_types import parse_duration

ROLE_NAMES = {"operator": "运营", "admin": "管理员", "owner": "群主"}
WHO_USAGE = "用法：/who <@成员|成员id>"
TAG_USAGE = "用法：/tag <@成员|成员id> <标签> [有效期，如 30d]；/tag <@成员|成员id> -<标签> 去掉"
PARDON_USAGE = "用法：/pardon <@成员|成员id>（撤销其违规记录，解除禁言）"
ROLE_USAGE = (
    "用法：/role <@成员|成员id> <operator|admin> <时长，如 2h>；/role <@成员|成员id> revoke"
)
SPAN = re.compile(r"\d+(s|m|h|d)", re.ASCII)


class Refusal(Exception):
    """A command that cannot be done as asked; the message goes back to the admin."""


def who(event: Event, args: str, ctx: ActionContext) -> str:
    """One member's picture: layer, tags, points, streak, joined and inviter, activity."""
    if not args.strip():
        raise Refusal(WHO_USAGE)
    target, name = current_member(event, args.strip(), ctx)
    today = ctx.local(event.at).date()
    (member,) = ctx.tx.member_layers(event.group, ctx.group.tz, today, ctx.layers, target)
    standing = ctx.tx.standing(event.group, target, today)
    counts = ctx.tx.message_counts(event.group, target, ctx.group.tz, today, (7, 30, 90))
    tags = "、".join(ctx.tx.tags_of(event.group, target, event.at)) or "无"
    joined = member.facts.joined.isoformat() if member.facts.joined else "机器人之前"
    seen = member.facts.last_active.isoformat() if member.facts.last_active else "无"
    return (
        f"{name}（{target}）\n分层 {member.layer.value} · 标签 {tags}\n"
        f"积分 {standing.balance}（第 {standing.rank} 名）· 连续签到 {standing.streak} 天\n"
        f"入群 {joined} · 邀请人 {member.inviter or '无'} · "
        f"邀请了 {ctx.tx.invited_count(event.group, target)} 人\n"
        f"最近发言 {seen} · 7/30/90 天发言 {counts[7]}/{counts[30]}/{counts[90]}"
    )


def tag(event: Event, words: list[str], ctx: ActionContext) -> str:
    """``<@name|id> <tag> [30d]`` adds (source admin), ``<@name|id> -<tag>`` takes it off."""
    if len(words) < 2:
        raise Refusal(TAG_USAGE)
    lasting = None
    if len(words) >= 3 and SPAN.fullmatch(words[-1]):  # a unit, so a tag "30" stays a tag
        lasting = parse_duration(words[-1])
        words = words[:-1]
    tag = words[-1]
    target, name = current_member(event, " ".join(words[:-1]), ctx)
    if tag.startswith("-") and len(tag) > 1:
        if not ctx.tx.untag(event.group, target, tag[1:]):
            raise Refusal(f"{name} 没有标签 {tag[1:]}。")
        return f"已去掉 {name} 的标签 {tag[1:]}。"
    if len(tag) > MAX_TAG_CHARS:
        raise Refusal(f"标签最长 {MAX_TAG_CHARS} 个字（收到 {len(tag)} 个）。")
    until = event.at + lasting if lasting else None
    ctx.tx.tag(event.group, target, tag, TagSource.ADMIN, event.at, until, event.member)
    expiry = f"，{until.astimezone(ctx.group.tz):%m-%d %H:%M} 到期" if until else ""
    return f"已为 {name} 加上标签 {tag}{expiry}。"


def pardon(event: Event, typed: str, ctx: ActionContext) -> str:
    """Forgive a member's standing strikes (and so a mute); also one removed meanwhile."""
    if not typed:
        raise Refusal(PARDON_USAGE)
    try:
        target, name = current_member(event, typed, ctx)
    except Refusal:
        target = name = typed.removeprefix("@").strip()  # gone: by the id they had
        if not ctx.tx.pardon(event.group, target, event.member, event.at):
            raise
        return f"已赦免 {name}：违规记录已撤销。"
    forgiven = ctx.tx.pardon(event.group, target, event.member, event.at)
    if not forgiven:
        raise Refusal(f"{name} 在本群没有未撤销的违规记录。")
    return f"已赦免 {name}：撤销 {forgiven} 条违规记录，禁言（如有）已解除。"


def current_member(event: Event, typed: str, ctx: ActionContext) -> tuple[str, str]:
    """The current member of this group a command names: (id, display name).

    An @mention the platform resolved wins; else the typed "@name" or id is looked up
    among current members by id, then by display name. Unknown, gone or ambiguous: refused.
    """
    if event.mentions:
        wanted, shown = event.mentions[0], typed or event.mentions[0]
    else:
        wanted = typed.removeprefix("@").removeprefix("＠").strip()
        shown = typed
    found = ctx.tx.current_members(event.group, wanted) if wanted else []
    by_id = [(member, name) for member, name in found if member == wanted]
    if by_id:
        return by_id[0]
    if event.mentions or not found:
        raise Refusal(f"{shown} 不是本群当前成员（按成员 id 和群昵称查找过 {wanted!r}）。")
    if len(found) > 1:
        listed = "、".join(member for member, _ in found)
        raise Refusal(f"本群有 {len(found)} 位成员叫 {wanted}：{listed}，请改用成员 id。")
    return found[0]


def role(event: Event, words: list[str], ctx: ActionContext, control: Control) -> str:
    """``<@name|id> <role> <2h>`` hands a role in this group for a while (never above the
    admin's own); ``<@name|id> revoke`` ends the member's grants here."""
    revoking = len(words) >= 2 and words[-1] == "revoke"
    if not revoking and (len(words) < 3 or not SPAN.fullmatch(words[-1])):
        raise Refusal(ROLE_USAGE)
    target, name = current_member(event, " ".join(words[:-1] if revoking else words[:-2]), ctx)
    actor = Actor(event.member, ctx.role, event.group)
    if revoking:
        ended = control.revoke_roles(ctx.tx, actor, target, event.group, event.at)
        if not ended:
            raise Refusal(f"{name} 在本群没有临时角色。")
        return f"已收回 {name} 在本群的临时角色。"
    given = words[-2]
    if given not in ROLE_NAMES:
        raise Refusal(ROLE_USAGE)
    if ROLE_RANK[given] > ROLE_RANK.get(ctx.role, 0):
        raise Refusal(f"不能授予比自己（{ROLE_NAMES.get(ctx.role, ctx.role)}）更高的角色。")
    lasting: timedelta = parse_duration(words[-1])
    try:
        until = control.grant_role(ctx.tx, actor, target, given, event.group, lasting, event.at)
    except GrantRefused as refused:
        raise Refusal(str(refused)) from None
    ends = until.astimezone(ctx.group.tz)
    return f"已授予 {name} 本群{ROLE_NAMES[given]}角色，{ends:%m-%d %H:%M} 到期。"
