"""Scores of the crowd forecast, time-weighted like a user's (SPEC section 5).

The crowd is scored from the first scored forecast on a question to T1: at
each event interval of positive length, Brier, log and RPS of the crowd
vector from the aggregation seam (``aggregate``; by default the median P(yes)
for binary questions, the mean vector otherwise), weighted
by the interval's share of [first at, T1).
"""

from __future__ import annotations

import numpy as np

from .aggregate import MEDIAN, Aggregator, crowd_matrix
from .events import Events


def crowd_scores(ev: Events, seg_k, probs, row_start, outcome, dt, standing, prefix,
                 seg_ordered, seg_t1, method: Aggregator = MEDIAN):
    """Per segment: crowd_brier, crowd_log, crowd_rps (NaN unless ordered),
    crowd_start (time of the first scored forecast); and ``points``, the
    binary crowd's (segment, P(yes), weight) per interval, for calibration.

    ``dt``: each event's interval length; ``standing``: forecasters standing
    after each event; ``prefix``: ``slot_prefixes(ev, seg_k)``; the crowd
    comes from the aggregation seam with ``method``."""
    query = np.flatnonzero(dt > 0)
    count = standing[query]
    o = outcome[query]
    brier = np.zeros(query.size)
    log = np.zeros(query.size)
    rps = np.zeros(query.size)
    _, crowd = crowd_matrix(ev, seg_k, probs, row_start, query, method=method,
                            count=count, prefix=prefix)
    split = int(np.searchsorted(query, prefix[2])) if prefix.size > 2 else 0
    if split:
        _vector_scores(ev, seg_k, crowd, query[:split], o[:split], brier, log, rps, prefix)
    median = crowd[split:, 1] if crowd.shape[1] else np.zeros(0)
    if split < query.size:  # binary: the crowd's P(yes)
        yes = o[split:] == 1
        miss_no = 1.0 - median - ~yes
        brier[split:] = miss_no * miss_no + (median - yes) ** 2
        log[split:] = -np.log(np.where(yes, median, 1.0 - median))
        rps[split:] = miss_no * miss_no
    seg = ev.segment[query]
    start = ev.at[ev.seg_start]
    w = dt[query] / (seg_t1 - start)[seg]
    n = ev.seg_start.size
    out = {"crowd_start": start}
    for name, score in (("crowd_brier", brier), ("crowd_log", log), ("crowd_rps", rps)):
        out[name] = np.bincount(seg, weights=w * score, minlength=n)
    out["crowd_rps"][~seg_ordered] = np.nan
    out["points"] = (seg[split:], median, w[split:])
    return out


def _vector_scores(ev, seg_k, crowd, query, o, brier, log, rps, prefix):
    """Accumulate the multiple-choice crowd's scores, one option slot at a time
    (slot j over the leading queries whose question has more than j options)."""
    k_query = seg_k[ev.segment[query]]
    p_o = np.empty(query.size)
    cum = np.zeros(query.size)
    for slot, c in enumerate(prefix):
        n = int(np.searchsorted(query, c))
        if n == 0:
            break
        hit = o[:n] == slot
        brier[:n] += (crowd[:n, slot] - hit) ** 2
        np.copyto(p_o[:n], crowd[:n, slot], where=hit)
        cum[:n] += crowd[:n, slot]
        rps[:n] += np.where(k_query[:n] - 1 > slot, (cum[:n] - (o[:n] <= slot)) ** 2, 0.0)
    log[:query.size] = -np.log(p_o)
    rps[:query.size] /= k_query - 1
