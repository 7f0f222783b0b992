"""`crowd-compare`: every crowd aggregator scored over the resolved questions, so that an
admin can choose CROWD_AGGREGATOR on evidence.

Each aggregator's crowd is scored per question exactly as crowd scores are stored
(time-averaged Brier and log from the first scored forecast to the effective close);
against the reference aggregator, the mean paired difference over the questions (the
aggregator's score minus the reference's: below 0 is better) with a seeded percentile
bootstrap interval (`scoring.paired_bootstrap`).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

import scoring
from forecasts.errors import InvalidInput
from forecasts.models import ANNULLED, Question, QuestionTag, Resolution
from forecasts.queries import score_inputs
from forecasts.services import aggregation

COLUMNS = ("aggregator", "questions", "brier", "log", "brier_diff", "brier_low", "brier_high",
           "log_diff", "log_low", "log_high")


def tagged_resolved_ids(session: Session, tag: str) -> list[int]:
    """Resolved, not annulled questions with the tag, by id."""
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    return list(session.scalars(
        select(Question.id).join(Resolution, current).where(Resolution.outcome != ANNULLED)
        .where(Question.id.in_(select(QuestionTag.question_id)
                               .where(QuestionTag.tag == tag.strip().lower())))
        .order_by(Question.id)))


def aggregators(a: float) -> list[scoring.Aggregator]:
    """The three aggregators, extremized_mean with factor `a`."""
    return [scoring.aggregator(name, a=a) for name in scoring.AGGREGATORS]


def crowd_scores(session: Session, ids: list[int] | None, aggs: list[scoring.Aggregator],
                 progress: Callable[[scoring.Aggregator], None] = lambda agg: None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(brier, log), each (len(aggs), questions the crowd is scored on), over the questions
    `ids` (None: every resolved one): one read of the forecasts, one engine pass per
    aggregator (`progress` called after each)."""
    inputs = score_inputs(session, ids)
    brier, log = [], []
    for agg in aggs:  # a loop over the three aggregators
        result = scoring.score_questions(inputs.questions, inputs.forecasts, method=agg)
        brier.append(result.crowd_brier)
        log.append(result.crowd_log)
        progress(agg)
    b = np.array(brier).reshape(len(aggs), -1)
    lg = np.array(log).reshape(len(aggs), -1)
    scored = ~np.isnan(b).any(axis=0)
    return b[:, scored], lg[:, scored]


def compare(session: Session, reference: scoring.Aggregator, *, a: float,
            tag: str | None = None, n_boot: int, seed: int,
            progress: Callable[[scoring.Aggregator], None] = lambda agg: None
            ) -> list[dict[str, Any]]:
    """One row per aggregator (COLUMNS); the reference's differences are None."""
    ids = tagged_resolved_ids(session, tag) if tag else None
    aggs = aggregators(a)
    if reference not in aggs:
        aggs[scoring.AGGREGATORS.index(reference.name)] = reference
    brier, log = crowd_scores(session, ids, aggs, progress)
    if brier.shape[1] == 0:
        where = f"tag {tag!r}" if tag else "the database"
        raise InvalidInput(f"no resolved question with a scored crowd in {where}",
                           where="--tag" if tag else "questions")
    ref = aggs.index(reference)
    rows = []
    for i, agg in enumerate(aggs):
        row: dict[str, Any] = {"aggregator": aggregation.label(agg), "questions": brier.shape[1],
                               "brier": float(brier[i].mean()), "log": float(log[i].mean())}
        for name, values in (("brier", brier), ("log", log)):
            mean = lo = hi = None
            if i != ref:
                mean, lo, hi = scoring.paired_bootstrap(values[i] - values[ref], n_boot, seed)
            row.update({f"{name}_diff": mean, f"{name}_low": lo, f"{name}_high": hi})
        rows.append(row)
    return rows
