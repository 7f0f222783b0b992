"""Forecasts of numeric and date questions: a CDF on a fixed grid (SPEC §11).

A question's range `[lo, hi]` carries the grid `x_k = lo + k·(hi − lo)/200`, k = 0..200
(dates in seconds since the epoch). A forecast is `F_k = P(X ≤ x_k)`, linear between grid
points; `validate_cdf` checks §11's rules exactly, `quantiles_to_cdf` turns a few
quantiles into such a CDF, `encode` / `decode` are its stored form and `decode_many`
reads many stored forms into one array.

Storage keeps what was submitted, exactly (SPEC §8: numbers are full precision). A CDF
whose every value is a multiple of 2**-24 (`f · 2**24` an integer) is stored as 201
little-endian float32, 804 bytes: float32 holds every such number in [0, 1] exactly. Any
other valid CDF is stored as 201 little-endian float64, 1608 bytes, unchanged. So
`decode(encode(f))` is `f` for every valid `f`, and re-encoding gives the same bytes;
`decode` tells the two forms apart by their length.

CDFs the server makes itself from friendlier input, by `quantiles_to_cdf` (the web form
and its editor, the API's `quantiles`, the demo), are put on the 2**-24 grid by `snap`,
so that they take 804 bytes; a CDF given value by value (the API's `cdf`, bundles) is
kept as given. Snapping could break §11's exact limits (F_0 = 0.999 or a bucket of
exactly 5e-5 have no float32 at or inside the limit), so `snap` rounds to the nearest
multiple and then repairs, in integer units of 2**-24: the open bounds are clamped into
[ceil(0.001·2**24), floor(0.999·2**24)], every bucket is raised to at least
ceil(5e-5·2**24) units by a forward pass, and a backward pass from the top (exactly
2**24 when the upper bound is closed, at most the clamp when open) lowers what the
forward pass pushed too high. The result always passes `validate_cdf` (its float64
differences are exact), and moves no value by more than about 2e-6 (30 units, when
nearly every bucket sits at the 5e-5 minimum); usually by under 6e-8.

One million forecasts take 804 MB of CDF when they are snapped, 1608 MB when given off
the grid.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from itertools import compress

import numpy as np

from forecasts.errors import InvalidInput
from forecasts.numbers import finite_number

BUCKETS = 200
POINTS = BUCKETS + 1
MIN_BUCKET = 5e-5  # the least probability of any bucket [x_k, x_{k+1})
OPEN_MIN = 0.001  # F_0 on an open lower bound is at least this ...
OPEN_MAX = 0.999  # ... and F_0, F_200 on an open side at most this
ENCODED_BYTES = POINTS * 4  # a CDF on the 2**-24 grid, as float32
EXACT_BYTES = POINTS * 8  # any other CDF, as float64

# quantiles_to_cdf gives every bucket at least this, a margin over MIN_BUCKET that float
# rounding in its sums cannot eat.
MIX_BUCKET = 1.02 * MIN_BUCKET
# Quantiles must span at least this much probability: §11 needs 200·5e-5 = 1% inside.
MIN_QUANTILE_SPAN = 0.02

_UNIT_BITS = 24
_UNITS = 1 << _UNIT_BITS  # 1.0 in storage units
_MIN_STEP_UNITS = math.ceil(Fraction(MIN_BUCKET) * _UNITS)
_OPEN_MIN_UNITS = math.ceil(Fraction(OPEN_MIN) * _UNITS)
_OPEN_MAX_UNITS = math.floor(Fraction(OPEN_MAX) * _UNITS)
_K = np.arange(POINTS, dtype=np.int64)


def grid(lo: float, hi: float) -> np.ndarray:
    """The 201 grid points `x_k = lo + k·(hi − lo)/200`, with `x_200 = hi` exactly."""
    lo, hi = _range(lo, hi)
    x = lo + np.arange(POINTS, dtype=np.float64) * (hi - lo) / BUCKETS
    x[-1] = hi
    return x


def validate_cdf(values: Sequence[float] | np.ndarray, *, open_lower: bool, open_upper: bool,
                 where: str = "cdf") -> np.ndarray:
    """`values` as a float64 array if it is a CDF SPEC §11 accepts, else InvalidInput naming
    the first index at fault (`where[k]`) and the rule it breaks.

    Rules: 201 finite numbers in [0, 1]; non-decreasing, each bucket F_{k+1} − F_k ≥ 5e-5;
    F_0 = 0 when the lower bound is closed, else 0.001 ≤ F_0 ≤ 0.999; F_200 = 1 when the
    upper bound is closed, else F_200 ≤ 0.999 (F_200 ≥ F_0 follows from the buckets).
    Comparisons are exact in float64; nothing is rounded or normalised.
    """
    f = _numbers(values, where)
    if open_lower:
        if not OPEN_MIN <= f[0] <= OPEN_MAX:
            raise InvalidInput(f"F_0 = {float(f[0])!r} must be between {OPEN_MIN} and {OPEN_MAX} "
                               "(the lower bound is open)", where=f"{where}[0]")
    elif f[0] != 0.0:
        raise InvalidInput(f"F_0 = {float(f[0])!r} must be 0 (the lower bound is closed)",
                           where=f"{where}[0]")
    outside = np.flatnonzero((f < 0.0) | (f > 1.0))
    if outside.size:
        k = int(outside[0])
        raise InvalidInput(f"F_{k} = {float(f[k])!r} is not a probability between 0 and 1",
                           where=f"{where}[{k}]")
    steps = np.diff(f)
    small = np.flatnonzero(steps < MIN_BUCKET)
    if small.size:
        k = int(small[0]) + 1
        if steps[k - 1] < 0:
            raise InvalidInput(f"F_{k} = {float(f[k])!r} is below F_{k - 1} = {float(f[k - 1])!r}: "
                               "a CDF never decreases", where=f"{where}[{k}]")
        raise InvalidInput(f"the bucket F_{k} − F_{k - 1} = {float(steps[k - 1])!r} is below the "
                           f"minimum {MIN_BUCKET}", where=f"{where}[{k}]")
    last = BUCKETS
    if open_upper:
        if f[last] > OPEN_MAX:
            raise InvalidInput(f"F_{last} = {float(f[last])!r} must be at most {OPEN_MAX} "
                               "(the upper bound is open)", where=f"{where}[{last}]")
    elif f[last] != 1.0:
        raise InvalidInput(f"F_{last} = {float(f[last])!r} must be 1 (the upper bound is closed)",
                           where=f"{where}[{last}]")
    return f


def encode(cdf: Sequence[float] | np.ndarray) -> bytes:
    """The stored form of a valid CDF, keeping its values exactly (module docstring):
    804 bytes of float32 when every value is a multiple of 2**-24, else 1608 of float64.

    Which bounds are open is read off the CDF itself (F_0 = 0 only on a closed lower
    bound, F_200 = 1 only on a closed upper one); a CDF valid for neither reading is
    rejected as `validate_cdf` would.
    """
    f = _checked(cdf)
    scaled = f * _UNITS  # exact: a power of two
    if np.array_equal(scaled, np.rint(scaled)):
        return f.astype("<f4").tobytes()  # exact: 24 bits of mantissa suffice in [0, 1]
    return f.astype("<f8").tobytes()


def snap(cdf: Sequence[float] | np.ndarray) -> np.ndarray:
    """A valid CDF moved onto the 2**-24 grid, as float64: still valid for the same
    bounds, each value within about 2e-6 of the given one (module docstring), so that
    `encode` stores it in 804 bytes. Values already on the grid are kept. Rejects an
    invalid CDF as `encode` does."""
    f = _checked(cdf)
    units = np.rint(f * _UNITS).astype(np.int64)  # f * 2**24 is exact
    open_upper = units[-1] != _UNITS
    if units[0] != 0:
        units[0] = min(max(units[0], _OPEN_MIN_UNITS), _OPEN_MAX_UNITS)
    step = _K * _MIN_STEP_UNITS
    raised = np.maximum.accumulate(units - step) + step
    top = min(int(raised[-1]), _OPEN_MAX_UNITS) if open_upper else _UNITS
    stored = np.minimum(raised, top - (BUCKETS - _K) * _MIN_STEP_UNITS)
    return stored.astype(np.float64) / _UNITS


def decode(data: bytes) -> np.ndarray:
    """The CDF stored by `encode`, as float64 (exactly the stored values); the form is
    told by the length, 804 or 1608 bytes (ValueError otherwise)."""
    size = len(data)
    if size == ENCODED_BYTES:
        return np.frombuffer(data, dtype="<f4").astype(np.float64)
    if size == EXACT_BYTES:
        return np.frombuffer(data, dtype="<f8").astype(np.float64)
    raise ValueError(f"a stored CDF has {ENCODED_BYTES} or {EXACT_BYTES} bytes, not {size}")


def decode_many(blobs: Sequence[bytes]) -> np.ndarray:
    """Many stored CDFs (each as `encode` made it) as one (n, 201) array, row i being
    `decode(blobs[i])` exactly.

    When every blob has 804 bytes (CDFs on the 2**-24 grid, the usual case) this is the
    float32 view of their joined bytes, read-only, with no work per row beyond the join;
    when every one has 1608, the float64 view likewise. Otherwise it is float64, filled
    group-wise: the float32 rows from one joined buffer, the float64 rows from another.
    ValueError names the first blob of another length.
    """
    n = len(blobs)
    sizes = np.fromiter(map(len, blobs), np.int64, n)
    small = sizes == ENCODED_BYTES
    if small.all():
        return np.frombuffer(b"".join(blobs), "<f4").reshape(n, POINTS)
    if (sizes == EXACT_BYTES).all():
        return np.frombuffer(b"".join(blobs), "<f8").reshape(n, POINTS)
    bad = np.flatnonzero(~small & (sizes != EXACT_BYTES))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"stored CDF {i} has {int(sizes[i])} bytes, not {ENCODED_BYTES} "
                         f"or {EXACT_BYTES}")
    out = np.empty((n, POINTS), np.float64)
    out[small] = np.frombuffer(b"".join(compress(blobs, small.tolist())),
                               "<f4").reshape(-1, POINTS)
    out[~small] = np.frombuffer(b"".join(compress(blobs, (~small).tolist())),
                                "<f8").reshape(-1, POINTS)
    return out


def canonical(cdf: Sequence[float] | np.ndarray) -> np.ndarray:
    """The values a CDF will have once stored, `decode(encode(cdf))`: the CDF itself as
    float64 (storage is exact), after the checks `encode` makes."""
    return decode(encode(cdf))


def quantiles_to_cdf(quantiles: Mapping[float, float], lo: float, hi: float,
                     open_lower: bool, open_upper: bool, *,
                     where: str = "quantiles") -> np.ndarray:
    """A CDF on the grid of `[lo, hi]` through a few quantiles `{probability: value}`.

    Input: at least two quantiles, probabilities in [0.001, 0.999] spanning at least 0.02,
    values increasing with the probability, inside `[lo, hi]` (strictly inside on a closed
    side). Method: the continuous CDF G is σ(ℓ(x)) with ℓ the piecewise-linear interpolation
    of the points (value, logit p), so G passes through every quantile; beyond the outer
    quantiles ℓ goes on with the slope of the nearest segment (a logistic tail) on an open
    side, and on a closed side G instead falls linearly to 0 at `lo` (rises to 1 at `hi`).
    F_k = G(x_k), clipped to [0.001, 0.999] on open sides. If a bucket holds less than
    1.02·5e-5, the interior is mixed with the uniform spread of the same mass,
    F ← (1 − ε)F + ε·U, with the least ε that lifts every bucket to 1.02·5e-5; F_0 and
    F_200 are unchanged, and ε ≤ 200·1.02·5e-5 / (p_max − p_min) (1.3% for 0.1/0.9).
    Last, the values are put on the 2**-24 grid by `snap` (so they are stored in 804
    bytes). Its repair has nothing to do there beyond the clamps of open ends: buckets of
    at least 1.02·5e-5 stay above the 5e-5 minimum after rounding, with 15 units of 2**-24
    to spare each. So snapping moves each value by less than δ = 2**-24 (6e-8).

    How close the result stays: before mixing, the grid values either side of each
    quantile's value v bracket its probability p (G is increasing and passes through
    (v, p)); mixing moves no value by more than ε, snapping by δ. So for each quantile,
    with F linear between grid points and h = (hi − lo)/200 the grid step,
    F(v − h) ≤ p + ε + δ and F(v + h) ≥ p − ε − δ: its quantile is within one grid step
    of v, up to ε + δ in probability. Nothing closer can be promised, as the grid cannot
    tell values within a cell apart.
    """
    lo, hi = _range(lo, hi)
    probs, vals = _quantiles(quantiles, lo, hi, open_lower, open_upper, where)
    x = grid(lo, hi)
    logits = np.log(probs) - np.log1p(-probs)
    g = _sigmoid(_extended_interp(x, vals, logits))
    if not open_lower:
        below = x < vals[0]
        g[below] = probs[0] * (x[below] - lo) / (vals[0] - lo)
    if not open_upper:
        above = x > vals[-1]
        g[above] = probs[-1] + (1 - probs[-1]) * (x[above] - vals[-1]) / (hi - vals[-1])
    g = np.clip(g, OPEN_MIN if open_lower else 0.0, OPEN_MAX if open_upper else 1.0)
    first = g[0] if open_lower else 0.0
    last = g[-1] if open_upper else 1.0
    mass = last - first  # ≥ p_max − p_min ≥ 0.02: every quantile lies in [lo, hi]
    buckets = np.diff(g)
    least = float(buckets.min())
    if least < MIX_BUCKET:
        even = mass / BUCKETS  # ≥ 1e-4 > MIX_BUCKET
        eps = (MIX_BUCKET - least) / (even - least)
        buckets = (1 - eps) * buckets + eps * even
    f = np.empty(POINTS)
    f[0] = first
    f[1:] = first + np.cumsum(buckets)
    f[-1] = last
    return snap(validate_cdf(f, open_lower=open_lower, open_upper=open_upper, where="cdf"))


def _checked(cdf: Sequence[float] | np.ndarray) -> np.ndarray:
    """`cdf` as float64 if valid for the bounds its ends imply (see `encode`)."""
    f = _numbers(cdf, "cdf")
    return validate_cdf(f, open_lower=f[0] != 0.0, open_upper=f[-1] != 1.0)


def _range(lo: float, hi: float) -> tuple[float, float]:
    lo = finite_number(lo, where="range.min")
    hi = finite_number(hi, where="range.max")
    if not lo < hi:
        raise InvalidInput(f"max {hi!r} must be above min {lo!r}", where="range")
    return lo, hi


def _numbers(values: Sequence[float] | np.ndarray, where: str) -> np.ndarray:
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu" and values.ndim == 1:
        f = values.astype(np.float64)
        bad = np.flatnonzero(~np.isfinite(f))
        if bad.size:
            k = int(bad[0])
            raise InvalidInput(f"{float(f[k])!r} is not a finite number", where=f"{where}[{k}]")
    else:
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise InvalidInput(f"must be a list of {POINTS} numbers", where=where)
        f = np.array([finite_number(v, where=f"{where}[{k}]") for k, v in enumerate(values)],
                     dtype=np.float64)
    if f.shape != (POINTS,):
        raise InvalidInput(f"must have {POINTS} values F_0..F_{BUCKETS}, not {len(f)}",
                           where=where)
    return f


def _quantiles(quantiles: Mapping[float, float], lo: float, hi: float, open_lower: bool,
               open_upper: bool, where: str) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(quantiles, Mapping) or len(quantiles) < 2:
        raise InvalidInput("needs at least two quantiles {probability: value}", where=where)
    points = []
    for p, v in quantiles.items():
        p = finite_number(p, where=f"{where}[{p!r}]")
        at = f"{where}[{p}]"
        if not OPEN_MIN <= p <= OPEN_MAX:
            raise InvalidInput(f"probability {p} must be between {OPEN_MIN} and {OPEN_MAX}",
                               where=at)
        v = finite_number(v, where=at)
        if v < lo or v > hi or (v == lo and not open_lower) or (v == hi and not open_upper):
            raise InvalidInput(f"value {v!r} must lie within the range [{lo!r}, {hi!r}]"
                               " (strictly inside on a closed side)", where=at)
        points.append((p, v))
    points.sort()
    for (p0, v0), (p1, v1) in zip(points, points[1:]):
        if not v1 > v0:
            raise InvalidInput(f"value {v1!r} must be above {v0!r}, the value of quantile "
                               f"{p0}: quantiles increase in value with probability",
                               where=f"{where}[{p1}]")
    probs = np.array([p for p, _ in points])
    if probs[-1] - probs[0] < MIN_QUANTILE_SPAN:
        raise InvalidInput(f"the quantiles' probabilities {probs[0]} to {probs[-1]} must "
                           f"span at least {MIN_QUANTILE_SPAN}", where=where)
    return probs, np.array([v for _, v in points])


def _extended_interp(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """Piecewise-linear interpolation through (xp, fp), continued beyond both ends with the
    slope of the end segment."""
    y = np.interp(x, xp, fp)
    left, right = x < xp[0], x > xp[-1]
    y[left] = fp[0] + (x[left] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    y[right] = fp[-1] + (x[right] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return y


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0)))
