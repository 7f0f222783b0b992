"""Track-record figures: discrimination (weighted ROC AUC with a bootstrap
interval), rolling means over time and the split by forecast horizon.

Pure numpy; the public functions validate, the ``_`` kernels only compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as v

# Horizon bin edges in days (time before the effective close): bins are
# [0, 7), [7, 28), [28, 91) and [91, inf).
HORIZON_EDGES_DAYS = (7.0, 28.0, 91.0)
HORIZON_LABELS = ("< 1 week", "1–4 weeks", "1–3 months", "> 3 months")
_DAY = 86400.0
# Bootstrap resamples are drawn in chunks of about this many cells.
_CHUNK_CELLS = 1 << 22


def _weights(name, w, n):
    a = v.float_array(name, w)
    v.same_length(name, a, n, "p")
    if a.size and a.min() < 0:
        v.fail_at(name, a < 0, a, "weights must be >= 0")
    return a


def _auc_inputs(p, y, w):
    p = v.float_array("p", p)
    if p.size and not (p.min() >= 0.0 and p.max() <= 1.0):
        v.fail_at("p", (p < 0) | (p > 1), p, "probabilities must be in [0, 1]")
    y = v.bool_array("y", y)
    v.same_length("y", y, p.size, "p")
    return p, y, _weights("w", w, p.size)


def _tie_layout(p):
    """Stable sort order of ``p`` and the start of each run of equal values."""
    order = np.argsort(p, kind="stable")
    ps = p[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]]) if ps.size else np.zeros(0, int)
    return order, starts


def _auc_rows(wpos, wneg, starts):
    """AUC per row of (B, n) positive/negative weights already in sorted-p order."""
    if wpos.shape[1] == 0:
        return np.full(wpos.shape[0], np.nan)
    pos = np.add.reduceat(wpos, starts, axis=1)
    neg = np.add.reduceat(wneg, starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def weighted_auc(p, y, w) -> float:
    """Weighted area under the ROC curve of binary forecasts.

    AUC = Σ_{i: y_i=1} Σ_{j: y_j=0} w_i w_j ([p_i > p_j] + ½[p_i = p_j])
          / (Σ_{y=1} w · Σ_{y=0} w),
    the probability that a random positive (drawn by weight) is forecast
    higher than a random negative, ties counting one half (Hanley & McNeil
    1982, "The meaning and use of the area under a ROC curve", Radiology 143).
    Computed in O(n log n) by sorting ``p`` and grouping equal values.
    ``p``: P(yes) in [0, 1]; ``y``: outcomes 0/1; ``w``: weights >= 0.
    NaN when either class has zero total weight.
    """
    p, y, w = _auc_inputs(p, y, w)
    order, starts = _tie_layout(p)
    ws, ys = w[order], y[order]
    return float(_auc_rows((ws * ys)[None], (ws * ~ys)[None], starts)[0])


def auc_interval(p, y, w, group, n: int = 1000, seed: int = 0, level: float = 0.9):
    """(auc, lo, hi): ``weighted_auc`` and its percentile bootstrap interval.

    Each of ``n`` resamples draws as many groups (questions) as there are,
    with replacement (``numpy.random.default_rng(seed).integers``); a group
    drawn k times contributes its forecasts with weights k·w. lo and hi are
    the (1 - level)/2 and (1 + level)/2 quantiles of the resampled AUCs,
    ignoring resamples that lack a class (Efron & Tibshirani 1993, ch. 13).
    All three are NaN when the AUC itself is undefined.
    """
    p, y, w = _auc_inputs(p, y, w)
    g = v.int_array("group", group)
    v.same_length("group", g, p.size, "p")
    n = v.positive_int("n", n)
    seed = v.positive_int("seed", seed, minimum=0)
    level = v.unit_interval("level", level)
    order, starts = _tie_layout(p)
    ws, ys = w[order], y[order]
    auc = float(_auc_rows((ws * ys)[None], (ws * ~ys)[None], starts)[0])
    if np.isnan(auc):
        return auc, float("nan"), float("nan")
    _, gi = np.unique(g[order], return_inverse=True)
    n_groups = int(gi.max()) + 1
    aucs = _resample_aucs(ws * ys, ws * ~ys, starts, gi, n_groups, n,
                          np.random.default_rng(seed))
    aucs = aucs[~np.isnan(aucs)]
    if not aucs.size:
        return auc, float("nan"), float("nan")
    lo, hi = np.quantile(aucs, [(1 - level) / 2, (1 + level) / 2])
    return auc, float(lo), float(hi)


def _resample_aucs(wpos, wneg, starts, gi, n_groups, n, rng):
    """AUCs of ``n`` group resamples, computed a chunk of resamples at a time."""
    m = wpos.size
    per_chunk = max(1, _CHUNK_CELLS // max(m, n_groups))
    out = np.empty(n)
    for lo in range(0, n, per_chunk):  # a loop over memory chunks
        hi = min(n, lo + per_chunk)
        b = hi - lo
        draws = rng.integers(0, n_groups, size=(b, n_groups))
        flat = (draws + n_groups * np.arange(b)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * n_groups).reshape(b, n_groups)
        k = counts[:, gi]
        out[lo:hi] = _auc_rows(k * wpos, k * wneg, starts)
    return out


def rolling_mean(times, values, window):
    """(mean, count) at each point: over the values with time in (t - window, t].

    ``times`` sorted non-decreasing (e.g. epoch seconds), ``values`` finite,
    ``window`` > 0 in the units of ``times``. With S the prefix sums of
    ``values``, lo = #{times <= t - window} and hi = #{times <= t},
    mean = (S[hi] - S[lo]) / (hi - lo) and count = hi - lo (a trailing
    moving average; points tied at t are all included).
    """
    t = v.float_array("times", times)
    x = v.float_array("values", values)
    v.same_length("values", x, t.size, "times")
    try:
        win = float(window)
    except (TypeError, ValueError):
        raise ValueError(f"window: expected a number, got {window!r}") from None
    if not (np.isfinite(win) and win > 0):
        raise ValueError(f"window: must be a finite number > 0, got {window!r}")
    if t.size > 1 and (np.diff(t) < 0).any():
        bad = np.r_[False, np.diff(t) < 0]
        v.fail_at("times", bad, t, "must be sorted non-decreasing")
    return _rolling(t, x, win)


def _rolling(t, x, win):
    s = np.r_[0.0, np.cumsum(x)]
    hi = np.searchsorted(t, t, side="right")
    lo = np.searchsorted(t, t - win, side="right")
    count = hi - lo
    return (s[hi] - s[lo]) / count, count


@dataclass(frozen=True)
class HorizonBins:
    """Per horizon bin (``HORIZON_LABELS``): weighted mean Brier (NaN when the
    bin has no weight), number of forecasts and of distinct groups."""

    labels: tuple
    mean_brier: np.ndarray
    forecasts: np.ndarray
    questions: np.ndarray


def horizon_bins(horizon_seconds, brier, weight, group) -> HorizonBins:
    """Split forecasts by horizon (seconds before the effective close).

    Bin b holds HORIZON_EDGES_DAYS[b-1] <= h/86400 < HORIZON_EDGES_DAYS[b]
    (the first from 0, the last unbounded). Per bin: mean Brier
    Σ w·brier / Σ w, the forecast count and the number of distinct groups.
    ``horizon_seconds`` >= 0, ``brier`` finite, ``weight`` >= 0, ``group`` ints.
    """
    h = v.float_array("horizon_seconds", horizon_seconds)
    if h.size and h.min() < 0:
        v.fail_at("horizon_seconds", h < 0, h, "must be >= 0")
    b = v.float_array("brier", brier)
    v.same_length("brier", b, h.size, "horizon_seconds")
    w = v.float_array("weight", weight)
    v.same_length("weight", w, h.size, "horizon_seconds")
    if w.size and w.min() < 0:
        v.fail_at("weight", w < 0, w, "weights must be >= 0")
    g = v.int_array("group", group)
    v.same_length("group", g, h.size, "horizon_seconds")
    k = len(HORIZON_LABELS)
    idx = np.searchsorted(np.asarray(HORIZON_EDGES_DAYS) * _DAY, h, side="right")
    wsum = np.bincount(idx, weights=w, minlength=k)
    bsum = np.bincount(idx, weights=w * b, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wsum > 0, bsum / np.where(wsum > 0, wsum, 1.0), np.nan)
    pairs = np.unique(np.stack([idx, g]), axis=1) if h.size else np.zeros((2, 0), int)
    return HorizonBins(
        labels=HORIZON_LABELS,
        mean_brier=mean,
        forecasts=np.bincount(idx, minlength=k),
        questions=np.bincount(pairs[0], minlength=k),
    )
