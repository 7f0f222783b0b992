"""Calibration of binary forecasts: display bins with Jeffreys intervals,
and the Murphy decomposition of the Brier score (SPEC section 6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import _validate as v


@dataclass(frozen=True, eq=False)
class Calibration:
    """Per display bin [0, 1/n), ..., [(n-1)/n, 1] (the last bin is closed)."""

    bin_low: np.ndarray        # float64[n_bins]
    bin_high: np.ndarray       # float64[n_bins]
    count: np.ndarray          # int64[n_bins] forecasts with positive weight
    weight: np.ndarray         # float64[n_bins] total weight
    mean_forecast: np.ndarray  # weighted mean P(yes), NaN when empty
    observed: np.ndarray       # weighted frequency of yes, NaN when empty
    interval_low: np.ndarray   # Jeffreys interval of the observed frequency
    interval_high: np.ndarray


class Murphy(NamedTuple):
    """Murphy (1973) decomposition: brier = reliability - resolution + uncertainty."""

    brier: float
    reliability: float
    resolution: float
    uncertainty: float


def _binary_inputs(p_yes, outcome, weight):
    p = v.float_array("p_yes", p_yes)
    bad = (p < 0.0) | (p > 1.0)
    if bad.any():
        v.fail_at("p_yes", bad, p, "must be in [0, 1]")
    o = v.int_array("outcome", outcome)
    v.same_length("outcome", o, p.size, "p_yes")
    v.in_range("outcome", o, 0, 2, "must be 0 (no) or 1 (yes)")
    if weight is None:
        w = np.ones(p.size)
    else:
        w = v.float_array("weight", weight)
        v.same_length("weight", w, p.size, "p_yes")
        if (w < 0).any():
            v.fail_at("weight", w < 0, w, "must be >= 0")
    return p, o.astype(np.float64), w


def calibration(p_yes, outcome, weight, *, n_bins=10, level=0.9):
    """Weighted calibration table in ``n_bins`` equal bins of P(yes).

    Per bin: total weight n, weighted mean forecast, observed frequency x/n
    with x the weighted count of yes, and the Jeffreys interval: quantiles
    (1 -/+ level)/2 of Beta(x + 1/2, n - x + 1/2) (Brown, Cai and DasGupta
    2001); NaN for empty bins.
    """
    from scipy.stats import beta  # imported here: scipy.stats takes most of a second to load

    p, o, w = _binary_inputs(p_yes, outcome, weight)
    n_bins = v.positive_int("n_bins", n_bins)
    level = v.unit_interval("level", level)
    # Each edge k/n (k < n) falls in the bin it opens; 1 joins the last. Comparing with
    # the edges themselves (not floor(p * n)) keeps that true under rounding.
    edges = np.arange(n_bins + 1) / n_bins
    b = np.minimum(np.searchsorted(edges, p, side="right") - 1, n_bins - 1)
    total = np.bincount(b, weights=w, minlength=n_bins)
    yes = np.bincount(b, weights=w * o, minlength=n_bins)
    forecast = np.bincount(b, weights=w * p, minlength=n_bins)
    count = np.bincount(b, weights=(w > 0).astype(np.float64), minlength=n_bins)
    empty = total <= 0
    safe = np.where(empty, 1.0, total)
    observed = np.where(empty, np.nan, yes / safe)
    a, bb = yes + 0.5, np.maximum(total - yes, 0.0) + 0.5
    low = np.where(empty, np.nan, beta.ppf((1.0 - level) / 2.0, a, bb))
    high = np.where(empty, np.nan, beta.ppf((1.0 + level) / 2.0, a, bb))
    return Calibration(bin_low=edges[:-1], bin_high=edges[1:],
                       count=count.astype(np.int64), weight=total,
                       mean_forecast=np.where(empty, np.nan, forecast / safe),
                       observed=observed, interval_low=low, interval_high=high)


def murphy_decomposition(p_yes, outcome, weight=None) -> Murphy:
    """Murphy (1973) decomposition of the one-sided Brier score (p - o)^2.

    Grouping by exact forecast values f with weighted frequency o_f and base
    rate o: reliability = mean (f - o_f)^2, resolution = mean (o_f - o)^2,
    uncertainty = o (1 - o); brier = reliability - resolution + uncertainty.
    """
    p, o, w = _binary_inputs(p_yes, outcome, weight)
    total = w.sum()
    if not total > 0:
        raise ValueError("weight: the total weight must be positive")
    values, group = np.unique(p, return_inverse=True)
    group = group.ravel()
    wg = np.bincount(group, weights=w, minlength=values.size)
    og = np.bincount(group, weights=w * o, minlength=values.size) / np.where(wg > 0, wg, 1.0)
    base = (w * o).sum() / total
    return Murphy(
        brier=float((w * (p - o) ** 2).sum() / total),
        reliability=float((wg * (values - og) ** 2).sum() / total),
        resolution=float((wg * (og - base) ** 2).sum() / total),
        uncertainty=float(base * (1.0 - base)),
    )
