"""Admin commands in the chat: broadcast, confirm, cancel, grant points, remove a member,
reload the config, look a member up, tag one, pardon one's strikes, hand one a role for a
while (see triggers.actions.member_commands), answer a queued question, teach the FAQ.

Each command needs a role (operators broadcast, look up and tag; admins grant points,
remove and reload) and
answers a clear refusal otherwise. The operations layer checks the role and writes every
attempt, refused or done, to the audit log; this module only reads the chat's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import Field

from core.actors import ROLE_RANK, Actor, Denied
from core.effects import Effect
from core.events import Event
from storage.points import InsufficientPoints
from triggers.actions.base import ActionContext, ActionModel, BuildKit, Control, Match
from triggers.actions.member_commands import (
    PARDON_USAGE,
    ROLE_NAMES,
    ROLE_USAGE,
    TAG_USAGE,
    WHO_USAGE,
    Refusal,
    current_member,
    pardon,
    role,
    tag,
    who,
)
from triggers.actions.points import MAX_GRANT
from triggers.broadcasts import BroadcastError, BroadcastRequest, parse_groups
from triggers.faq_catalog import FaqCatalog
from triggers.human_answers import NotAnswerable, human_answer, learn_question
from triggers.schema_types import EventType


class Command(StrEnum):
    BROADCAST = "broadcast"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    GRANT = "grant"
    REMOVE = "remove"
    RELOAD = "reload"
    WHO = "who"
    TAG = "tag"
    PARDON = "pardon"
    ANSWER = "answer"
    LEARN = "learn"
    ROLE = "role"
    APPROVE = "approve"


USAGE = {
    Command.BROADCAST: "用法：/broadcast <now|HH:MM|YYYY-MM-DD HH:MM> <here|all|g1,g2> <内容>",
    Command.CONFIRM: "用法：/confirm <群发编号>",
    Command.CANCEL: "用法：/cancel <群发编号>",
    Command.GRANT: "用法：/grant <@成员|成员id> <积分，可为负> [原因]",
    Command.REMOVE: "用法：/remove <@成员|成员id> [原因]",
    Command.RELOAD: "用法：/reload",
    Command.WHO: WHO_USAGE,
    Command.APPROVE: "用法：/approve <请求编号>",
    Command.PARDON: PARDON_USAGE,
    Command.ROLE: ROLE_USAGE,
    Command.ANSWER: "用法：/answer <问题编号> <回答>（编号见 qunbot unanswered list）",
    Command.LEARN: (
        "用法：/learn <问题编号> <FAQ 条目id>，或 /learn <问题编号> new"
        "（用 /answer 的回答新建条目）"
    ),
    Command.TAG: TAG_USAGE,
}


class AdminConfig(ActionModel):
    """A chat command for operators and admins; the rule's command words choose the words."""

    accepts: ClassVar[frozenset[EventType]] = frozenset({EventType.MESSAGE})

    action: Literal["admin"]
    command: Command = Field(
        description="broadcast, confirm, cancel, grant, remove, reload, who, tag, pardon, "
        "answer, learn, role or approve"
    )

    def build(self, kit: BuildKit) -> AdminAction:
        return AdminAction(self.command, kit.faq, kit.confirmations)


@dataclass(frozen=True, slots=True)
class AdminAction:
    command: Command
    faq: FaqCatalog
    confirmations: Any

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Effect]:
        if ctx.control is None:
            text = "❌ 这个机器人没有开启管理功能"
        else:
            actor = Actor(event.member, ctx.role, event.group)
            try:
                # A role held by a grant is said in the record of its every use.
                detail = f"{match.args} [{ctx.grant}]" if ctx.grant else match.args
                with ctx.control.audited(ctx.tx, actor, self.command.value, detail, event.at):
                    if self.command is Command.REMOVE:
                        return _remove(event, match.args, ctx)
                    if self.command is Command.ANSWER:
                        return [_answer_question(event, match.args, ctx)]
                    if self.command is Command.LEARN:
                        return _learn(event, match.args.split(), ctx, ctx.control, self.faq)
                    text = self._do(event, match, ctx, ctx.control)
            except Denied as denied:
                text = f"⛔ 只有{ROLE_NAMES[denied.needed]}及以上可以使用 /{self.command.value}。"
            except Refusal as refusal:
                text = f"❌ {refusal}"
        return [_answer(event, text, ctx)]

    def _do(self, event: Event, match: Match, ctx: ActionContext, control: Control) -> str:
        words = match.args.split()
        if self.command is Command.RELOAD:
            problems = control.reload(event.at, event.member)
            if problems:
                listed = "\n".join(problems[:5])
                raise Refusal(f"配置有误，仍在使用旧配置（{len(problems)} 处问题）：\n{listed}")
            return "✅ 配置已重新加载。"
        if self.command is Command.GRANT:
            return self._grant(event, words, ctx)
        if self.command is Command.APPROVE:
            return self._approve(event, words, ctx)
        if self.command is Command.WHO:
            return who(event, match.args, ctx)
        if self.command is Command.TAG:
            return tag(event, words, ctx)
        if self.command is Command.PARDON:
            return pardon(event, match.args.strip(), ctx)
        if self.command is Command.ROLE:
            return role(event, words, ctx, control)
        if self.command is Command.BROADCAST:
            return self._broadcast(event, match.args, ctx, control)
        if len(words) != 1 or not words[0].lstrip("#").isdigit():
            raise Refusal(USAGE[self.command])
        number = int(words[0].lstrip("#"))
        broadcasts = control.broadcasts
        try:
            if self.command is Command.CONFIRM:
                first = broadcasts.schedule(ctx.tx, number, event.at)
                return f"✅ 群发 #{number} 已确认，{_when(first, ctx)}发送。"
            withdrawn = broadcasts.cancel(ctx.tx, number, event.at)
        except BroadcastError as error:
            raise Refusal(str(error)) from None
        return f"🛑 群发 #{number} 已取消（撤回 {withdrawn} 条未发消息）。"

    def _grant(self, event: Event, words: list[str], ctx: ActionContext) -> str:
        """``<@name|id> <points> [reason]``; the name may hold spaces (up to the points)."""
        points_at = next((i for i, w in enumerate(words) if i and _NUMBERISH.fullmatch(w)), None)
        if points_at is None:
            raise Refusal(USAGE[Command.GRANT])
        delta = _amount(words[points_at])
        reason = " ".join(words[points_at + 1 :]) or "管理员调整"
        target, name = current_member(event, " ".join(words[:points_at]), ctx)
        limit = self.confirmations.points_above if self.confirmations else None
        if limit is not None and abs(delta) > limit:
            payload = {"member": target, "name": name, "delta": delta, "reason": reason}
            until = event.at + self.confirmations.expires
            number = ctx.tx.ask("points_grant", event.group, payload, event.member, event.at, until)
            who = "另一位管理员" if self.confirmations.by == "another_admin" else "你"
            return (
                f"⚠️ {abs(delta)} 积分超过 {limit}，需要确认：请{who}在 "
                f"{until.astimezone(ctx.group.tz):%H:%M} 前发送 /approve {number}。"
            )
        return self._grant_now(event, target, name, delta, reason, ctx)

    def _approve(self, event: Event, words: list[str], ctx: ActionContext) -> str:
        """``<number>``: do a request that waited for its confirmation, once, in time."""
        if len(words) != 1 or not words[0].lstrip("#").isdigit():
            raise Refusal(USAGE[Command.APPROVE])
        number = int(words[0].lstrip("#"))
        request = ctx.tx.pending(number)
        if request is None or request.group != event.group or request.done_at is not None:
            raise Refusal(f"本群没有待确认的请求 #{number}。")
        if event.at >= request.expires_at:
            raise Refusal(f"请求 #{number} 已过期，请重新发起。")
        by_another = self.confirmations is not None and self.confirmations.by == "another_admin"
        if by_another and request.requested_by == event.member:
            raise Refusal(f"请求 #{number} 需要另一位管理员确认。")
        ctx.tx.settle(number, event.member, event.at)
        p = request.payload
        return self._grant_now(event, p["member"], p["name"], p["delta"], p["reason"], ctx)

    def _grant_now(
        self, event: Event, target: str, name: str, delta: int, reason: str, ctx: ActionContext
    ) -> str:
        try:
            balance = ctx.tx.grant_points(
                event.group, target, delta, reason, event.at, actor=event.member
            )
        except InsufficientPoints as short:
            raise Refusal(
                f"{name} 现有 {short.balance} 分，不能扣除 {-delta} 分（积分不能扣成负数）。"
            ) from None
        verb = "增加" if delta > 0 else "扣除"
        return f"已为 {name} {verb} {abs(delta)} 积分（{reason}），现有 {balance} 分。"

    def _broadcast(self, event: Event, args: str, ctx: ActionContext, control: Control) -> str:
        parsed = parse_when(args, ctx.local(event.at))
        if parsed is None:
            raise Refusal(USAGE[Command.BROADCAST])
        when, rest = parsed
        target, _, text = rest.partition(" ")
        if not text.strip():
            raise Refusal(USAGE[Command.BROADCAST])
        groups: tuple[str, ...] | None
        if target in ("here", "本群"):
            groups = (event.group,)
        elif target in ("all", "全部"):
            groups = None
        else:
            groups = parse_groups(target)
        request = BroadcastRequest(text=text.strip(), groups=groups, at=when)
        try:
            number = control.broadcasts.create(
                ctx.tx, request, event.member, event.at, confirmed=groups is not None
            )
        except BroadcastError as error:
            raise Refusal(str(error)) from None
        if groups is None:
            return f"⚠️ 群发 #{number} 将发往全部群，请回复 /confirm {number} 确认。"
        row = ctx.tx.broadcast(number)
        assert row is not None
        listed = "、".join(control.broadcasts.labels(ctx.tx, groups))
        return f"✅ 群发 #{number} 已安排：{listed}，{_when(row.at, ctx)}发送。"


def parse_when(args: str, local_now: datetime) -> tuple[datetime | None, str] | None:
    """``now`` | ``HH:MM`` (its next occurrence) | ``YYYY-MM-DD HH:MM``, then the rest.

    Returns when to send (None: now) and the remaining text, or None when unreadable.
    """
    words = args.split(maxsplit=2)
    if not words:
        return None
    if words[0] in ("now", "现在", "立即"):
        return None, args.split(maxsplit=1)[1] if len(words) > 1 else ""
    try:
        if len(words) >= 2 and len(words[0]) == 10:
            moment = datetime.combine(date.fromisoformat(words[0]), time.fromisoformat(words[1]))
            rest = words[2] if len(words) > 2 else ""
            return moment.replace(tzinfo=local_now.tzinfo), rest
        clock = time.fromisoformat(words[0])
    except ValueError:
        return None
    return next_occurrence(clock, local_now), args.split(maxsplit=1)[1] if len(words) > 1 else ""


# Anything a member may mean as points, in any script: told apart from a name, then checked.
_NUMBERISH = re.compile(r"[+\-＋－]?\d+")
_AMOUNT = re.compile(r"[+-]?[0-9]+", re.ASCII)
# Phone keyboards type full-width digits; other scripts' digits are refused, never read.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def _amount(word: str) -> int:
    """A /grant amount: ASCII (or full-width) digits with a sign, non-zero, within MAX_GRANT."""
    ascii_word = word.translate(_FULL_WIDTH)
    if not _AMOUNT.fullmatch(ascii_word):
        raise Refusal(f"积分请用数字 0-9 书写（收到 {word}）。")
    delta = int(ascii_word)
    if delta == 0:
        raise Refusal(USAGE[Command.GRANT])
    if abs(delta) > MAX_GRANT:
        raise Refusal(f"单次最多调整 {MAX_GRANT} 积分（收到 {ascii_word}）。")
    return delta


def _answer(event: Event, text: str, ctx: ActionContext) -> Effect:
    """The command's outcome, @ the admin who gave it."""
    return Effect(
        event.group,
        f"@{event.name or event.member} {text}",
        ctx.local(event.at),
        (event.member,),
        rule=ctx.rule,
        requester=event.member,
    )


def _remove(event: Event, args: str, ctx: ActionContext) -> list[Effect]:
    """``<@name|id> [reason]``: the answer, then the removal (performed in that order).

    Nobody removes themselves or a member whose role is as strong as theirs.
    """
    args = args.strip()
    typed, _, reason = args.partition(" ")
    if not typed:
        raise Refusal(USAGE[Command.REMOVE])
    if event.mentions:  # the @name of a resolved mention may hold spaces: the reason follows it
        at_name = f"@{ctx.tx.name_of(event.mentions[0])}"
        typed, reason = (at_name, args[len(at_name) :]) if args.startswith(at_name) else (args, "")
    target, name = current_member(event, typed, ctx)
    if target == event.member:
        raise Refusal("不能移出自己。")
    if ROLE_RANK[ctx.role_of(target)] >= ROLE_RANK[ctx.role]:
        raise Refusal(f"{name} 是{ROLE_NAMES.get(ctx.role_of(target), '成员')}，不能由你移出。")
    why = f"（{reason.strip()}）" if reason.strip() else ""
    return [
        _answer(event, f"已将 {name} 移出本群{why}。", ctx),
        Effect.remove_member(event.group, target, ctx.local(event.at), rule=ctx.rule),
    ]


def _answer_question(event: Event, args: str, ctx: ActionContext) -> Effect:
    """``<id> <answer>``: the member is @mentioned with their question quoted."""
    number, _, answer = args.strip().partition(" ")
    if not number.lstrip("#").isdigit() or not answer.strip():
        raise Refusal(USAGE[Command.ANSWER])
    question = ctx.tx.open_question(int(number.lstrip("#")))
    if question is None or question.group != event.group:
        raise Refusal(f"本群没有待回答的问题 #{number.lstrip('#')}（可能已回答）。")
    try:
        return human_answer(ctx.tx, question, answer, event.member, event.at, ctx.group.tz)
    except NotAnswerable as problem:
        raise Refusal(str(problem)) from None


def _learn(
    event: Event, words: list[str], ctx: ActionContext, control: Control, faq: FaqCatalog
) -> list[Effect]:
    """``<id> <entry|new>``: see :func:`triggers.human_answers.learn_question`."""
    if len(words) != 2 or not words[0].lstrip("#").isdigit():
        raise Refusal(USAGE[Command.LEARN])
    number = int(words[0].lstrip("#"))
    try:
        learned = learn_question(ctx, faq, event, number, words[1])
    except NotAnswerable as problem:
        raise Refusal(str(problem)) from None
    control.learn(ctx.tx, ctx.tx.learned())
    said = f"已学会：以后有人问「{learned.question[:40]}」，按条目 {learned.entry} 回答。"
    return [_answer(event, said, ctx), *learned.answers]


def _when(at: datetime | None, ctx: ActionContext) -> str:
    if at is None:
        return "按计划"
    return f"{at.astimezone(ctx.group.tz):%m-%d %H:%M} "


def next_occurrence(clock: time, now: datetime) -> datetime:
    """Today at ``clock`` in ``now``'s zone, or tomorrow when that has passed."""
    today = datetime.combine(now.date(), clock, tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)
