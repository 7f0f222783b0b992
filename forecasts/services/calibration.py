"""Calibration of a user or of the crowd over resolved binary questions (SPEC section 6),
and over numeric and date ones (SPEC section 11: `numeric_calibration`, under "numeric")."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

import scoring
from forecasts.cache import cached
from forecasts.models import ANNULLED, Forecast, Question, Resolution
from forecasts.queries import score_inputs
from forecasts.services import aggregation, score_version
from forecasts.services.numeric_calibration import numeric_calibration
from forecasts.services.users import get_user

CROWD = "crowd"
N_BINS = 10


def _resolved_binary_ids(session: Session, user_id: int | None = None) -> list[int]:
    """Resolved (not annulled) binary questions; with `user_id`, only those the user
    forecast (the forecasts index by user), so a profile never reads everyone's."""
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    stmt = select(Question.id).join(Resolution, current).where(
        Question.kind == "binary", Resolution.outcome != ANNULLED)
    if user_id is not None:
        stmt = stmt.where(Question.id.in_(select(Forecast.question_id)
                                          .where(Forecast.user_id == user_id)))
    return list(session.scalars(stmt.order_by(Question.id)))


def _points(session: Session, username: str,
            aggregator: scoring.Aggregator = scoring.MEDIAN) -> tuple[np.ndarray, ...]:
    """(question index, p_yes, outcome, weight) of each standing forecast, each question
    weighing 1 in all, for a user or for the crowd (made by `aggregator`)."""
    user_id = None if username == CROWD else get_user(session, username).id
    ids = _resolved_binary_ids(session, user_id)
    inputs = score_inputs(session, ids, user_id=user_id)
    result = scoring.score_questions(inputs.questions, inputs.forecasts,
                                     crowd_points=username == CROWD, method=aggregator)
    outcome = inputs.questions.outcome
    if username == CROWD:
        q = result.crowd_points_question
        return q, result.crowd_points_p_yes, outcome[q], result.crowd_points_weight
    scored = result.forecast_weight > 0
    q = inputs.forecasts.question[scored]
    p_yes = inputs.forecasts.probs[1::2][scored]  # binary only: [no, yes] pairs
    return q, p_yes, outcome[q], result.forecast_weight[scored]


def _who(session: Session, username: str, aggregator: scoring.Aggregator) -> str:
    """The cache key's subject: a user's id, or the crowd with its aggregator."""
    if username == CROWD:
        return f"{CROWD}:{aggregation.label(aggregator)}"
    return str(get_user(session, username).id)


def calibration(session: Session, username: str, *,
                aggregator: scoring.Aggregator = scoring.MEDIAN) -> dict[str, Any]:
    """Ten display bins with Jeffreys intervals, and the exact Murphy decomposition;
    cached per (score version, user), since only a score change can change it (the
    crowd's per aggregator too)."""
    version = score_version.for_cache(session)
    if not version:
        return _calibration(session, username, aggregator)
    return cached(f"calibration:{version}:{_who(session, username, aggregator)}",
                  lambda: _calibration(session, username, aggregator))


def crowd_numeric(session: Session) -> dict[str, Any] | None:
    """The crowd's PIT histogram and interval coverage on numeric and date questions (the
    "numeric" part of its calibration), cached per score version."""
    version = score_version.for_cache(session)
    if not version:
        return numeric_calibration(session, None)
    return cached(f"calibration-numeric:{version}:{CROWD}",
                  lambda: numeric_calibration(session, None))


def chart(session: Session, username: str, draw: Callable[[dict[str, Any]], str], *,
          aggregator: scoring.Aggregator = scoring.MEDIAN) -> str:
    """`draw` applied to the user's calibration (the chart's SVG), cached like the figures
    per (score version, user), so a profile's image is drawn once per score change."""
    version = score_version.for_cache(session)
    if not version:
        return draw(_calibration(session, username, aggregator))
    return cached(f"calibration-chart:{version}:{_who(session, username, aggregator)}",
                  lambda: draw(calibration(session, username, aggregator=aggregator)))


def _calibration(session: Session, username: str,
                 aggregator: scoring.Aggregator = scoring.MEDIAN) -> dict[str, Any]:
    numeric = numeric_calibration(
        session, None if username == CROWD else get_user(session, username).id)
    q, p_yes, outcome, weight = _points(session, username, aggregator)
    n_questions = int(len(np.unique(q)))
    edges = np.linspace(0.0, 1.0, N_BINS + 1)
    if len(p_yes) == 0:
        bins = [{"low_edge": float(edges[i]), "high_edge": float(edges[i + 1]), "weight": 0.0,
                 "count": 0, "mean_forecast": None, "observed": None, "low": None, "high": None}
                for i in range(N_BINS)]
        return {"user": username, "questions": 0, "bins": bins, "murphy": None,
                "numeric": numeric}
    cal = scoring.calibration(p_yes, outcome, weight, n_bins=N_BINS)
    murphy = scoring.murphy_decomposition(p_yes, outcome, weight)

    def num(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    bins = [{"low_edge": float(edges[i]), "high_edge": float(edges[i + 1]),
             "weight": float(cal.weight[i]), "count": int(cal.count[i]),
             "mean_forecast": num(cal.mean_forecast[i]), "observed": num(cal.observed[i]),
             "low": num(cal.interval_low[i]), "high": num(cal.interval_high[i])} for i in range(N_BINS)]
    return {"user": username, "questions": n_questions, "bins": bins,
            "murphy": {"brier": float(murphy.brier), "reliability": float(murphy.reliability),
                       "resolution": float(murphy.resolution),
                       "uncertainty": float(murphy.uncertainty)},
            "numeric": numeric}
