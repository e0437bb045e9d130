"""Admin commands in the chat: broadcast, confirm, cancel, grant points, reload the config.

Each command needs a role (operators broadcast; admins grant points and reload) and
answers a clear refusal otherwise. Every attempt, refused or done, goes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

from pydantic import Field

from bot.events import Event, Reply
from triggers.actions.base import ActionContext, BuildKit, Match
from triggers.broadcasts import BroadcastError, BroadcastRequest, parse_groups
from triggers.schema_types import StrictModel


class Command(StrEnum):
    BROADCAST = "broadcast"
    CONFIRM = "confirm"
    CANCEL = "cancel"
    GRANT = "grant"
    RELOAD = "reload"


ROLE_RANK = {"member": 0, "operator": 1, "admin": 2, "owner": 3}
NEEDED_ROLE = {
    Command.BROADCAST: "operator",
    Command.CONFIRM: "operator",
    Command.CANCEL: "operator",
    Command.GRANT: "admin",
    Command.RELOAD: "admin",
}
ROLE_NAMES = {"operator": "运营", "admin": "管理员", "owner": "群主"}
USAGE = {
    Command.BROADCAST: "用法：/broadcast <now|HH:MM|YYYY-MM-DD HH:MM> <here|all|g1,g2> <内容>",
    Command.CONFIRM: "用法：/confirm <群发编号>",
    Command.CANCEL: "用法：/cancel <群发编号>",
    Command.GRANT: "用法：/grant <@成员|成员id> <积分，可为负> [原因]",
    Command.RELOAD: "用法：/reload",
}


class AdminConfig(StrictModel):
    """A chat command for operators and admins; the rule's command words choose the words."""

    action: Literal["admin"]
    command: Command = Field(description="broadcast, confirm, cancel, grant or reload")

    def build(self, kit: BuildKit) -> AdminAction:
        return AdminAction(self.command)


class Refusal(Exception):
    """A command that cannot be done as asked; the message goes back to the admin."""


@dataclass(frozen=True, slots=True)
class AdminAction:
    command: Command

    def run(self, event: Event, match: Match, ctx: ActionContext) -> list[Reply]:
        needed = NEEDED_ROLE[self.command]
        outcome, detail = "ok", match.args
        if ROLE_RANK[ctx.role] < ROLE_RANK[needed]:
            outcome = "refused"
            text = f"⛔ 只有{ROLE_NAMES[needed]}及以上可以使用 /{self.command.value}。"
        else:
            try:
                text = self._do(event, match, ctx)
            except Refusal as refusal:
                outcome, text = "error", f"❌ {refusal}"
        ctx.tx.audit(
            event.at, event.member, ctx.role, self.command.value, event.group, detail, outcome
        )
        reply = Reply(
            event.group,
            f"@{event.name or event.member} {text}",
            ctx.local(event.at),
            (event.member,),
            rule=ctx.rule,
        )
        return [reply]

    def _do(self, event: Event, match: Match, ctx: ActionContext) -> str:
        if ctx.control is None:
            raise Refusal("这个机器人没有开启管理功能")
        words = match.args.split()
        if self.command is Command.RELOAD:
            problems = ctx.control.reload(event.at, event.member)
            if problems:
                listed = "\n".join(problems[:5])
                return f"配置有误，仍在使用旧配置（{len(problems)} 处问题）：\n{listed}"
            return "✅ 配置已重新加载。"
        if self.command is Command.GRANT:
            return self._grant(event, words, ctx)
        if self.command is Command.BROADCAST:
            return self._broadcast(event, match.args, ctx)
        if len(words) != 1 or not words[0].lstrip("#").isdigit():
            raise Refusal(USAGE[self.command])
        number = int(words[0].lstrip("#"))
        broadcasts = ctx.control.broadcasts
        try:
            if self.command is Command.CONFIRM:
                first = broadcasts.schedule(ctx.tx, number, event.at)
                return f"✅ 群发 #{number} 已确认，{_when(first, ctx)}发送。"
            withdrawn = broadcasts.cancel(ctx.tx, number, event.at)
        except BroadcastError as error:
            raise Refusal(str(error)) from None
        return f"🛑 群发 #{number} 已取消（撤回 {withdrawn} 条未发消息）。"

    def _grant(self, event: Event, words: list[str], ctx: ActionContext) -> str:
        target = event.mentions[0] if event.mentions else (words.pop(0) if words else "")
        if event.mentions and words and words[0].startswith("@"):
            words.pop(0)
        if not target or not words or not _is_int(words[0]) or int(words[0]) == 0:
            raise Refusal(USAGE[Command.GRANT])
        delta = int(words[0])
        reason = " ".join(words[1:]) or "管理员调整"
        ctx.tx.observe(event.group, target, event.at)
        balance = ctx.tx.grant_points(
            event.group, target, delta, reason, event.at, actor=event.member
        )
        verb = "增加" if delta > 0 else "扣除"
        name = ctx.tx.name_of(target)
        return f"已为 {name} {verb} {abs(delta)} 积分（{reason}），现有 {balance} 分。"

    def _broadcast(self, event: Event, args: str, ctx: ActionContext) -> str:
        assert ctx.control is not None
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
            number = ctx.control.broadcasts.create(
                ctx.tx, request, event.member, event.at, confirmed=groups is not None
            )
        except BroadcastError as error:
            raise Refusal(str(error)) from None
        if groups is None:
            return f"⚠️ 群发 #{number} 将发往全部群，请回复 /confirm {number} 确认。"
        row = ctx.tx.broadcast(number)
        assert row is not None
        listed = "、".join(ctx.control.broadcasts.labels(ctx.tx, groups))
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


def _is_int(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def _when(at: datetime | None, ctx: ActionContext) -> str:
    if at is None:
        return "按计划"
    return f"{at.astimezone(ctx.group.tz):%m-%d %H:%M} "


def next_occurrence(clock: time, now: datetime) -> datetime:
    """Today at ``clock`` in ``now``'s zone, or tomorrow when that has passed."""
    today = datetime.combine(now.date(), clock, tzinfo=now.tzinfo)
    return today if today > now else today + timedelta(days=1)
