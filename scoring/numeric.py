"""Scores of numeric and date forecasts (SPEC section 11), one row per forecast.

A forecast is a CDF on the grid x_k = lo + k (hi - lo) / 200, k = 0..200,
given as an (n, 201) float32 or float64 array, linear between grid points;
the mass below lo (F_0) sits at lo and the mass above hi (1 - F_200) at hi.
``lo`` and ``hi`` are scalars or one per row. All scores are exact: closed
forms per grid cell, no sampling (see ``_numeric_kernels``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as v
from ._numeric_kernels import GRID, crps_from_parts, quantiles, row_parts

_CHECK_ROWS = 1 << 11  # rows per chunk of the CDF check (and of central_interval)


def cdf_rows(name, cdf):
    """``cdf`` as an (n, 201) float32/float64 array (not copied when it already
    is one), every value finite, in [0, 1], non-decreasing along each row."""
    a = v._array(name, cdf, 2)
    if a.shape[1] != GRID + 1:
        raise ValueError(f"{name}: expected {GRID + 1} CDF values per row, got shape {a.shape}")
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected numbers, got dtype {a.dtype}")
    if a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float64)
    a = np.ascontiguousarray(a)
    # One pass over cache-sized chunks: range and steps of each chunk.
    step = np.empty((min(_CHECK_ROWS, a.shape[0]), GRID), dtype=a.dtype)
    for lo in range(0, a.shape[0], _CHECK_ROWS):
        block = a[lo:lo + _CHECK_ROWS]
        steps = step[:block.shape[0]]
        np.subtract(block[:, 1:], block[:, :-1], out=steps)
        if not (block.min() >= 0.0 and block.max() <= 1.0 and steps.min() >= 0.0):
            _fail_cdf(name, a)  # NaN fails every comparison
    return a


def _fail_cdf(name, a):
    """Raise for the first value out of [0, 1] anywhere, else the first decrease."""
    bad = ~((a >= 0.0) & (a <= 1.0))
    if bad.any():
        v.fail_at(name, bad, a, "must be finite and in [0, 1]")
    first = int(np.flatnonzero((np.diff(a, axis=1) < 0.0).ravel())[0])
    row, col = divmod(first, GRID)
    raise ValueError(f"{name}[{row}]: the CDF decreases from position {col} "
                     f"({float(a[row, col])!r}) to {col + 1} ({float(a[row, col + 1])!r})")


def _inputs(cdf, y, lo, hi):
    """Validated (cdf, y, lo, hi), the last three float64 arrays of n rows."""
    rows, lo, hi = _rows_and_range(cdf, lo, hi)
    y = v.float_array("y", y)
    v.same_length("y", y, rows.shape[0], "the rows of cdf")
    return rows, y, lo, hi


def _rows_and_range(cdf, lo, hi):
    """Validated (cdf, lo, hi), lo and hi as float64 arrays of n rows."""
    rows = cdf_rows("cdf", cdf)
    n = rows.shape[0]
    bounds = []
    for name, x in (("lo", lo), ("hi", hi)):
        scalar = np.ndim(x) == 0
        b = v.float_array(name, np.reshape(x, -1) if scalar else x, ndim=None)
        if scalar:
            b = np.full(n, b[0])
        elif b.ndim != 1:
            raise ValueError(f"{name}: expected a number or one per row, got shape {b.shape}")
        v.same_length(name, b, n, "the rows of cdf")
        bounds.append(b)
    lo, hi = bounds
    if (hi <= lo).any():
        v.fail_at("hi", hi <= lo, hi, "must be greater than lo")
    return rows, lo, hi


def crps(cdf, y, lo, hi):
    """CRPS of each forecast, normalised by the range (SPEC section 11):
    (int_lo^hi (F(x) - [x >= y])^2 dx + dist(y, [lo, hi])) / (hi - lo).

    Matheson and Winkler (1976); Gneiting and Raftery (2007), eq. 20. Exact
    for the piecewise-linear CDF: per cell the integral of a squared linear
    function, the cell holding y split at y. 0 for a perfect point forecast.
    """
    rows, y, lo, hi = _inputs(cdf, y, lo, hi)
    q, tail, _, _, const = row_parts(rows, y, lo, hi)
    return crps_from_parts(q, tail, const)


def bucket_probability(cdf, y, lo, hi):
    """p_b: the probability of the bucket holding y (SPEC section 11): bucket k
    is [x_k, x_{k+1}) (the last includes hi), p_b = F_{k+1} - F_k; F_0 below
    lo, 1 - F_200 above hi."""
    rows, y, lo, hi = _inputs(cdf, y, lo, hi)
    return row_parts(rows, y, lo, hi)[2]


def bucket_log(cdf, y, lo, hi):
    """Bucket log score of each forecast: -ln p_b (natural log; SPEC section 11).

    Raises when a forecast gives the outcome's bucket probability 0.
    """
    p = bucket_probability(cdf, y, lo, hi)
    if (p <= 0.0).any():
        v.fail_at("cdf", p <= 0.0, p, "gives the outcome's bucket probability 0 "
                  "(the log score is infinite)")
    return -np.log(p)


def pit(cdf, y, lo, hi):
    """Probability integral transform F(y) of each forecast (Dawid 1984):
    linear between grid points, 0 below lo and 1 above hi. Calibrated
    forecasts have uniform PIT values (SPEC section 11)."""
    rows, y, lo, hi = _inputs(cdf, y, lo, hi)
    return row_parts(rows, y, lo, hi)[3]


def central_interval(cdf, lo, hi, level):
    """Central interval [Q((1 - level)/2), Q((1 + level)/2)] of each forecast,
    Q(p) = inf {x : F(x) >= p} found by inverting the piecewise-linear CDF
    (lo when F_0 >= p; hi when F_200 < p). Returns (low, high) arrays."""
    rows, lo, hi = _rows_and_range(cdf, lo, hi)
    return _central(rows, lo, hi, v.unit_interval("level", level))


def _central(rows, lo, hi, level):
    """``central_interval`` of validated rows, in chunks that bound memory."""
    out = []
    for p in ((1.0 - level) / 2.0, (1.0 + level) / 2.0):
        part = [quantiles(rows[s:s + _CHECK_ROWS], p, lo[s:s + _CHECK_ROWS],
                          hi[s:s + _CHECK_ROWS]) for s in range(0, rows.shape[0], _CHECK_ROWS)]
        out.append(np.concatenate(part) if part else np.zeros(0))
    return out[0], out[1]


@dataclass(frozen=True, eq=False)
class Coverage:
    """Weighted share of outcomes inside each forecast's central interval."""

    level: float
    covered: np.ndarray   # bool[n]: low <= y <= high
    rate: float           # sum(weight * covered) / sum(weight), NaN when the weight is 0
    weight: float         # the total weight


def _weights(weight, n, what):
    if weight is None:
        return np.ones(n)
    w = v.float_array("weight", weight)
    v.same_length("weight", w, n, what)
    if (w < 0).any():
        v.fail_at("weight", w < 0, w, "must be >= 0")
    return w


def interval_coverage(cdf, y, lo, hi, weight=None, level=0.9) -> Coverage:
    """Coverage of the central ``level`` interval (SPEC section 11: 50% and
    90%): the weighted share of forecasts with Q((1 - level)/2) <= y <=
    Q((1 + level)/2). ``weight`` as in SPEC section 6 (each standing
    forecast's share of its user's window); default 1 each."""
    rows, y, lo, hi = _inputs(cdf, y, lo, hi)
    w = _weights(weight, rows.shape[0], "the rows of cdf")
    level = v.unit_interval("level", level)
    low, high = _central(rows, lo, hi, level)
    covered = (low <= y) & (y <= high)
    total = float(w.sum())
    rate = float((w * covered).sum() / total) if total > 0 else float("nan")
    return Coverage(level=level, covered=covered, rate=rate, weight=total)


@dataclass(frozen=True, eq=False)
class PitHistogram:
    """Weighted PIT histogram over bins [0, 1/n), ..., [(n-1)/n, 1]."""

    bin_low: np.ndarray   # float64[bins]
    bin_high: np.ndarray  # float64[bins]
    weight: np.ndarray    # float64[bins] total weight per bin
    density: np.ndarray   # weight / (total weight * bin width): 1 everywhere when uniform


def pit_histogram(pit_values, weight=None, bins=10) -> PitHistogram:
    """Weighted histogram of PIT values in ``bins`` equal bins of [0, 1] (the
    last one closed); uniform for calibrated forecasts (SPEC section 11)."""
    p = v.float_array("pit_values", pit_values)
    bad = (p < 0.0) | (p > 1.0)
    if bad.any():
        v.fail_at("pit_values", bad, p, "must be in [0, 1]")
    w = _weights(weight, p.size, "pit_values")
    bins = v.positive_int("bins", bins)
    edges = np.arange(bins + 1) / bins
    b = np.minimum(np.searchsorted(edges, p, side="right") - 1, bins - 1)
    total = np.bincount(b, weights=w, minlength=bins)
    whole = total.sum()
    density = total * bins / whole if whole > 0 else np.full(bins, np.nan)
    return PitHistogram(bin_low=edges[:-1], bin_high=edges[1:], weight=total, density=density)
