"""People answering what the FAQ could not: an answer said to the member, quoting what they
asked, and a question taught to the FAQ so the bot answers it next time.

The chat's ``/answer`` and ``qunbot unanswered answer`` both end here, so the member sees
the same thing whichever way an operator answered, and the question closes once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from core.effects import Effect
from core.events import Event
from storage.faq_queue import UnansweredRow
from storage.store import StoreTx
from triggers.actions.base import ActionContext, mentioned
from triggers.faq_catalog import FaqCatalog

MAX_ANSWER_CHARS = 2_000
_QUOTE_CHARS = 40


class NotAnswerable(Exception):
    """The question is gone or answered already, or the answer cannot be sent."""


def human_answer(
    tx: StoreTx, question: UnansweredRow, answer: str, by: str, at: datetime, zone: ZoneInfo
) -> Effect:
    """Close ``question`` as answered by ``by`` and the message that tells the member."""
    answer = answer.strip()
    if not answer:
        raise NotAnswerable("the answer is empty")
    if len(answer) > MAX_ANSWER_CHARS:
        raise NotAnswerable(f"the answer is longer than {MAX_ANSWER_CHARS:,} characters")
    if not tx.answer_question(question.id, by, answer, at):
        raise NotAnswerable(f"question #{question.id} was answered already")
    asked = question.text
    quote = asked if len(asked) <= _QUOTE_CHARS else asked[:_QUOTE_CHARS] + "…"
    return Effect(
        question.group,
        mentioned(f"关于你问的「{quote}」：{answer}", [question.name]),
        at.astimezone(zone),
        mentions=(question.member,),
        key=f"answer:{question.id}",
        rule="answer",
    )


@dataclass(frozen=True, slots=True)
class Learned:
    entry: str
    question: str
    answers: list[Effect]  # the member's answer, when their question was still open


def learn_question(
    ctx: ActionContext, faq: FaqCatalog, event: Event, number: int, target: str
) -> Learned:
    """Teach question ``number`` (of this group) to entry ``target``, or to a new entry
    (``new``) whose answer is the one an operator gave with /answer. A question still open
    is answered now, as the FAQ will answer it from now on. The caller applies the taught
    questions to the rules in force."""
    tx = ctx.tx
    still_open = tx.open_question(number)
    answered = tx.answered_question(number)
    question = still_open or (answered[0] if answered else None)
    if question is None or question.group != event.group:
        raise NotAnswerable(f"本群没有问题 #{number}。")
    if target == "new":
        if answered is None:
            raise NotAnswerable(f"先用 /answer {number} <回答> 回答它，再 /learn {number} new。")
        entry, answer = f"learned-{number}", answered[1]
    elif target in faq:
        entry, answer = target, None
    else:
        raise NotAnswerable(f"FAQ 没有条目 {target}（条目见 qunbot faq list）。")
    tx.learn(entry, question.text, answer, event.member, event.at, number)
    answers: list[Effect] = []
    if still_open is not None and answer is None:
        tx.answer_question(number, event.member, f"FAQ {entry}", event.at)
        context = {**ctx.base_context(event), "question": question.text, "matched": entry}
        context["member"] = {"id": question.member, "name": question.name}
        answers.append(
            Effect(
                event.group,
                mentioned(faq.template(entry).render(context), [question.name]),
                ctx.local(event.at),
                mentions=(question.member,),
                rule=ctx.rule,
            )
        )
    return Learned(entry, question.text, answers)
