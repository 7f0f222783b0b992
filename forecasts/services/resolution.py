"""Resolving and annulling questions, with an audit log and rescoring in the same transaction.

A numeric or date question (SPEC §11) resolves to a number (a date: seconds since the
epoch), kept in Resolution.value; its outcome column holds that number's text,
`rules.value_outcome` (the one definition), so that every reader of outcomes (lists,
history, cascades) has a non-empty label and "annulled" still means annulled.
"""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.errors import Conflict, InvalidInput
from forecasts.models import ANNULLED, Question, Resolution
from forecasts.numbers import finite_number
from forecasts.rules import value_outcome
from forecasts.services import question_stats, scores
from forecasts.services.questions import current_resolution, lock_question
from forecasts.services.text import check_storable

MAX_NOTE = 5000


def parse_outcome(options: list[str], outcome: object, *, slug: str, where: str = "outcome") -> str:
    """The canonical outcome label: yes/no for binary, an option label for multiple choice."""
    if not isinstance(outcome, str) or not outcome.strip():
        raise InvalidInput(f"{outcome!r} is not an outcome", where=where)
    wanted = outcome.strip().lower()
    if wanted == ANNULLED:
        raise InvalidInput("use annul to annul a question", where=where)
    for label in options:
        if label.lower() == wanted:
            return label
    raise InvalidInput(f"{outcome!r} is not an outcome of {slug!r} "
                       f"(one of: {', '.join(options)})", where=where)


def parse_value(question: Question, value: object, *, where: str = "outcome") -> float:
    """The number a numeric or date question resolves to: a number (or its text, as the
    CLI gives it) for numeric, an ISO 8601 timestamp for date (as seconds since the
    epoch). Outside [min, max] only on an open side; else InvalidInput naming the bound."""
    if question.kind == "date":
        number = timeutil.to_micros(timeutil.parse(value, where=where)) / 1e6
    else:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise InvalidInput(f"{value!r} is not a number", where=where) from None
            if not math.isfinite(value):
                raise InvalidInput(f"{value!r} is not a finite number", where=where)
        number = finite_number(value, where=where)
    check_in_range(question, number, where=where)
    return number


def check_in_range(question: Question | Any, number: float, *, where: str) -> None:
    """Refuse a value beyond a closed side of the range (`question` needs kind,
    range_min, range_max, open_lower and open_upper: a Question or a QuestionSpec)."""
    lo, hi = question.range_min, question.range_max
    shown = value_outcome(question.kind, number)
    if number < lo and not question.open_lower:
        raise InvalidInput(f"{shown} is below the range's min {value_outcome(question.kind, lo)}"
                           " and the lower bound is closed", where=where)
    if number > hi and not question.open_upper:
        raise InvalidInput(f"{shown} is above the range's max {value_outcome(question.kind, hi)}"
                           " and the upper bound is closed", where=where)


def effective_close(question: Question, resolution: Resolution) -> datetime:
    """T1 = min(close_at, known_at)."""
    if resolution.known_at is None:
        return question.close_at
    return min(question.close_at, resolution.known_at)


def _note(note: object) -> str:
    if note is None:
        return ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise InvalidInput(f"must be text of at most {MAX_NOTE} characters", where="note")
    return check_storable(note, where="note")


def settle(session: Session, question: Question, outcome: str, *, known_at: datetime | None,
           note: object, actor: str, source: str, force: bool, now: datetime,
           evidence: dict[str, Any] | None = None, rescore: bool = True,
           aggregator: scoring.Aggregator = scoring.MEDIAN,
           value: float | None = None) -> Resolution:
    """Record `outcome` (already canonical, or ANNULLED) as the current resolution; a
    numeric or date question's `value` comes with its `value_outcome` text as outcome.

    A settled question changes only with `force`; the old row stays as audit history.
    Scores follow in the same transaction unless `rescore` is False (the caller then
    rescores a batch itself); the crowd's figures are made by `aggregator`.
    """
    if outcome == ANNULLED:
        value = None
    elif question.continuous and value is None:
        raise InvalidInput(f"question {question.slug!r} resolves to a number", where="outcome")
    elif not question.continuous:
        value = None
    lock_question(session, question)
    previous = current_resolution(session, question)
    if previous is not None:
        if not force:
            state = "annulled" if previous.annulled else f"resolved as {previous.outcome!r}"
            raise Conflict(f"question {question.slug!r} is already {state}; "
                           "use --force to change it", where="question")
        previous.superseded_at = now
        session.flush()
    resolution = Resolution(question_id=question.id, outcome=outcome, known_at=known_at,
                            note=_note(note), actor=actor, source=source, created_at=now,
                            value=value,
                            evidence_json=json.dumps(evidence, sort_keys=True) if evidence else None)
    session.add(resolution)
    session.flush()
    question_stats.refresh(session, [question.id], aggregator=aggregator)
    if rescore:
        scores.rescore_questions(session, [question.id], aggregator=aggregator)
    return resolution


def resolve(session: Session, question: Question, outcome: object, *,
            known_at: datetime | None = None, note: object = "", actor: str,
            force: bool = False, now: datetime | None = None, rescore: bool = True,
            aggregator: scoring.Aggregator = scoring.MEDIAN) -> Resolution:
    """An admin's resolution (`outcome`: a label, or a numeric or date question's value,
    see parse_value). `known_at` defaults to close_at, or to now if that is earlier.

    `now` (default: the time once the question's row lock is held, so that a forecast
    committed before us is earlier than a known_at of now) is when it is recorded.
    """
    value = None
    if question.continuous:
        value = parse_value(question, outcome)
        label = value_outcome(question.kind, value)
    else:
        label = parse_outcome(question.options, outcome, slug=question.slug)
    lock_question(session, question)
    now = now or timeutil.now()
    if known_at is None:
        known_at = now if now < question.close_at else None
    else:
        if known_at < question.open_at:
            raise InvalidInput(f"{timeutil.iso(known_at)} is before the question opened "
                               f"({timeutil.iso(question.open_at)})", where="known_at")
        if known_at > now:
            raise InvalidInput(f"{timeutil.iso(known_at)} is in the future", where="known_at")
    return settle(session, question, label, known_at=known_at, note=note, actor=actor,
                  source="manual", force=force, now=now, rescore=rescore,
                  aggregator=aggregator, value=value)


def annul(session: Session, question: Question, reason: object, *, actor: str,
          force: bool = False, now: datetime | None = None, rescore: bool = True,
          aggregator: scoring.Aggregator = scoring.MEDIAN) -> Resolution:
    """Annul a question: it is never scored. A reason is required."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput("a reason is required to annul a question", where="reason")
    check_storable(reason, where="reason")
    lock_question(session, question)
    return settle(session, question, ANNULLED, known_at=None, note=reason.strip(), actor=actor,
                  source="manual", force=force, now=now or timeutil.now(), rescore=rescore,
                  aggregator=aggregator)


def reopen(session: Session, question: Question, *, now: datetime,
           aggregator: scoring.Aggregator = scoring.MEDIAN) -> Resolution | None:
    """Supersede the current resolution without a successor: the question is unsettled again.

    Used when a correction leaves a dependent question's rule undecided; the superseded
    row stays in the audit log. Returns it (None if the question was not settled).
    """
    lock_question(session, question)
    previous = current_resolution(session, question)
    if previous is not None:
        previous.superseded_at = now
        session.flush()
        question_stats.refresh(session, [question.id], aggregator=aggregator)
    return previous


def history(session: Session, question: Question) -> list[Resolution]:
    """Every resolution of the question, oldest first; the last unsuperseded one is current."""
    return list(session.scalars(select(Resolution).where(Resolution.question_id == question.id)
                                .order_by(Resolution.id)))
