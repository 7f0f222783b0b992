"""`resolve-due`: settle every unsettled question whose rule can decide, with its evidence.

Questions are decided in dependency order, so a conditional or any_of/all_of whose inputs
settle in the same run settles too. The whole run is one transaction with its scores.
Two concurrent runs settle each question once: on PostgreSQL the run first locks the rows
of the questions it may settle (in id order, so runs cannot deadlock) and reads the
resolutions only after that, so a second run waits and then sees the first one's work;
SQLite's BEGIN IMMEDIATE serialises the runs outright. The partial unique index
uq_resolutions_current backs both up.
"""
from __future__ import annotations

import json

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import Question, Resolution
from forecasts.rules import Decision, Facts, QuestionFacts, Settled, Undecided, decide
from forecasts.rules import dependency_order
from forecasts.services import scores
from forecasts.services.resolution import settle
from forecasts.services.rule_inputs import (effective_known, load_points, load_world,
                                            series_of, settled_as_of)


@dataclass(frozen=True)
class Due:
    """A question and what its rule decided."""

    question: QuestionFacts
    decision: Decision


@dataclass
class Plan:
    """What a run settles, and the closed questions its rules cannot decide yet."""

    now: datetime
    settle: list[Due] = field(default_factory=list)
    waiting: list[tuple[QuestionFacts, Undecided]] = field(default_factory=list)


def _unsettled_rule_ids(session: Session) -> list[int]:
    settled = select(Resolution.question_id).where(Resolution.superseded_at.is_(None))
    rows = session.execute(select(Question.id, Question.rule_json)
                           .where(Question.id.not_in(settled)).order_by(Question.id))
    return [qid for qid, rule in rows if json.loads(rule)["type"] != "manual"]


def plan(session: Session, now: datetime) -> Plan:
    """What a run at `now` would settle, without writing anything."""
    world = load_world(session)
    settled = _settled_ids(session)
    unsettled = [slug for slug in dependency_order(world.graph)
                 if world.ids[slug] not in settled
                 and world.questions[slug].rule["type"] != "manual"]
    needed = set().union(*(series_of(world.questions[s].rule) for s in unsettled))
    outcomes = settled_as_of(session, world, now)
    facts = Facts(now, load_points(session, needed, now), outcomes)
    result = Plan(now)
    for slug in unsettled:
        question = world.questions[slug]
        verdict = decide(question.rule, question, facts)
        if isinstance(verdict, Decision):
            result.settle.append(Due(question, verdict))
            # Dependents later in the order see this outcome as made now.
            outcomes[slug] = Settled(verdict.outcome,
                                     effective_known(question, verdict.outcome, verdict.known_at),
                                     now)
        elif now >= question.close_at:
            result.waiting.append((question, verdict))
    return result


def _settled_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Resolution.question_id)
                               .where(Resolution.superseded_at.is_(None))))


def resolve_due(session: Session, *, now: datetime, actor: str,
                recorded_at: datetime) -> Plan:
    """Settle what `plan` finds, score it, and return the plan.

    `now` is the moment the rules decide as of (never after `recorded_at`); the
    resolutions are recorded as made at `recorded_at`, the actual time.
    """
    if now > recorded_at:
        raise InvalidInput("cannot settle questions as of a time in the future "
                           "(use --dry-run to preview)", where="--now")
    ids = _unsettled_rule_ids(session)
    if ids:
        session.execute(select(Question.id).where(Question.id.in_(ids)).order_by(Question.id)
                        .with_for_update())
    result = plan(session, now)
    rows = {q.slug: q for q in session.scalars(
        select(Question).where(Question.slug.in_([d.question.slug for d in result.settle])))}
    for due in result.settle:
        d = due.decision
        settle(session, rows[due.question.slug], d.outcome, known_at=d.known_at, note=d.reason,
               actor=actor, source="rule", force=False, now=recorded_at, evidence=d.evidence,
               rescore=False)
    scores.rescore_questions(session, [q.id for q in rows.values()])
    return result


def line(due: Due) -> str:
    """One line for the CLI: slug, outcome, known_at and the rule's reason."""
    d = due.decision
    known = f", known {timeutil.iso(d.known_at)}" if d.known_at else ""
    return f"{due.question.slug} as {d.outcome}{known}: {d.reason}"
