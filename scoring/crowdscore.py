"""Scores of the crowd forecast, time-weighted like a user's (SPEC section 5).

The crowd is scored from the first scored forecast on a question to T1: at
each event interval of positive length, Brier, log and RPS of the crowd
vector (median P(yes) for binary questions, mean vector otherwise), weighted
by the interval's share of [first at, T1).
"""

from __future__ import annotations

import numpy as np

from .crowd import binary_medians, mean_slots
from .events import Events


def crowd_scores(ev: Events, seg_k, probs, row_start, outcome, dt, standing, prefix,
                 seg_ordered, seg_t1):
    """Per segment: crowd_brier, crowd_log, crowd_rps (NaN unless ordered),
    crowd_start (time of the first scored forecast); and ``points``, the
    binary crowd's (segment, P(yes), weight) per interval, for calibration.

    ``dt``: each event's interval length; ``standing``: forecasters standing
    after each event; ``prefix``: ``slot_prefixes(ev, seg_k)``."""
    query = np.flatnonzero(dt > 0)
    count = standing[query]
    o = outcome[query]
    brier = np.zeros(query.size)
    log = np.zeros(query.size)
    rps = np.zeros(query.size)
    split = int(np.searchsorted(query, prefix[2])) if prefix.size > 2 else 0
    if split:
        _mean_vector_scores(ev, seg_k, probs, row_start, query[:split], count[:split],
                            o[:split], brier, log, rps, prefix)
    median = np.zeros(0)
    if split < query.size:  # binary: the median of P(yes)
        first = ev.seg_start[int(np.searchsorted(-seg_k, -2, side="left"))]
        median = binary_medians(ev, seg_k, probs[row_start[first:] + 1],
                                query[split:], count[split:])
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


def _mean_vector_scores(ev, seg_k, probs, row_start, query, count, o, brier, log, rps, prefix):
    """Accumulate the mean-vector crowd's scores, one option slot at a time."""
    k_query = seg_k[ev.segment[query]]
    p_o = np.empty(query.size)
    cum = np.zeros(query.size)
    for slot, n, crowd in mean_slots(ev, seg_k, probs, row_start, query, count, prefix):
        hit = o[:n] == slot
        brier[:n] += (crowd - hit) ** 2
        np.copyto(p_o[:n], crowd, where=hit)
        cum[:n] += crowd
        rps[:n] += np.where(k_query[:n] - 1 > slot, (cum[:n] - (o[:n] <= slot)) ** 2, 0.0)
    log[:query.size] = -np.log(p_o)
    rps[:query.size] /= k_query - 1
