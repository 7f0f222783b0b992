"""scoring.paired_bootstrap against a slow scalar implementation, its properties and
its validation."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import scoring
from scoring import compare


def scalar_bootstrap(diff, n, seed, level=0.9):
    """Resample by resample, one index at a time, and the quantiles by hand."""
    rng = np.random.default_rng(seed)
    m = len(diff)
    means = []
    for _ in range(n):
        idx = rng.integers(0, m, size=m)
        total = 0.0
        for i in idx:
            total += float(diff[int(i)])
        means.append(total / m)
    means.sort()

    def quantile(q):  # numpy's default: linear between order statistics
        pos = q * (n - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, n - 1)
        return means[lo] + (pos - lo) * (means[hi] - means[lo])

    return sum(diff) / m, quantile((1 - level) / 2), quantile((1 + level) / 2)


def test_hand_worked_case():
    # One question: every resample is it, so the interval is the point.
    assert scoring.paired_bootstrap([0.25], 50, 1) == (0.25, 0.25, 0.25)
    # Equal differences: no spread either.
    assert scoring.paired_bootstrap([-0.1] * 7, 20, 3) == pytest.approx((-0.1, -0.1, -0.1))


@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=30),
       st.integers(1, 120), st.integers(0, 2**32), st.sampled_from([0.5, 0.8, 0.9, 0.95]))
@settings(max_examples=80, deadline=None)
def test_against_the_scalar_implementation(diff, n, seed, level):
    got = scoring.paired_bootstrap(np.array(diff), n, seed, level)
    want = scalar_bootstrap(diff, n, seed, level)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)
    assert got[1] <= got[2]
    assert min(diff) - 1e-12 <= got[1] and got[2] <= max(diff) + 1e-12


def test_chunks_do_not_change_the_result(monkeypatch):
    diff = np.random.default_rng(0).normal(size=40)
    whole = scoring.paired_bootstrap(diff, 500, 9)
    monkeypatch.setattr(compare, "_CHUNK_CELLS", 100)  # two resamples a chunk
    assert scoring.paired_bootstrap(diff, 500, 9) == whole


def test_interval_covers_a_clear_difference_and_narrows_with_more_questions():
    rng = random.Random(5)
    small = [rng.gauss(-0.05, 0.1) for _ in range(20)]
    large = [rng.gauss(-0.05, 0.1) for _ in range(2000)]
    _, lo_s, hi_s = scoring.paired_bootstrap(small, 2000, 1)
    mean, lo, hi = scoring.paired_bootstrap(large, 2000, 1)
    assert hi < 0 and lo < mean < hi  # 2000 questions: the interval excludes zero
    assert hi - lo < (hi_s - lo_s) / 5


@pytest.mark.parametrize("kwargs, message", [
    ({"diff": []}, "diff: need at least one"),
    ({"diff": [[0.1, 0.2]]}, "diff: expected a 1-D array"),
    ({"diff": [0.1, float("nan")]}, r"diff\[1\] = nan: must be finite"),
    ({"diff": ["a"]}, "diff: expected numbers"),
    ({"diff": [0.1], "n": 0}, "n: must be >= 1"),
    ({"diff": [0.1], "n": 2.5}, "n: expected an integer"),
    ({"diff": [0.1], "seed": -1}, "seed: must be >= 0"),
    ({"diff": [0.1], "level": 1.0}, "level: must be strictly between 0 and 1"),
    ({"diff": [0.1], "level": "x"}, "level: expected a number"),
])
def test_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        scoring.paired_bootstrap(**kwargs)
