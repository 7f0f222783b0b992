"""The crowd forecast: median P(yes) of the standing forecasts on a binary
question, mean probability vector on a multiple-choice question (SPEC 5).

Layout. ``question_rank`` orders the questions by option count, descending,
so that binary questions form the last block of events (grouped by the
median's size classes) and, among multiple-choice questions, the events that
have option slot j form a prefix: the per-option loop slices, never masks.
``crowd_series`` and ``current_crowd`` are the public views used by the
question page (chart) and the question list; both aggregate through
``aggregate.crowd_matrix`` (the seam), with the median unless told otherwise,
except that the current median of binary questions alone (what every forecast
recomputes for its question) is read off one sort of the latest forecasts: the
same order statistics, so the same values (tests compare the two exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as v
from ._kernels import stable_group_order
from .aggregate import MEDIAN, Aggregator, aggregator, crowd_matrix, slot_prefixes
from .data import Forecasts, flat_offsets
from .events import build_events
from .median import size_class

# slot_prefixes moved to the seam (aggregate); the engine still imports it from here.
__all__ = ["CurrentCrowd", "crowd_series", "current_crowd", "question_rank", "slot_prefixes"]


def question_rank(n_options, counts):
    """Rank of each question in event order: more options first; binary
    questions by the median's size class of their forecast ``counts``."""
    k = np.asarray(n_options, dtype=np.int64)
    cls = np.where(k == 2, size_class(counts), 0)
    order = np.lexsort((np.arange(k.size), cls, -k))
    rank = np.empty(k.size, dtype=np.int64)
    rank[order] = np.arange(k.size)
    return rank


def crowd_series(user, at, probs, *, method: Aggregator = MEDIAN):
    """Crowd forecast of one question after each distinct forecast time.

    By default (``method`` MEDIAN) the median of P(yes) (column 1; column 0 =
    1 - median) when K == 2, the mean vector when K > 2, over each user's
    latest forecast (SPEC 5, "Crowd"); other aggregators: ``scoring.aggregate``.
    ``probs`` is (n, K) in record order. Returns (times (m,), crowd (m, K),
    n_forecasters (m,)).
    """
    method = aggregator(method)
    probs = v.probabilities("probs", probs, ndim=2)
    n, k = probs.shape
    if k < 2 and n:
        raise ValueError(f"probs: need at least 2 options per row, got {k}")
    user = v.int_array("user", user)
    at = v.int_array("at", at)
    v.same_length("user", user, n, "probs")
    v.same_length("at", at, n, "probs")
    v.in_range("user", user, 0, np.iinfo(np.int64).max, "must be >= 0")
    offsets = np.arange(n + 1, dtype=np.int64) * k
    v.row_sums("probs", probs.ravel(), offsets)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros((0, k)), np.zeros(0, np.int64)
    ev = build_events(np.arange(n), np.zeros(n, np.int64), user, at)
    query = np.flatnonzero(np.diff(ev.at, append=ev.at[-1] + 1) != 0)
    count, crowd = crowd_matrix(ev, np.array([k]), probs.ravel(), offsets[ev.forecast], query,
                                method=method)
    return ev.at[query], crowd, count


@dataclass(frozen=True, eq=False)
class CurrentCrowd:
    """Crowd of each question over its users' latest forecasts."""

    probs: np.ndarray          # float64 (Q, max n_options), NaN-padded; NaN rows when nobody
    n_forecasters: np.ndarray  # int64 (Q,)


def current_crowd(n_options, forecasts: Forecasts, *,
                  method: Aggregator = MEDIAN) -> CurrentCrowd:
    """Crowd of every question from each user's latest forecast (SPEC 5, "Crowd").

    Latest = greatest ``at``, ties to the later record. By default median
    P(yes) for two options, mean vector otherwise (``method``: see
    ``scoring.aggregate``; recency_median orders the forecasters by the time
    of their latest forecast); all forecasts passed are used.
    """
    method = aggregator(method)
    n_options = v.int_array("n_options", n_options)
    v.in_range("n_options", n_options, 2, np.iinfo(np.int64).max, "must be >= 2")
    if not isinstance(forecasts, Forecasts):
        raise ValueError("forecasts: expected a scoring.Forecasts")
    offsets = flat_offsets(n_options, forecasts)
    q = n_options.size
    if method.name == "median" and len(forecasts) and (n_options == 2).all():
        return _binary_medians_now(q, forecasts)
    out = np.full((q, int(n_options.max()) if q else 0), np.nan)
    count = np.zeros(q, dtype=np.int64)
    if len(forecasts):
        rank = question_rank(n_options, np.bincount(forecasts.question, minlength=q))
        key = rank[forecasts.question]
        order = stable_group_order(key)
        ev = build_events(order, key[order], forecasts.user, forecasts.at)
        seg_q = np.argsort(rank)[ev.seg_key]
        n, crowd = crowd_matrix(ev, n_options[seg_q], forecasts.probs,
                                offsets[ev.forecast], ev.seg_end - 1, method=method)
        out[seg_q, :crowd.shape[1]] = crowd
        count[seg_q] = n
    return CurrentCrowd(probs=out, n_forecasters=count)


def _binary_medians_now(q: int, forecasts: Forecasts) -> CurrentCrowd:
    """``current_crowd`` with the median when every question is binary: only the latest
    forecasts stand, so the two middle order statistics of each question are read off
    one sort of them instead of the event machinery (the same values, so the same
    median: 0.5 (lower + upper), column 0 = 1 - median)."""
    n = len(forecasts)
    order = np.lexsort((np.arange(n), forecasts.at, forecasts.user, forecasts.question))
    question, user = forecasts.question[order], forecasts.user[order]
    last = np.ones(n, dtype=bool)  # the last of each (question, user) run: its latest
    last[:-1] = (question[1:] != question[:-1]) | (user[1:] != user[:-1])
    latest = order[last]
    question = forecasts.question[latest]
    p_yes = forecasts.probs[2 * latest + 1]
    by_value = np.lexsort((p_yes, question))
    p_yes = p_yes[by_value]
    count = np.bincount(question, minlength=q)
    start = np.cumsum(count) - count
    has = count > 0
    lower = p_yes[start[has] + (count[has] - 1) // 2]
    upper = p_yes[start[has] + count[has] // 2]
    median = 0.5 * (lower + upper)
    out = np.full((q, 2), np.nan)
    out[has, 0] = 1.0 - median
    out[has, 1] = median
    return CurrentCrowd(probs=out, n_forecasters=count.astype(np.int64))
