"""Editing a question, with its history.

Every edit is checked like a new definition (questions.parse_question, check_rules) and
recorded as a QuestionRevision holding each changed field's old and new value. Once a
question has forecasts (or is settled) only its wording may change: the title, the
description and the tags, and whether the crowd is hidden until one forecasts (that is
presentation, not scoring); the slug never changes, since links and rules name it.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from forecasts.errors import Conflict, InvalidInput
from forecasts.models import Forecast, Question, QuestionRevision, QuestionTag
from forecasts.rules import references
from forecasts.services.questions import (QuestionSpec, check_rules, current_resolution,
                                          definition, parse_question)

WORDING = ("title", "description", "tags")
# Fields that may change once a question has forecasts or is settled (not a numeric or
# date question's range, open sides or unit: the forecasts were made against them).
AFTER_FORECASTS = WORDING + ("hide_crowd_until_forecast",)
FIELDS = ("title", "description", "kind", "options", "ordered", "tags", "open_at", "close_at",
          "rule", "hide_crowd_until_forecast", "range", "open_lower", "open_upper", "unit")


def has_forecasts(session: Session, question: Question) -> bool:
    """Whether anyone has forecast the question."""
    return bool(session.scalar(select(exists().where(Forecast.question_id == question.id))))


def editable_fields(session: Session, question: Question) -> tuple[str, ...]:
    """The fields an edit may change now: all of them, or only the wording (and the
    hidden crowd) once the question has forecasts or is settled."""
    if has_forecasts(session, question) or current_resolution(session, question) is not None:
        return AFTER_FORECASTS
    return FIELDS


def edit_question(session: Session, question: Question, changes: Mapping[str, Any], *,
                  actor: str, now: datetime) -> QuestionRevision | None:
    """Apply `changes` (definition fields) and record them; None when nothing changed.

    A field outside `editable_fields` that would change is refused, naming the field.
    """
    if "slug" in changes and changes["slug"] != question.slug:
        raise InvalidInput("cannot be changed (links and rules name the question by it)",
                           where="question.slug")
    unknown = sorted(set(changes) - set(FIELDS) - {"slug"})
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(unknown)}", where="question")
    old = definition(question)
    spec = parse_question({**old, **changes}, where="question")
    if spec.rule != old["rule"]:
        # Validated and normalised first, so that the same rule written otherwise is no change.
        check_rules([spec], session, where=lambda s: "question")
    new = definition(spec)
    changed = [f for f in FIELDS if new.get(f) != old.get(f)]
    allowed = editable_fields(session, question)
    locked = [f for f in changed if f not in allowed]
    if locked:
        raise Conflict(f"cannot change {', '.join(locked)}: the question has forecasts or is "
                       "settled, so only its title, description, tags and hidden crowd may change",
                       where=f"question.{locked[0]}")
    if not changed:
        return None
    if any(f in changed for f in ("kind", "options", "ordered")) and \
            _read_by_rules(session, question):
        raise Conflict("cannot change the kind or options: other questions' rules read this one",
                       where="question.kind")
    _apply(session, question, spec)
    revision = QuestionRevision(question_id=question.id, actor=actor, created_at=now,
                                changes_json=json.dumps(
                                    {f: {"old": old.get(f), "new": new.get(f)} for f in changed}))
    session.add(revision)
    session.flush()
    return revision


def _read_by_rules(session: Session, question: Question) -> bool:
    rows = session.execute(select(Question.rule_json).where(Question.id != question.id))
    return any(question.slug in references(json.loads(rule)) for (rule,) in rows)


def _apply(session: Session, question: Question, spec: QuestionSpec) -> None:
    question.title, question.description = spec.title, spec.description
    question.kind, question.ordered = spec.kind, spec.ordered
    question.options_json = json.dumps(spec.options) if spec.options else None
    question.open_at, question.close_at = spec.open_at, spec.close_at
    question.rule_json = json.dumps(spec.rule)
    question.hide_crowd_until_forecast = spec.hide_crowd_until_forecast
    question.range_min, question.range_max = spec.range_min, spec.range_max
    question.open_lower, question.open_upper = spec.open_lower, spec.open_upper
    question.unit = spec.unit
    if question.tags != spec.tags:
        # Rows keyed (question, tag): drop the old ones before adding any back.
        question.tag_rows.clear()
        session.flush()
        question.tag_rows.extend(QuestionTag(tag=t, position=i) for i, t in enumerate(spec.tags))


def revisions(session: Session, question: Question) -> list[QuestionRevision]:
    """The question's edits, oldest first."""
    return list(session.scalars(select(QuestionRevision)
                                .where(QuestionRevision.question_id == question.id)
                                .order_by(QuestionRevision.id)))
