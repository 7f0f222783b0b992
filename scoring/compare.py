"""Whether a difference is real: the paired bootstrap of a mean difference.

Used to compare two forecasters (or crowd aggregators) scored on the same
questions: ``diff[i]`` is the difference of their scores on question i, and
the questions, not the forecasts, are the units resampled.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v

# Resamples drawn at once: at most about this many indices in memory.
_CHUNK_CELLS = 1 << 22


def paired_bootstrap(diff, n: int = 1000, seed: int = 0, level: float = 0.9):
    """(mean, lo, hi): the mean of ``diff`` and its percentile bootstrap interval.

    Each of ``n`` resamples draws len(diff) questions with replacement
    (``numpy.random.default_rng(seed).integers``, resample after resample)
    and takes the mean of their differences; lo and hi are the
    (1 - level)/2 and (1 + level)/2 quantiles of those n means (numpy's
    default linear interpolation). Efron & Tibshirani (1993), "An
    Introduction to the Bootstrap", ch. 13. ``diff``: finite, at least one.
    """
    d = v.float_array("diff", diff)
    if d.size == 0:
        raise ValueError("diff: need at least one difference")
    n = v.positive_int("n", n)
    seed = v.positive_int("seed", seed, minimum=0)
    level = v.unit_interval("level", level)
    means = _resample_means(d, n, np.random.default_rng(int(seed)))
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(d.mean()), float(lo), float(hi)


def _resample_means(d, n, rng):
    """The means of ``n`` resamples of ``d``, drawn in chunks of whole resamples."""
    m = d.size
    per_chunk = max(1, _CHUNK_CELLS // m)
    out = np.empty(n)
    for lo in range(0, n, per_chunk):  # a loop over memory chunks
        hi = min(n, lo + per_chunk)
        idx = rng.integers(0, m, size=(hi - lo, m))
        out[lo:hi] = d[idx].mean(axis=1)
    return out
