"""`resolve-due`: settle every unsettled question whose rule can decide, with its evidence.

Questions are decided in dependency order, so a conditional or any_of/all_of whose inputs
settle in the same run settles too. The whole run is one transaction with its scores.
Two concurrent runs settle each question once: on PostgreSQL the run first locks the rows
of the questions it may settle (in id order, so runs cannot deadlock) and reads the
resolutions only after that, so a second run waits and then sees the first one's work;
SQLite's BEGIN IMMEDIATE serialises the runs outright. The partial unique index
uq_resolutions_current backs both up.

`settle_if_due` is the same run restricted to one question and the questions related to
it (what its rule reads, directly or not, and what reads it): a forecast on a question
whose rule can already decide settles it instead.
"""
from __future__ import annotations

import json

from dataclasses import dataclass, field
from datetime import datetime
from typing import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.errors import InvalidInput
from forecasts.models import PUBLISHED, Question, Resolution
from forecasts.rules import Decision, Facts, QuestionFacts, Settled, Undecided, decide
from forecasts.rules import dependency_order, dependents, references
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


def _unsettled_rule_ids(session: Session, only: Collection[str] | None) -> list[int]:
    settled = select(Resolution.question_id).where(Resolution.superseded_at.is_(None))
    stmt = select(Question.id, Question.rule_json).where(Question.id.not_in(settled),
                                                         Question.review_state == PUBLISHED)
    if only is not None:
        stmt = stmt.where(Question.slug.in_(sorted(only)))
    rows = session.execute(stmt.order_by(Question.id))
    return [qid for qid, rule in rows if json.loads(rule)["type"] != "manual"]


def plan(session: Session, now: datetime, *, only: Collection[str] | None = None) -> Plan:
    """What a run at `now` would settle, without writing anything; `only` limits the run
    to these slugs (the others are seen as they stand)."""
    world = load_world(session)
    # Drafts and rejected proposals are not questions yet: nothing settles them.
    settled = _settled_ids(session) | _unpublished_ids(session)
    unsettled = [slug for slug in dependency_order(world.graph)
                 if world.ids[slug] not in settled
                 and world.questions[slug].rule["type"] != "manual"
                 and (only is None or slug in only)]
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


def _unpublished_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Question.id).where(Question.review_state != PUBLISHED)))


def _settled_ids(session: Session) -> set[int]:
    return set(session.scalars(select(Resolution.question_id)
                               .where(Resolution.superseded_at.is_(None))))


def resolve_due(session: Session, *, now: datetime, actor: str,
                recorded_at: datetime, only: Collection[str] | None = None,
                aggregator: scoring.Aggregator = scoring.MEDIAN) -> Plan:
    """Settle what `plan` finds, score it (the crowd's figures made by `aggregator`),
    and return the plan.

    `now` is the moment the rules decide as of (never after `recorded_at`); the
    resolutions are recorded as made at `recorded_at`, the actual time.
    """
    if now > recorded_at:
        raise InvalidInput("cannot settle questions as of a time in the future "
                           "(use --dry-run to preview)", where="--now")
    ids = _unsettled_rule_ids(session, only)
    if ids:
        session.execute(select(Question.id).where(Question.id.in_(ids)).order_by(Question.id)
                        .with_for_update())
    result = plan(session, now, only=only)
    rows = {q.slug: q for q in session.scalars(
        select(Question).where(Question.slug.in_([d.question.slug for d in result.settle])))}
    for due in result.settle:
        d = due.decision
        settle(session, rows[due.question.slug], d.outcome, known_at=d.known_at, note=d.reason,
               actor=actor, source="rule", force=False, now=recorded_at, evidence=d.evidence,
               rescore=False, aggregator=aggregator, value=d.value)
    scores.rescore_questions(session, [q.id for q in rows.values()], aggregator=aggregator)
    return result


def related(graph: dict[str, list[str]], slug: str) -> set[str]:
    """`slug`, the questions its rule reads (directly or not) and those that read it."""
    found, frontier = {slug}, [slug]
    while frontier:
        for other in graph.get(frontier.pop(), ()):
            if other not in found:
                found.add(other)
                frontier.append(other)
    return found | set(dependents(graph, slug))


def _due(result: Plan, slug: str) -> Due | None:
    return next((d for d in result.settle if d.question.slug == slug), None)


def due_now(session: Session, question: Question, now: datetime) -> Due | None:
    """What the rule of `question` decides as of `now` if it can (and the question is
    unsettled), as resolve-due would; None otherwise. Reads only."""
    rule = question.rule
    if rule["type"] == "manual":
        return None
    if not references(rule):
        # The common case, cheaply: a rule reading no other question decides from its own
        # series alone, and while it cannot decide nothing related can change either.
        facts = Facts(now, load_points(session, series_of(rule), now))
        if isinstance(decide(rule, question, facts), Undecided):
            return None
    world = load_world(session)
    return _due(plan(session, now, only=related(world.graph, question.slug)), question.slug)


def settle_if_due(session: Session, question: Question, *, now: datetime, actor: str,
                  recorded_at: datetime,
                  aggregator: scoring.Aggregator = scoring.MEDIAN) -> Due | None:
    """Settle `question` (and what its rule reads or is read by) if its rule can decide as
    of `now`, exactly as resolve-due would; None when the rule cannot decide yet.

    The common case (cannot decide) only reads; rows are locked only to settle.
    """
    if due_now(session, question, now) is None:
        return None
    only = related(load_world(session).graph, question.slug)
    # Re-planned under the row locks: a concurrent run may have settled it meanwhile.
    return _due(resolve_due(session, now=now, actor=actor, recorded_at=recorded_at, only=only,
                            aggregator=aggregator), question.slug)


def line(due: Due) -> str:
    """One line for the CLI: slug, outcome, known_at and the rule's reason."""
    d = due.decision
    known = f", known {timeutil.iso(d.known_at)}" if d.known_at else ""
    return f"{due.question.slug} as {d.outcome}{known}: {d.reason}"
