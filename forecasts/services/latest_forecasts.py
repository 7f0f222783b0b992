"""Each forecaster's latest forecast on one question: the state a new forecast updates
the question's crowd from (`question_stats.on_forecast`), kept in the question's figures
row (`question_stats.latest`, `encode_latest`) or read afresh from the forecasts table
(`from_table`)."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

import scoring
from forecasts import timeutil
from forecasts.models import Forecast, Question


# Each forecaster's latest forecast on one question (greatest time, ties to the later
# record), reading one index entry per forecaster instead of every forecast: a
# recursive walk over the distinct users of the (question_id, user_id, at) index.
_LATEST = text("""
WITH RECURSIVE u(id) AS (
    SELECT MIN(user_id) FROM forecasts WHERE question_id = :q
    UNION ALL
    SELECT (SELECT MIN(g.user_id) FROM forecasts g WHERE g.question_id = :q AND g.user_id > u.id)
    FROM u WHERE u.id IS NOT NULL
)
SELECT f.user_id, f.id, f.at, f.probability, f.probabilities_json FROM u
JOIN forecasts f ON f.id = (
    SELECT h.id FROM forecasts h WHERE h.question_id = :q AND h.user_id = u.id
    ORDER BY h.at DESC, h.id DESC LIMIT 1)
""")


@dataclass(frozen=True)
class Latest:
    """Each forecaster's latest forecast on one question, by ascending user id: its id,
    time (microseconds) and probabilities (one row of `probs` each)."""

    users: np.ndarray
    ids: np.ndarray
    at: np.ndarray
    probs: np.ndarray


def encode_latest(latest: Latest) -> bytes:
    """`latest` as `question_stats.latest` stores it, little-endian: the number of options
    k, then the user ids, forecast ids and times (n int64 each), then the probabilities
    (n x k float64)."""
    k = latest.probs.shape[1]
    return b"".join([np.array([k], "<i8").tobytes(),
                     *(np.asarray(a, "<i8").tobytes() for a in (latest.users, latest.ids,
                                                                  latest.at)),
                     np.ascontiguousarray(latest.probs, "<f8").tobytes()])


def decode_latest(blob: bytes | None, k: int) -> Latest | None:
    """The state `encode_latest` stored for a question of `k` options; None when none is
    kept or it was kept for another number of options."""
    if blob is None or len(blob) < 8 or int(np.frombuffer(blob, "<i8", count=1)[0]) != k:
        return None
    n, extra = divmod(len(blob) - 8, 8 * (3 + k))
    if extra:
        return None
    ints = np.frombuffer(blob, "<i8", count=3 * n, offset=8).astype(np.int64)
    probs = np.frombuffer(blob, "<f8", offset=8 + 24 * n).astype(np.float64).reshape(n, k)
    return Latest(ints[:n], ints[n:2 * n], ints[2 * n:], probs)


def _probs(probability: float | None, probabilities_json: str | None) -> list[float]:
    return [1.0 - probability, probability] if probability is not None \
        else json.loads(probabilities_json or "[]")


def from_table(session: Session, question: Question) -> Latest:
    rows = session.execute(_LATEST, {"q": question.id}).all()
    k = len(question.options)

    def column(i: int) -> np.ndarray:
        return np.array([r[i] for r in rows], np.int64)

    return Latest(column(0), column(1), column(2),
                  np.array([_probs(r[3], r[4]) for r in rows], np.float64).reshape(-1, k))


def with_forecast(latest: Latest, forecast: Forecast) -> Latest:
    """`latest` after `forecast` (the newest record) is added."""
    at = timeutil.to_micros(forecast.at)
    probs = np.array(_probs(forecast.probability, forecast.probabilities_json), np.float64)
    i = int(np.searchsorted(latest.users, forecast.user_id))
    if i < len(latest.users) and latest.users[i] == forecast.user_id:
        if at < latest.at[i]:  # an earlier time than the user's latest: it stays
            return latest
        ids, ats, all_probs = latest.ids.copy(), latest.at.copy(), latest.probs.copy()
        ids[i], ats[i], all_probs[i] = forecast.id, at, probs
        return Latest(latest.users, ids, ats, all_probs)
    return Latest(np.insert(latest.users, i, forecast.user_id),
                  np.insert(latest.ids, i, forecast.id), np.insert(latest.at, i, at),
                  np.insert(latest.probs, i, probs, axis=0))


def crowd_of(latest: Latest, k: int, aggregator: scoring.Aggregator
              ) -> tuple[list[float] | None, int]:
    """The crowd of each user's latest forecast, and how many forecasters.

    The latest forecasts are all the crowd needs: recency_median orders the
    forecasters by their latest forecast's time (ties: the later record), which is
    the order given here; the median and the mean ignore the order."""
    n = len(latest.users)
    if not n:
        return None, 0
    if aggregator == scoring.MEDIAN:
        order, at = np.arange(n), np.zeros(n, np.int64)
    else:
        order = np.lexsort((latest.ids, latest.at))
        at = latest.at[order]
    current = scoring.current_crowd(np.array([k]), scoring.Forecasts(
        question=np.zeros(n, np.int64), user=latest.users[order],
        at=at, probs=latest.probs[order].ravel()), method=aggregator)
    return current.probs[0, :k].tolist(), n
