"""Loading what rules read: questions, resolutions as of a moment, and observations."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from forecasts.models import ANNULLED, CONTINUOUS_KINDS, Observation, Question, Resolution
from forecasts.rules import Point, QuestionFacts, Settled, references


@dataclass(frozen=True)
class Current:
    """A question's current resolution, as the cascade needs it."""

    outcome: str
    known_at: datetime | None
    source: str


@dataclass
class RuleWorld:
    """Every question's facts and id, and the graph of which questions each rule reads."""

    questions: dict[str, QuestionFacts]
    ids: dict[str, int]

    @property
    def graph(self) -> dict[str, list[str]]:
        return {slug: references(q.rule) for slug, q in self.questions.items()}


def load_world(session: Session) -> RuleWorld:
    """All questions as QuestionFacts, with their database ids."""
    rows = session.execute(select(Question.id, Question.slug, Question.kind, Question.options_json,
                                  Question.open_at, Question.close_at, Question.rule_json,
                                  Question.range_min, Question.range_max, Question.open_lower,
                                  Question.open_upper)).all()
    questions, ids = {}, {}
    for qid, slug, kind, options, open_at, close_at, rule, *bounds in rows:
        labels = json.loads(options) if options else \
            ([] if kind in CONTINUOUS_KINDS else ["no", "yes"])
        lo, hi, open_lower, open_upper = bounds
        questions[slug] = QuestionFacts(slug, kind, labels, open_at, close_at, json.loads(rule),
                                        lo, hi, bool(open_lower), bool(open_upper))
        ids[slug] = qid
    return RuleWorld(questions, ids)


def effective_known(question: QuestionFacts, outcome: str, known_at: datetime | None) -> datetime:
    """T1 = min(close_at, known_at); annulled and undated outcomes count as known at close."""
    if outcome == ANNULLED or known_at is None:
        return question.close_at
    return min(known_at, question.close_at)


def settled_as_of(session: Session, world: RuleWorld, now: datetime) -> dict[str, Settled]:
    """Each question's resolution as it stood at `now`: made by then and not yet superseded."""
    slugs = {qid: slug for slug, qid in world.ids.items()}
    rows = session.execute(
        select(Resolution.question_id, Resolution.outcome, Resolution.known_at,
               Resolution.created_at)
        .where(Resolution.created_at <= now,
               or_(Resolution.superseded_at.is_(None), Resolution.superseded_at > now))
        .order_by(Resolution.id)).all()
    out = {}
    for qid, outcome, known_at, made_at in rows:
        slug = slugs[qid]
        known = effective_known(world.questions[slug], outcome, known_at)
        out[slug] = Settled(outcome, known, made_at)
    return out


def current_resolutions(session: Session, world: RuleWorld) -> dict[str, Current]:
    """Each settled question's current resolution, whenever it was made."""
    slugs = {qid: slug for slug, qid in world.ids.items()}
    rows = session.execute(select(Resolution.question_id, Resolution.outcome, Resolution.known_at,
                                  Resolution.source).where(Resolution.superseded_at.is_(None)))
    return {slugs[qid]: Current(outcome, known_at, source)
            for qid, outcome, known_at, source in rows}


def series_of(rule: Mapping[str, Any]) -> set[str]:
    """The observation series a rule reads."""
    if rule["type"] in ("threshold", "bins", "value"):
        return {rule["series"]}
    if rule["type"] == "conditional":
        return series_of(rule["then"])
    return set()


def load_points(session: Session, series: Iterable[str], now: datetime) -> dict[str, list[Point]]:
    """Observations of these series up to `now`, in time order (ties: recording order)."""
    wanted = sorted(set(series))
    out: dict[str, list[Point]] = {s: [] for s in wanted}
    if not wanted:
        return out
    rows = session.execute(
        select(Observation.series, Observation.at, Observation.value, Observation.source)
        .where(and_(Observation.series.in_(wanted), Observation.at <= now))
        .order_by(Observation.series, Observation.at, Observation.id))
    for series_name, at, value, source in rows:
        out[series_name].append(Point(at, value, source))
    return out
