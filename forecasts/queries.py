"""Bulk reads with Core selects of plain columns: the fast path into numpy arrays."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from sqlalchemy import BigInteger, Select, and_, select, type_coerce
from sqlalchemy.orm import Session

import scoring
from forecasts.models import (ANNULLED, CONTINUOUS_KINDS, Forecast, Question, QuestionScoreBlock,
                              Resolution)


# One user's scores on a question inside a QuestionScoreBlock: fixed little-endian layout.
# Binary and multiple-choice questions have crps NaN; numeric and date ones brier NaN.
SCORE_RECORD = np.dtype([("user_id", "<i8"), ("brier", "<f8"), ("log", "<f8"), ("peer", "<f8"),
                         ("coverage", "<f8"), ("crps", "<f8")])


def score_records(session: Session, question_ids: Select) -> np.ndarray:
    """The packed scores of the questions `question_ids` selects, as SCORE_RECORD
    records ordered by (question id, user id)."""
    blocks = session.scalars(select(QuestionScoreBlock.data)
                             .where(QuestionScoreBlock.question_id.in_(question_ids))
                             .order_by(QuestionScoreBlock.question_id))
    return np.frombuffer(b"".join(blocks), SCORE_RECORD)


def fetch_columns(session: Session, stmt: Select, dtypes: Sequence[type]) -> list[np.ndarray]:
    """One array per selected column, read straight from the driver's cursor.

    The rows skip SQLAlchemy's Row objects and type processing, so every column must
    come out of the driver as a plain number (`raw_time` for times); NULL is allowed in
    float columns, where it becomes NaN. The statement's ORDER BY decides the row order.
    """
    cursor = session.connection().execute(stmt).cursor
    rows = cursor.fetchall()
    cursor.close()
    layout = [(f"c{i}", t) for i, t in enumerate(dtypes)]
    try:
        table = np.fromiter(rows, dtype=layout, count=len(rows))
    except TypeError:  # a NULL in a float column
        table = np.fromiter((tuple(np.nan if v is None else v for v in r) for r in rows),
                            dtype=layout, count=len(rows))
    return [table[name] for name, _ in layout]


def raw_time(column):
    """A UtcMicros column as its stored integer, skipping datetime conversion."""
    return type_coerce(column, BigInteger)


@dataclass(frozen=True)
class ScoreInputs:
    """Engine arrays plus the database ids their indices stand for."""

    question_id: np.ndarray  # int64[Q], ascending
    questions: scoring.Questions
    forecasts: scoring.Forecasts


def _question_rows(session: Session, question_ids: Sequence[int] | None):
    current = and_(Resolution.question_id == Question.id, Resolution.superseded_at.is_(None))
    stmt: Select = (select(Question.id, raw_time(Question.open_at), raw_time(Question.close_at),
                           Question.options_json, Question.ordered, Resolution.outcome,
                           raw_time(Resolution.known_at))
                    .outerjoin(Resolution, current)
                    .where(Question.kind.not_in(CONTINUOUS_KINDS)).order_by(Question.id))
    if question_ids is None:
        stmt = stmt.where(Resolution.id.is_not(None), Resolution.outcome != ANNULLED)
    else:
        stmt = stmt.where(Question.id.in_(list(question_ids)))
    return session.execute(stmt).all()


def score_inputs(session: Session, question_ids: Sequence[int] | None = None, *,
                 user_id: int | None = None) -> ScoreInputs:
    """Arrays for `scoring.score_questions`: the given questions, or every resolved one;
    only one user's forecasts when `user_id` is given. Numeric and date questions are
    left out (`numeric_inputs` reads those).

    Unresolved and annulled questions get outcome -1 (not scored).
    """
    rows = _question_rows(session, question_ids)
    n = len(rows)
    qid = np.fromiter((r[0] for r in rows), np.int64, n)
    open_at = np.fromiter((r[1] for r in rows), np.int64, n)
    close_at = np.fromiter((r[2] for r in rows), np.int64, n)
    known = np.fromiter((close if r[6] is None else r[6] for r, close in zip(rows, close_at)),
                        np.int64, n)
    labels = [json.loads(r[3]) if r[3] else ["no", "yes"] for r in rows]
    outcome = np.fromiter((-1 if r[5] is None or r[5] == ANNULLED else lab.index(r[5])
                           for r, lab in zip(rows, labels)), np.int64, n)
    questions = scoring.Questions(
        open_at=open_at, close_at=close_at, end_at=np.minimum(close_at, known), outcome=outcome,
        n_options=np.fromiter((len(lab) for lab in labels), np.int64, n),
        ordered=np.fromiter((bool(r[4]) for r in rows), bool, n))
    forecasts = forecast_arrays(session, qid, questions.n_options, user_id=user_id,
                                every_resolved=question_ids is None)
    return ScoreInputs(qid, questions, forecasts)


def forecast_arrays(session: Session, qid: np.ndarray, n_options: np.ndarray, *,
                    user_id: int | None = None, every_resolved: bool = False) -> scoring.Forecasts:
    """Forecasts on the questions `qid` (ascending ids; `n_options` aligned) in record order,
    with `question` as an index into `qid`."""
    def chosen(stmt: Select) -> Select:
        stmt = stmt.where(Forecast.cdf.is_(None))  # numeric forecasts: numeric_inputs
        if user_id is not None:
            stmt = stmt.where(Forecast.user_id == user_id)
        if every_resolved:
            return stmt.join(Resolution, and_(Resolution.question_id == Forecast.question_id,
                                              Resolution.superseded_at.is_(None),
                                              Resolution.outcome != ANNULLED))
        return stmt.where(Forecast.question_id.in_(qid.tolist()))

    question_id, user, at, p_yes = fetch_columns(session, chosen(select(
        Forecast.question_id, Forecast.user_id, raw_time(Forecast.at), Forecast.probability)
        .order_by(Forecast.id)), (np.int64, np.int64, np.int64, np.float64))
    # Multiple-choice vectors (stored where probability is NULL), in the same order.
    vectors = list(session.scalars(chosen(select(Forecast.probabilities_json)
                                          .where(Forecast.probability.is_(None))
                                          .order_by(Forecast.id))))
    return _pack(np.searchsorted(qid, question_id), user, at, p_yes, vectors, n_options)


def _pack(question: np.ndarray, user: np.ndarray, at: np.ndarray, p_yes: np.ndarray,
          vectors: list[str], n_options: np.ndarray) -> scoring.Forecasts:
    """The flat probability layout: binary rows as [1 - p, p], others as stored."""
    k = n_options[question]
    start = np.concatenate(([0], np.cumsum(k)[:-1])).astype(np.int64)
    probs = np.empty(int(k.sum()), np.float64)
    binary = ~np.isnan(p_yes)
    probs[start[binary]] = 1.0 - p_yes[binary]
    probs[start[binary] + 1] = p_yes[binary]
    if vectors:
        values = np.array(json.loads("[" + ",".join(v[1:-1] for v in vectors) + "]"), np.float64)
        kk = k[~binary]
        offsets = np.repeat(start[~binary], kk) + (np.arange(len(values)) -
                                                   np.repeat(np.cumsum(kk) - kk, kk))
        probs[offsets] = values
    return scoring.Forecasts(question=question, user=user, at=at, probs=probs)
