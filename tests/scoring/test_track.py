"""Track-record figures against slow scalar implementations."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from scoring import track
from scoring.track import (HORIZON_EDGES_DAYS, HORIZON_LABELS, auc_interval,
                           horizon_bins, rolling_mean, weighted_auc)

DAY = 86400.0


def slow_auc(p, y, w):
    num = 0.0
    for i in range(len(p)):
        if not y[i]:
            continue
        for j in range(len(p)):
            if y[j]:
                continue
            num += w[i] * w[j] * ((p[i] > p[j]) + 0.5 * (p[i] == p[j]))
    pos = sum(w[i] for i in range(len(p)) if y[i])
    neg = sum(w[i] for i in range(len(p)) if not y[i])
    return num / (pos * neg) if pos * neg > 0 else math.nan


def slow_rolling(t, x, win):
    means, counts = [], []
    for ti in t:
        sel = [x[j] for j in range(len(t)) if ti - win < t[j] <= ti]
        means.append(sum(sel) / len(sel))
        counts.append(len(sel))
    return means, counts


def slow_bins(h, b, w, g):
    edges = [0.0] + [e * DAY for e in HORIZON_EDGES_DAYS] + [math.inf]
    out = []
    for k in range(4):
        idx = [i for i in range(len(h)) if edges[k] <= h[i] < edges[k + 1]]
        ws = sum(w[i] for i in idx)
        mean = sum(w[i] * b[i] for i in idx) / ws if ws > 0 else math.nan
        out.append((mean, len(idx), len({g[i] for i in idx})))
    return out


# Probabilities on a coarse grid so ties are common.
probs = st.integers(0, 10).map(lambda k: k / 10)
rows = st.lists(st.tuples(probs, st.booleans(), st.integers(0, 5).map(float)),
                max_size=25)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_auc_matches_double_loop(data):
    p = [r[0] for r in data]
    y = [r[1] for r in data]
    w = [r[2] for r in data]
    got = weighted_auc(p, y, w)
    want = slow_auc(p, y, w)
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(want, abs=1e-12)


def test_auc_hand_cases():
    assert weighted_auc([0.9, 0.1], [1, 0], [1, 1]) == 1.0
    assert weighted_auc([0.1, 0.9], [1, 0], [1, 1]) == 0.0
    assert weighted_auc([0.5, 0.5], [1, 0], [1, 1]) == 0.5
    # pos 0.8 (w 2), 0.4 (w 1); neg 0.6 (w 1), 0.4 (w 3):
    # (2*1 + 2*3 + 1*0 + 1*3*0.5) / (3 * 4) = 9.5 / 12
    assert weighted_auc([0.8, 0.4, 0.6, 0.4], [1, 1, 0, 0], [2, 1, 1, 3]) == pytest.approx(9.5 / 12)
    assert math.isnan(weighted_auc([0.3, 0.7], [1, 1], [1, 1]))
    assert math.isnan(weighted_auc([0.3, 0.7], [1, 0], [0, 1]))
    assert math.isnan(weighted_auc([], [], []))


def slow_interval(p, y, w, group, n, seed, level):
    """Same resampling draws, one resample at a time."""
    p, y, w, group = map(np.asarray, (p, y, w, group))
    ids = np.unique(group)
    rng = np.random.default_rng(seed)
    aucs = []
    for _ in range(n):
        draws = rng.integers(0, ids.size, size=ids.size)
        mult = [int((draws == k).sum()) for k in range(ids.size)]
        ww = [w[i] * mult[int(np.searchsorted(ids, group[i]))] for i in range(len(p))]
        a = slow_auc(list(p), list(y), ww)
        if not math.isnan(a):
            aucs.append(a)
    lo, hi = np.quantile(aucs, [(1 - level) / 2, (1 + level) / 2])
    return slow_auc(list(p), list(y), list(w)), lo, hi


@settings(max_examples=20, deadline=None)
@given(st.lists(st.tuples(probs, st.booleans(), st.integers(1, 3).map(float),
                          st.integers(0, 4)), min_size=4, max_size=12),
       st.integers(0, 2**31))
def test_interval_matches_slow_resampling(data, seed):
    p, y, w, g = (list(c) for c in zip(*data))
    if all(y) or not any(y):
        y[0] = not y[1]
    got = auc_interval(p, y, w, g, n=30, seed=seed)
    want = slow_interval(p, y, w, g, 30, seed, 0.9)
    assert got == pytest.approx(want, abs=1e-12)


def test_interval_properties():
    rng = np.random.default_rng(1)
    y = rng.random(400) < 0.5
    p = np.clip(0.5 + 0.3 * (y - 0.5) + 0.2 * rng.standard_normal(400), 0, 1)
    g = rng.integers(0, 60, 400)
    w = rng.random(400)
    auc, lo, hi = auc_interval(p, y, w, g, n=300, seed=3)
    assert auc == pytest.approx(weighted_auc(p, y, w))
    assert lo < auc < hi
    assert 0.5 < lo
    assert auc_interval(p, y, w, g, n=300, seed=3) == (auc, lo, hi)
    # Chunking does not change the draws' results.
    old = track._CHUNK_CELLS
    track._CHUNK_CELLS = 1000
    try:
        assert auc_interval(p, y, w, g, n=300, seed=3) == pytest.approx((auc, lo, hi))
    finally:
        track._CHUNK_CELLS = old
    a, l2, h2 = auc_interval([0.2, 0.4], [1, 1], [1, 1], [0, 1])
    assert math.isnan(a) and math.isnan(l2) and math.isnan(h2)


sorted_times = st.lists(st.integers(0, 30), max_size=30).map(sorted)


@settings(max_examples=60, deadline=None)
@given(sorted_times, st.integers(1, 12), st.data())
def test_rolling_matches_scan(t, win, data):
    x = data.draw(st.lists(st.floats(-10, 10), min_size=len(t), max_size=len(t)))
    mean, count = rolling_mean(t, x, win)
    want_mean, want_count = slow_rolling(t, x, win)
    assert list(count) == want_count
    assert np.allclose(mean, want_mean, atol=1e-9)


def test_rolling_hand_case():
    mean, count = rolling_mean([0, 1, 1, 5], [1.0, 2.0, 4.0, 8.0], 2)
    assert list(count) == [1, 3, 3, 1]
    assert list(mean) == [1.0, 7 / 3, 7 / 3, 8.0]
    m, c = rolling_mean([], [], 90)
    assert m.size == 0 and c.size == 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, 6.99, 7, 20, 28, 50, 91, 200]),
                          st.floats(0, 1), st.integers(0, 3).map(float),
                          st.integers(0, 5)), max_size=30))
def test_bins_match_scan(data):
    h = [r[0] * DAY for r in data]
    b = [r[1] for r in data]
    w = [r[2] for r in data]
    g = [r[3] for r in data]
    got = horizon_bins(h, b, w, g)
    want = slow_bins(h, b, w, g)
    assert got.labels == HORIZON_LABELS
    for k in range(4):
        m, n, q = want[k]
        assert got.forecasts[k] == n and got.questions[k] == q
        if math.isnan(m):
            assert math.isnan(got.mean_brier[k])
        else:
            assert got.mean_brier[k] == pytest.approx(m)


def test_bins_hand_case():
    r = horizon_bins([0, 6 * DAY, 7 * DAY, 100 * DAY], [0.1, 0.3, 0.5, 0.2],
                     [1, 3, 1, 1], [1, 1, 2, 3])
    assert list(r.forecasts) == [2, 1, 0, 1]
    assert list(r.questions) == [1, 1, 0, 1]
    assert r.mean_brier[0] == pytest.approx((0.1 + 0.9) / 4)
    assert r.mean_brier[1] == 0.5 and math.isnan(r.mean_brier[2])


@pytest.mark.parametrize("call, match", [
    (lambda: weighted_auc([0.5, 1.2], [1, 0], [1, 1]), r"p\[1\]"),
    (lambda: weighted_auc([0.5, 0.2], [1, 2], [1, 1]), r"y\[1\]"),
    (lambda: weighted_auc([0.5, 0.2], [1, 0], [1, -1]), r"w\[1\]"),
    (lambda: weighted_auc([0.5, 0.2], [1, 0], [1]), r"w: length"),
    (lambda: weighted_auc([0.5, float("nan")], [1, 0], [1, 1]), r"p\[1\]"),
    (lambda: auc_interval([0.5, 0.2], [1, 0], [1, 1], [0.5, 1]), r"group"),
    (lambda: auc_interval([0.5, 0.2], [1, 0], [1, 1], [0, 1], n=0), r"^n:"),
    (lambda: auc_interval([0.5, 0.2], [1, 0], [1, 1], [0, 1], level=1), r"level"),
    (lambda: rolling_mean([2, 1], [1, 1], 1), r"times\[1\]"),
    (lambda: rolling_mean([1, 2], [1], 1), r"values: length"),
    (lambda: rolling_mean([1, 2], [1, 1], 0), r"window"),
    (lambda: rolling_mean([1, 2], [1, 1], "x"), r"window"),
    (lambda: horizon_bins([-1], [0.1], [1], [0]), r"horizon_seconds\[0\]"),
    (lambda: horizon_bins([1], [0.1], [-1], [0]), r"weight\[0\]"),
    (lambda: horizon_bins([1], [0.1, 0.2], [1], [0]), r"brier: length"),
])
def test_validation(call, match):
    with pytest.raises(ValueError, match=match):
        call()
