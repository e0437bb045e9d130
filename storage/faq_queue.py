"""Questions nothing answered, kept for a human to answer, and "did you mean" offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from storage.tables import (
    LEARNED,
    MEMBERS,
    SUGGESTIONS,
    UNANSWERED,
    G,
    M,
)
from storage.unit_of_work import TxBase

_Q_INSERT_UNANSWERED = insert(UNANSWERED)

_UNANSWERED_KEYS = ("group_id", "member_id", "text", "at")

_INSERT_SUGGESTION = insert(SUGGESTIONS)
_SUGGESTION_KEYS = ("group_id", "member_id", "asked", "entries", "at", "expires_at")
# The member's latest offer, if still open: a later question's offer replaces an earlier one.
_Q_LATEST_SUGGESTION = (
    select(
        SUGGESTIONS.c.id,
        SUGGESTIONS.c.asked,
        SUGGESTIONS.c.entries,
        SUGGESTIONS.c.expires_at,
        SUGGESTIONS.c.chosen,
    )
    .where(SUGGESTIONS.c.group_id == G, SUGGESTIONS.c.member_id == M)
    .order_by(SUGGESTIONS.c.at.desc(), SUGGESTIONS.c.id.desc())
    .limit(1)
)
_Q_CHOOSE = (
    update(SUGGESTIONS)
    .where(SUGGESTIONS.c.id == bindparam("sid"), SUGGESTIONS.c.chosen.is_(None))
    .values(chosen=bindparam("entry"), chosen_at=bindparam("at"))
)


# A queued question with its asker's display name (the id when they have none).
_QUESTIONS = select(
    UNANSWERED.c.id,
    UNANSWERED.c.group_id,
    UNANSWERED.c.member_id,
    MEMBERS.c.name,
    UNANSWERED.c.text,
    UNANSWERED.c.at,
).join(MEMBERS, MEMBERS.c.id == UNANSWERED.c.member_id)


def _question(row: Any) -> UnansweredRow:
    return UnansweredRow(row[0], row[1], row[2], row[3] or row[2], row[4], row[5])


@dataclass(frozen=True, slots=True)
class LearnedRow:
    """A question taught to an entry; ``answer`` is set for an entry learned as new."""

    entry: str
    question: str
    answer: str | None
    learned_by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Suggestion:
    """An open "did you mean" offer: the entries, in the order they were numbered."""

    id: int
    asked: str
    entries: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnansweredRow:
    id: int
    group: str
    member: str
    name: str
    text: str
    at: datetime


class FaqQueueTx(TxBase):
    """The unanswered-questions queue."""

    def record_unanswered(self, group: str, member: str, text: str, at: datetime) -> None:
        row = {"group_id": group, "member_id": member, "text": text, "at": at}
        self._insert(_Q_INSERT_UNANSWERED, _UNANSWERED_KEYS, [row])

    def suggest(
        self,
        group: str,
        member: str,
        asked: str,
        entries: Sequence[str],
        at: datetime,
        expires_at: datetime,
    ) -> None:
        row = {
            "group_id": group,
            "member_id": member,
            "asked": asked,
            "entries": ",".join(entries),
            "at": at,
            "expires_at": expires_at,
        }
        self._insert(_INSERT_SUGGESTION, _SUGGESTION_KEYS, [row])

    def open_suggestion(self, group: str, member: str, now: datetime) -> Suggestion | None:
        """The member's latest offer, unless it was answered or has expired."""
        row = self._first(_Q_LATEST_SUGGESTION, g=group, m=member)
        if row is None or row[4] is not None or row[3] <= now:
            return None
        return Suggestion(int(row[0]), str(row[1]), tuple(str(row[2]).split(",")))

    def choose(self, suggestion: int, entry: str, at: datetime) -> bool:
        """The member picked ``entry``; False when the offer was answered already."""
        self._run(_Q_CHOOSE, sid=suggestion, entry=entry, at=at)
        return bool(self._cursor.rowcount)

    def unanswered(self, group: str | None = None, limit: int | None = None) -> list[UnansweredRow]:
        """Open questions, oldest first."""
        query = _QUESTIONS.where(UNANSWERED.c.answered_at.is_(None)).order_by(
            UNANSWERED.c.at, UNANSWERED.c.id
        )
        if group is not None:
            query = query.where(UNANSWERED.c.group_id == group)
        if limit is not None:
            query = query.limit(limit)
        return [_question(row) for row in self._execute(query)]

    def learn(
        self,
        entry: str,
        question: str,
        answer: str | None,
        by: str,
        at: datetime,
        source: int | None = None,
    ) -> None:
        self._execute(
            insert(LEARNED).values(
                entry_id=entry,
                question=question,
                answer=answer,
                learned_by=by,
                source=source,
                at=at,
            )
        )

    def learned(self) -> list[LearnedRow]:
        """Every taught question, oldest first."""
        rows = self._execute(
            select(
                LEARNED.c.entry_id,
                LEARNED.c.question,
                LEARNED.c.answer,
                LEARNED.c.learned_by,
                LEARNED.c.at,
            ).order_by(LEARNED.c.id)
        )
        return [LearnedRow(*row) for row in rows]

    def answered_question(self, question: int) -> tuple[UnansweredRow, str] | None:
        """A question a person answered with /answer, with that answer."""
        row = self._execute(
            _QUESTIONS.add_columns(UNANSWERED.c.answer).where(
                UNANSWERED.c.id == question, UNANSWERED.c.answer.is_not(None)
            )
        ).first()
        return None if row is None else (_question(row), str(row[6]))

    def open_question(self, question: int) -> UnansweredRow | None:
        """One question by its id, if nobody has answered it yet."""
        row = self._execute(
            _QUESTIONS.where(UNANSWERED.c.id == question, UNANSWERED.c.answered_at.is_(None))
        ).first()
        return None if row is None else _question(row)

    def answer_question(self, question: int, by: str, answer: str, at: datetime) -> bool:
        """A person answered it; False when it was answered already."""
        done = self._execute(
            update(UNANSWERED)
            .where(UNANSWERED.c.id == question, UNANSWERED.c.answered_at.is_(None))
            .values(answered_at=at, answered_by=by, answer=answer)
        )
        return bool(done.rowcount)
