"""Argument checks for the public functions.

Every failure raises ``ValueError`` whose message starts with the argument's
name and gives the first offending position.
"""

from __future__ import annotations

import numpy as np


def _position(mask: np.ndarray):
    """First true position of ``mask`` as an int or a tuple of ints."""
    flat = int(np.flatnonzero(mask.ravel())[0])
    if mask.ndim == 1:
        return flat
    return tuple(int(i) for i in np.unravel_index(flat, mask.shape))


def fail_at(name: str, mask: np.ndarray, values: np.ndarray, why: str):
    """Raise for the first true position of ``mask``."""
    pos = _position(mask)
    value = values[pos]
    raise ValueError(f"{name}[{pos}] = {getattr(value, 'item', lambda: value)()!r}: {why}")


def _array(name, x, ndim):
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nested lists, etc.
        raise ValueError(f"{name}: not an array ({exc})") from None
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {a.shape}")
    return a


def int_array(name, x, ndim=1):
    """``x`` as an int64 array; rejects floats, booleans, strings and objects."""
    a = _array(name, x, ndim)
    if a.size == 0 and a.dtype.kind in "fiub":
        return a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integers, got dtype {a.dtype}")
    if a.dtype.kind == "u" and a.size and a.max() > np.iinfo(np.int64).max:
        fail_at(name, a > np.iinfo(np.int64).max, a, "does not fit in int64")
    return np.ascontiguousarray(a, dtype=np.int64)


def bool_array(name, x, ndim=1):
    """``x`` as a bool array; accepts booleans and integer 0/1."""
    a = _array(name, x, ndim)
    if a.dtype.kind == "b" or a.size == 0:
        return np.ascontiguousarray(a, dtype=bool)
    if a.dtype.kind in "iu":
        bad = (a != 0) & (a != 1)
        if bad.any():
            fail_at(name, bad, a, "expected a boolean (0 or 1)")
        return a.astype(bool)
    raise ValueError(f"{name}: expected booleans, got dtype {a.dtype}")


def float_array(name, x, ndim=1, *, finite=True):
    """``x`` as a float64 array; rejects strings, objects and (by default) NaN/inf."""
    a = _array(name, x, ndim)
    if a.dtype.kind not in "fiub" or a.dtype.kind == "b" and a.size:
        raise ValueError(f"{name}: expected numbers, got dtype {a.dtype}")
    # No copy when x is already float64 and C-contiguous (the usual case).
    a = np.ascontiguousarray(a, dtype=np.float64)
    # NaN propagates through min and max and inf is their extreme, so one
    # min/max pair checks every element; the mask is built only to report.
    if finite and a.size and not (np.isfinite(a.min()) and np.isfinite(a.max())):
        fail_at(name, ~np.isfinite(a), a, "must be finite")
    return a


def probabilities(name, x, ndim=1):
    """``x`` as float64 probabilities, each finite and in (0, 1]."""
    a = float_array(name, x, ndim, finite=False)
    # One min/max pair: a NaN makes both NaN, which fails the comparisons.
    if a.size and not (a.min() > 0.0 and a.max() <= 1.0):
        fail_at(name, ~((a > 0.0) & (a <= 1.0)), a,
                "probabilities must be finite and in (0, 1]")
    return a


def in_range(name, a, low, high, why=None):
    """Check ``low <= a < high`` elementwise (``high`` may be an array)."""
    if not a.size:
        return
    if np.ndim(high) == 0 and a.dtype.kind in "iu":
        # Integers: the extremes decide, with no temporary arrays.
        if a.min() >= low and a.max() < high:
            return
    bad = (a < low) | (a >= high)
    if bad.any():
        fail_at(name, bad, a, why or f"must be in [{low}, {high})")


def same_length(name, a, n, what):
    """Check ``len(a) == n``."""
    if a.shape[0] != n:
        raise ValueError(f"{name}: length {a.shape[0]} does not match {what} ({n})")


def row_sums(name, probs, offsets, tol=1e-6):
    """Check that every row of a flat layout sums to 1 within ``tol``."""
    if offsets.size < 2:
        return
    sums = np.add.reduceat(probs, offsets[:-1])
    bad = np.abs(sums - 1.0) > tol
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: the probabilities of row {row} (positions "
            f"{offsets[row]}..{offsets[row + 1] - 1}) sum to {sums[row]!r}, not 1"
        )


def rect_row_sums(name, probs, tol=1e-6):
    """Check that every row of an (n, K) array sums to 1 within ``tol``; returns the sums."""
    n, k = probs.shape
    # Column by column (K short passes) beats reduceat or sum(axis=1) over short rows.
    sums = probs[:, 0].copy()
    for j in range(1, k):
        sums += probs[:, j]
    # |s - 1| is largest at the smallest or the largest sum.
    if n and max(abs(sums.min() - 1.0), abs(sums.max() - 1.0)) > tol:
        row = int(np.flatnonzero(np.abs(sums - 1.0) > tol)[0])
        raise ValueError(
            f"{name}: the probabilities of row {row} (positions "
            f"{row * k}..{row * k + k - 1}) sum to {sums[row]!r}, not 1"
        )
    return sums


def positive_int(name, x, minimum=1):
    """``x`` as a Python int >= ``minimum``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
        raise ValueError(f"{name}: expected an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name}: must be >= {minimum}, got {x!r}")
    return int(x)


def unit_interval(name, x):
    """``x`` as a float strictly between 0 and 1."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {x!r}") from None
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name}: must be strictly between 0 and 1, got {x!r}")
    return v
