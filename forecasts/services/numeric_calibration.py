"""Calibration over resolved numeric and date questions (SPEC section 11).

Each standing forecast's PIT value F(y), weighted as in SPEC section 6 (the share of the
forecaster's window on the question for which it stood, so every question weighs 1 in
all): a ten-bin histogram, uniform when calibrated, and the weighted coverage of the
central 50% and 90% intervals. The crowd's standing forecast is the mean of the standing
CDFs (as `scoring.score_numeric` scores it), one point per stretch of time between
forecasts, weighted by its share of the crowd's window [first forecast, T1).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

import scoring
from forecasts.models import ANNULLED, CONTINUOUS_KINDS, Forecast, Question, Resolution
from forecasts.numeric_inputs import NumericInputs, numeric_inputs

N_BINS = 10
LEVELS = (0.5, 0.9)


def _resolved_numeric_ids(session: Session, user_id: int | None) -> list[int]:
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    stmt = select(Question.id).join(Resolution, current).where(
        Question.kind.in_(CONTINUOUS_KINDS), Resolution.outcome != ANNULLED,
        Resolution.value.is_not(None))
    if user_id is not None:
        stmt = stmt.where(Question.id.in_(select(Forecast.question_id)
                                          .where(Forecast.user_id == user_id)))
    return list(session.scalars(stmt.order_by(Question.id)))


def numeric_calibration(session: Session, user_id: int | None) -> dict[str, Any] | None:
    """{"questions", "pit": ten bins {"low_edge", "high_edge", "weight", "density"},
    "coverage": {"50": share, "90": share}} of a user (the crowd when `user_id` is
    None); None without a scored numeric or date question."""
    ids = _resolved_numeric_ids(session, user_id)
    if not ids:
        return None
    inputs = numeric_inputs(session, ids, user_id=user_id)
    if user_id is None:
        question, cdf, weight = _crowd_points(inputs)
    else:
        result = scoring.score_numeric(inputs.questions, inputs.forecasts)
        scored = np.flatnonzero(result.forecast_weight > 0)
        question = inputs.forecasts.question[scored]
        cdf = inputs.forecasts.cdf[scored]
        weight = result.forecast_weight[scored]
    if question.size == 0:
        return None
    qs = inputs.questions
    y, lo, hi = qs.outcome[question], qs.range_min[question], qs.range_max[question]
    hist = scoring.pit_histogram(scoring.pit(cdf, y, lo, hi), weight, bins=N_BINS)
    coverage = {f"{round(level * 100)}": scoring.interval_coverage(cdf, y, lo, hi, weight,
                                                                   level=level).rate
                for level in LEVELS}
    return {"questions": int(np.unique(question).size),
            "pit": [{"low_edge": float(hist.bin_low[i]), "high_edge": float(hist.bin_high[i]),
                     "weight": float(hist.weight[i]), "density": float(hist.density[i])}
                    for i in range(N_BINS)],
            "coverage": coverage}


def _crowd_points(inputs: NumericInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(question index, mean CDF, weight) of the crowd after each scored forecast that
    stands for a positive time. A loop over questions; each question's running sum of
    CDF changes is one cumulative sum."""
    f, qs = inputs.forecasts, inputs.questions
    scored = ((f.at >= qs.open_at[f.question]) & (f.at < qs.end_at[f.question])
              & ~np.isnan(qs.outcome[f.question]))
    idx = np.flatnonzero(scored)
    # By question, then time; at equal times the later record (higher id) comes last.
    idx = idx[np.lexsort((inputs.forecast_id[idx], f.at[idx], f.question[idx]))]
    question = f.question[idx]
    starts = np.flatnonzero(np.diff(question, prepend=-1))
    ends = np.append(starts[1:], idx.size)
    out_q, out_cdf, out_w = [], [], []
    for s, e in zip(starts.tolist(), ends.tolist()):
        rows = idx[s:e]
        q = int(question[s])
        user, at = f.user[rows], f.at[rows]
        n = rows.size
        # Each event's previous event by the same user (-1 for a user's first).
        by_user = np.lexsort((np.arange(n), user))
        prev = np.full(n, -1, dtype=np.int64)
        same = user[by_user][1:] == user[by_user][:-1]
        prev[by_user[1:][same]] = by_user[:-1][same]
        cdf = np.asarray(f.cdf[rows], np.float64)
        delta = cdf.copy()
        again = prev >= 0
        delta[again] -= cdf[prev[again]]
        total = np.cumsum(delta, axis=0)
        count = np.cumsum(~again)
        t1 = qs.end_at[q]
        dt = np.append(at[1:], t1) - at
        keep = dt > 0
        out_q.append(np.full(int(keep.sum()), q, dtype=np.int64))
        out_cdf.append(total[keep] / count[keep][:, None])
        out_w.append(dt[keep] / float(t1 - at[0]))
    if not out_q:
        return np.zeros(0, np.int64), np.zeros((0, f.cdf.shape[1])), np.zeros(0)
    mean = np.clip(np.concatenate(out_cdf), 0.0, 1.0)
    return np.concatenate(out_q), np.maximum.accumulate(mean, axis=1), np.concatenate(out_w)
