"""Bulk reads of numeric and date questions for `scoring.score_numeric` (SPEC section 11).

The counterpart of `queries.score_inputs`: Core selects of plain columns, and every
forecast's stored CDF read by `cdf.decode_many` (the stored values exactly): when all are
804 bytes, one joined buffer viewed as an (n, 201) float32 array, with no per-row
decoding; float64 when some were stored off the 2**-24 grid.
"""
from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter
from typing import Sequence

import numpy as np
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

import scoring
from forecasts import cdf as cdf_codec
from forecasts.models import ANNULLED, CONTINUOUS_KINDS, Forecast, Question, Resolution
from forecasts.queries import raw_time

_ROW = np.dtype([("question_id", np.int64), ("user_id", np.int64), ("at", np.int64)])


@dataclass(frozen=True)
class NumericInputs:
    """Engine arrays plus the database ids their indices stand for."""

    question_id: np.ndarray  # int64[Q], ascending
    questions: scoring.NumericQuestions
    forecasts: scoring.NumericForecasts
    forecast_id: np.ndarray  # int64[N]: the database id of each forecast row


def numeric_inputs(session: Session, question_ids: Sequence[int] | None = None, *,
                   user_id: int | None = None) -> NumericInputs:
    """Arrays for `scoring.score_numeric`: the given numeric and date questions (others
    among `question_ids` are left out), or every resolved one; only one user's
    forecasts when `user_id` is given. Unresolved and annulled questions, and those
    whose resolution has no value, get outcome NaN (not scored)."""
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    stmt: Select = (select(Question.id, raw_time(Question.open_at), raw_time(Question.close_at),
                           raw_time(Resolution.known_at), Resolution.outcome, Resolution.value,
                           Question.range_min, Question.range_max)
                    .outerjoin(Resolution, current)
                    .where(Question.kind.in_(CONTINUOUS_KINDS)).order_by(Question.id))
    if question_ids is None:
        stmt = stmt.where(Resolution.id.is_not(None), Resolution.outcome != ANNULLED)
    else:
        stmt = stmt.where(Question.id.in_(list(question_ids)))
    rows = session.execute(stmt).all()
    n = len(rows)
    qid = np.fromiter((r[0] for r in rows), np.int64, n)
    open_at = np.fromiter((r[1] for r in rows), np.int64, n)
    close_at = np.fromiter((r[2] for r in rows), np.int64, n)
    known = np.fromiter((c if r[3] is None else r[3] for r, c in zip(rows, close_at)),
                        np.int64, n)
    outcome = np.fromiter((np.nan if r[5] is None or r[4] == ANNULLED else r[5] for r in rows),
                          np.float64, n)
    questions = scoring.NumericQuestions(
        open_at=open_at, close_at=close_at, end_at=np.minimum(close_at, known),
        outcome=outcome, range_min=np.fromiter((r[6] for r in rows), np.float64, n),
        range_max=np.fromiter((r[7] for r in rows), np.float64, n))

    if n == 0:  # e.g. rescoring a binary question: no second query
        empty = np.zeros(0, np.int64)
        return NumericInputs(qid, questions, scoring.NumericForecasts(
            question=empty, user=empty, at=empty,
            cdf=np.zeros((0, cdf_codec.POINTS), np.float32)), empty)
    fstmt: Select = (select(Forecast.question_id, Forecast.user_id, raw_time(Forecast.at),
                            Forecast.id, Forecast.cdf)
                     .where(Forecast.cdf.is_not(None)).order_by(Forecast.id))
    if user_id is not None:
        fstmt = fstmt.where(Forecast.user_id == user_id)
    fstmt = fstmt.where(Forecast.question_id.in_(
        stmt.with_only_columns(Question.id).order_by(None) if question_ids is None
        else qid.tolist()))
    cursor = session.connection().execute(fstmt).cursor
    frows = cursor.fetchall()
    cursor.close()
    table = np.fromiter(((r[0], r[1], r[2]) for r in frows), _ROW, len(frows))
    forecast_id = np.fromiter((r[3] for r in frows), np.int64, len(frows))
    cdf = cdf_codec.decode_many(list(map(itemgetter(4), frows)))  # no Python code per row
    forecasts = scoring.NumericForecasts(
        question=np.searchsorted(qid, table["question_id"]), user=table["user_id"],
        at=table["at"], cdf=cdf)
    return NumericInputs(qid, questions, forecasts, forecast_id)
