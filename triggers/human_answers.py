"""A person's answer to a queued question: said to the member, quoting what they asked.

The chat's ``/answer`` and ``qunbot unanswered answer`` both end here, so the member sees
the same thing whichever way an operator answered, and the question closes once.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.effects import Effect
from storage.faq_queue import UnansweredRow
from storage.store import StoreTx
from triggers.actions.base import mentioned

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
