"""The crowd aggregation seam (scoring.aggregate): hand-worked cases, a slow
scalar implementation of each aggregator on generated inputs, and the median
through the seam equal to the crowd as it was."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import scoring
from scoring import aggregate
from scoring._aggregators import weighted_medians
from scoring._kernels import stable_group_order
from scoring.crowd import question_rank
from scoring.data import flat_offsets
from scoring.events import build_events
from tests.scoring.strategies import bundles, random_bundle

EXAMPLES = settings(max_examples=200, deadline=None)


# --- the seam over every event of a bundle, in the engine's layout ----------

def seam_after_every_event(questions, forecasts, method):
    """{question: [crowd vector after each of its events in (time, record) order]}."""
    n_options = questions.n_options
    offsets = flat_offsets(n_options, forecasts)
    rank = question_rank(n_options, np.bincount(forecasts.question, minlength=len(questions)))
    key = rank[forecasts.question]
    order = stable_group_order(key)
    ev = build_events(order, key[order], forecasts.user, forecasts.at)
    seg_q = np.argsort(rank)[ev.seg_key]
    query = np.arange(ev.at.size)
    count, crowd = aggregate.crowd_matrix(ev, n_options[seg_q], forecasts.probs,
                                          offsets[ev.forecast], query, method=method)
    out = {}
    for s, q in enumerate(seg_q.tolist()):
        lo, hi = ev.seg_start[s], ev.seg_end[s]
        k = int(n_options[q])
        out[q] = [(int(n), row[:k].tolist()) for n, row in zip(count[lo:hi], crowd[lo:hi])]
        assert np.isnan(crowd[lo:hi, k:]).all()
    return out


# --- slow scalar implementations -------------------------------------------

def scalar_weighted_median(values, weights):
    """Mean of the first value whose cumulative weight is >= W/2 and the
    first whose cumulative weight is > W/2 (values sorted ascending)."""
    pairs = sorted(zip(values, weights), key=lambda vw: vw[0])
    total = 0.0
    for _, w in pairs:
        total += w
    half, cum, lower, upper = total / 2.0, 0.0, None, None
    for value, w in pairs:
        cum += w
        if lower is None and cum >= half:
            lower = value
        if upper is None and cum > half:
            upper = value
    return (lower + upper) / 2.0


def scalar_median(standing, k, a):
    vectors = [p for _, p in standing]
    if k == 2:
        ps = sorted(p[1] for p in vectors)
        n = len(ps)
        m = ps[n // 2] if n % 2 else (ps[n // 2 - 1] + ps[n // 2]) / 2.0
        return [1.0 - m, m]
    return [sum(p[j] for p in vectors) / len(vectors) for j in range(k)]


def scalar_recency_median(standing, k, a):
    """``standing``: (order of the latest update, vector) per forecaster."""
    by_time = sorted(standing, key=lambda tp: tp[0])
    n_all = len(by_time)
    weights = [1.0 if n_all <= 2 else math.exp(math.sqrt(n) - math.sqrt(n_all))
               for n in range(1, n_all + 1)]
    if k == 2:
        m = scalar_weighted_median([p[1] for _, p in by_time], weights)
        return [1.0 - m, m]
    raw = [scalar_weighted_median([p[j] for _, p in by_time], weights) for j in range(k)]
    return [x / sum(raw) for x in raw]


def scalar_extremized_mean(standing, k, a):
    vectors = [p for _, p in standing]
    n = len(vectors)
    if k == 2:
        z = a * sum(math.log(p[1]) - math.log(p[0]) for p in vectors) / n
        p_yes = 1.0 / (1.0 + math.exp(-z))
        return [1.0 - p_yes, p_yes]
    z = [a * sum(math.log(p[j]) for p in vectors) / n for j in range(k)]
    top = max(z)
    e = [math.exp(x - top) for x in z]
    return [x / sum(e) for x in e]


SCALAR = {"median": scalar_median, "recency_median": scalar_recency_median,
          "extremized_mean": scalar_extremized_mean}


def scalar_after_every_event(questions, forecasts, name, a=1.5):
    k_all = questions.n_options
    offsets = np.concatenate(([0], np.cumsum(k_all[forecasts.question])))
    out = {}
    for q in range(len(questions)):
        rows = [i for i in range(len(forecasts)) if forecasts.question[i] == q]
        rows.sort(key=lambda i: (int(forecasts.at[i]), i))
        standing, series = {}, []
        for order, i in enumerate(rows):
            standing[int(forecasts.user[i])] = (order, forecasts.probs[offsets[i]:offsets[i + 1]]
                                                .tolist())
            k = int(k_all[q])
            series.append((len(standing), SCALAR[name](list(standing.values()), k, a)))
        if rows:
            out[q] = series
    return out


def assert_series_close(got, want, tol):
    assert got.keys() == want.keys()
    for q in want:
        assert len(got[q]) == len(want[q])
        for (n_got, v_got), (n_want, v_want) in zip(got[q], want[q]):
            assert n_got == n_want
            assert v_got == pytest.approx(v_want, abs=tol, rel=tol), (q, v_got, v_want)


# --- hand-worked reference cases --------------------------------------------
# Each case: one question; forecasts (user, at, vector) in record order; the
# expected crowd after the last one.
#
# Recency weights w_n = exp(sqrt(n) - sqrt(N)), n = 1 the oldest:
#   N = 3: w = exp(1 - 1.7320508) = 0.4809550, exp(1.4142136 - 1.7320508) = 0.7277476, 1
#          total 2.2087026, half 1.1043513
#   N = 4: w = exp(-1) = 0.3678794, exp(-0.5857864) = 0.5566999,
#          exp(-0.2679492) = 0.7649180, 1; total 2.6894973, half 1.3447487
CASES = [
    # N <= 2 is unweighted: the mean of the two values.
    ("recency_median", 1.5, [(1, 0, [0.8, 0.2]), (2, 1, [0.4, 0.6])], [0.6, 0.4]),
    # N = 4, oldest to newest 0.1, 0.2, 0.8, 0.9 (already sorted by value):
    # cumulative 0.368, 0.925, 1.690 >= 1.345 at 0.8 (and > it): 0.8. Median: 0.5.
    ("recency_median", 1.5, [(1, 0, [0.9, 0.1]), (2, 1, [0.8, 0.2]), (3, 2, [0.2, 0.8]),
                             (4, 3, [0.1, 0.9])], [0.2, 0.8]),
    # The same, then user 1 reaffirms 0.1 and becomes the newest (weight 1):
    # by value 0.1 (w 1), 0.2 (w 0.368): cumulative 1.368 >= 1.345: 0.2.
    ("recency_median", 1.5, [(1, 0, [0.9, 0.1]), (2, 1, [0.8, 0.2]), (3, 2, [0.2, 0.8]),
                             (4, 3, [0.1, 0.9]), (1, 4, [0.9, 0.1])], [0.8, 0.2]),
    # Multiple choice, N = 3, oldest A, B, newest C:
    # option 0: C .1 (w 1) cum 1 < 1.104; B .2 cum 1.728 -> 0.2
    # option 1: A .3 (w .481), C .3 (w 1) cum 1.481 -> 0.3
    # option 2: A .1 (w .481), B .3 (w .728) cum 1.209 -> 0.3
    # raw (0.2, 0.3, 0.3), sum 0.8 -> (0.25, 0.375, 0.375)
    ("recency_median", 1.5, [(1, 0, [0.6, 0.3, 0.1]), (2, 1, [0.2, 0.5, 0.3]),
                             (3, 2, [0.1, 0.3, 0.6])], [0.25, 0.375, 0.375]),
    # Extremized: logit 0.8 = ln 4; 1.5 ln 4 = ln 8 -> 8/9.
    ("extremized_mean", 1.5, [(1, 0, [0.2, 0.8]), (2, 1, [0.2, 0.8])], [1 / 9, 8 / 9]),
    # mean logit of 0.5 and 0.8 = ln 2; a = 2: ln 4 -> 0.8.
    ("extremized_mean", 2.0, [(1, 0, [0.5, 0.5]), (2, 1, [0.2, 0.8])], [0.2, 0.8]),
    # a = 1.5: 2^1.5 = 2.8284271 -> 2.8284271 / 3.8284271 = 0.7387961.
    ("extremized_mean", 1.5, [(1, 0, [0.5, 0.5]), (2, 1, [0.2, 0.8])],
     [1 - 2 ** 1.5 / (1 + 2 ** 1.5), 2 ** 1.5 / (1 + 2 ** 1.5)]),
    # Multiple choice, a = 2: 2 * mean ln p = ln(.5 * .25), ln(.25 * .5), ln(.25 * .25)
    # -> (0.125, 0.125, 0.0625) / 0.3125 = (0.4, 0.4, 0.2).
    ("extremized_mean", 2.0, [(1, 0, [0.5, 0.25, 0.25]), (2, 1, [0.25, 0.5, 0.25])],
     [0.4, 0.4, 0.2]),
    # a = 1 is the normalised geometric mean: (sqrt .125, sqrt .125, .25) / 0.9571068.
    ("extremized_mean", 1.0, [(1, 0, [0.5, 0.25, 0.25]), (2, 1, [0.25, 0.5, 0.25])],
     [0.3693981, 0.3693981, 0.2612039]),
    # The median: binary (0.2, 0.6, 0.7) -> 0.6; multiple choice the mean vector.
    ("median", 1.5, [(1, 0, [0.8, 0.2]), (2, 1, [0.4, 0.6]), (3, 2, [0.3, 0.7])], [0.4, 0.6]),
    ("median", 1.5, [(1, 0, [0.6, 0.3, 0.1]), (2, 1, [0.2, 0.5, 0.3])], [0.4, 0.4, 0.2]),
]


@pytest.mark.parametrize("name, a, rows, want", CASES)
def test_reference_cases(name, a, rows, want):
    k = len(want)
    questions = scoring.Questions([0], [10], [10], [0], [k], [False])
    forecasts = scoring.Forecasts.from_vectors([0] * len(rows), [u for u, _, _ in rows],
                                               [t for _, t, _ in rows], [p for _, _, p in rows])
    got = seam_after_every_event(questions, forecasts, aggregate.aggregator(name, a=a))[0]
    assert got[-1][1] == pytest.approx(want, abs=1e-7)
    assert sum(got[-1][1]) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("values, weights, want", [
    ([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0], 2.5),  # cumulative 2 == W/2: midpoint
    ([1.0, 2.0, 3.0], [1.0, 2.0, 1.0], 2.0),            # cumulative 1, 3: 2 both ways
    ([1.0, 2.0, 3.0], [2.0, 1.0, 1.0], 1.5),            # cumulative 2 == W/2 at 1: (1 + 2)/2
    ([3.0, 1.0, 2.0], [1.0, 1.0, 5.0], 2.0),            # the heavy value wins
    ([5.0], [0.3], 5.0),
])
def test_weighted_median_ties(values, weights, want):
    width = 8  # padded as the kernel pads: +inf with weight 0
    v = np.full((1, width), np.inf)
    w = np.zeros((1, width))
    v[0, :len(values)] = values
    w[0, :len(weights)] = weights
    assert weighted_medians(v, w)[0] == want
    assert scalar_weighted_median(values, weights) == want


def test_aggregator_validation():
    with pytest.raises(ValueError, match="aggregator: 'mean' is not one of median"):
        aggregate.aggregator("mean")
    with pytest.raises(ValueError, match="a: the extremizing factor must be > 0"):
        aggregate.aggregator("extremized_mean", a=0.0)
    with pytest.raises(ValueError, match=r"a\[0\]"):
        aggregate.aggregator("extremized_mean", a=float("nan"))
    assert aggregate.aggregator("recency_median") == aggregate.Aggregator("recency_median", 1.5)


# --- against the scalar implementations -------------------------------------

@EXAMPLES
@given(bundles(max_forecasts=50))
def test_recency_median_matches_scalar(bundle):
    got = seam_after_every_event(*bundle, aggregate.aggregator("recency_median"))
    assert_series_close(got, scalar_after_every_event(*bundle, "recency_median"), 1e-12)


@EXAMPLES
@given(bundles(max_forecasts=50))
def test_extremized_mean_matches_scalar(bundle):
    method = aggregate.aggregator("extremized_mean", a=2.5)
    got = seam_after_every_event(*bundle, method)
    assert_series_close(got, scalar_after_every_event(*bundle, "extremized_mean", a=2.5), 1e-9)


@EXAMPLES
@given(bundles(max_forecasts=50))
def test_median_matches_scalar(bundle):
    got = seam_after_every_event(*bundle, aggregate.MEDIAN)
    assert_series_close(got, scalar_after_every_event(*bundle, "median"), 1e-12)


@pytest.mark.parametrize("name", ["recency_median", "extremized_mean", "median"])
def test_wide_questions_match_scalar(name, monkeypatch):
    # ~300 forecasts from 40 users per question: rows of width 64, several
    # memory chunks (shrunk), binary and multiple-choice questions together.
    from scoring import _aggregators
    monkeypatch.setattr(_aggregators, "_CHUNK_CELLS", 512)
    bundle = random_bundle(np.random.default_rng(5), 4, 1200, 40, kinds=(2, 3, 5))
    got = seam_after_every_event(*bundle, aggregate.aggregator(name))
    assert_series_close(got, scalar_after_every_event(*bundle, name), 1e-9)


@EXAMPLES
@given(bundles(max_forecasts=50))
def test_binary_rows_are_complements(bundle):
    for name in aggregate.AGGREGATORS:
        for series in seam_after_every_event(*bundle, aggregate.aggregator(name)).values():
            for _, vector in series:
                if len(vector) == 2:
                    assert vector[0] == 1.0 - vector[1]


# --- the median through the seam is today's crowd ---------------------------

@EXAMPLES
@given(bundles())
def test_median_seam_is_todays_crowd(bundle):
    questions, forecasts = bundle
    seam = seam_after_every_event(questions, forecasts, aggregate.MEDIAN)
    current = scoring.current_crowd(questions.n_options, forecasts)
    offsets = np.concatenate(([0], np.cumsum(questions.n_options[forecasts.question])))
    for q, series in seam.items():
        k = int(questions.n_options[q])
        assert current.n_forecasters[q] == series[-1][0]
        assert current.probs[q, :k].tolist() == series[-1][1]  # exactly
        rows = np.flatnonzero(forecasts.question == q)
        probs = np.stack([forecasts.probs[offsets[i]:offsets[i + 1]] for i in rows])
        times, crowd, count = scoring.crowd_series(forecasts.user[rows], forecasts.at[rows],
                                                   probs)
        order = sorted(range(rows.size), key=lambda i: (int(forecasts.at[rows[i]]), i))
        last = {}  # crowd_series reports the crowd after each distinct time
        for pos, i in enumerate(order):
            last[int(forecasts.at[rows[i]])] = series[pos]
        assert [n for n, _ in last.values()] == count.tolist()
        if k == 2:  # order statistics: exact in any layout
            assert [v for _, v in last.values()] == crowd.tolist()
        else:  # running sums round by layout (one question vs many), as before the seam
            np.testing.assert_allclose([v for _, v in last.values()], crowd, rtol=0, atol=1e-15)
        if k == 2:  # the binary median is exact: np.median of the standing P(yes)
            assert series[-1][1][1] == scalar_median([(0, p) for p in _latest(
                forecasts, rows, offsets)], 2, 0)[1]


def _latest(forecasts, rows, offsets):
    latest = {}
    for i in sorted(rows.tolist(), key=lambda i: (int(forecasts.at[i]), i)):
        latest[int(forecasts.user[i])] = forecasts.probs[offsets[i]:offsets[i + 1]].tolist()
    return list(latest.values())


@EXAMPLES
@given(bundles(max_questions=3).filter(lambda b: bool((b[0].n_options == 2).all())))
def test_all_binary_current_crowd_is_the_seams_last_crowd(bundle):
    """With only binary questions current_crowd reads the median off the latest forecasts
    directly; it must equal the seam's crowd after the last event, exactly."""
    questions, forecasts = bundle
    seam = seam_after_every_event(questions, forecasts, aggregate.MEDIAN)
    current = scoring.current_crowd(questions.n_options, forecasts)
    for q in range(len(questions.n_options)):
        if q in seam:
            assert current.n_forecasters[q] == seam[q][-1][0]
            assert current.probs[q].tolist() == seam[q][-1][1]
        else:
            assert current.n_forecasters[q] == 0 and np.isnan(current.probs[q]).all()


def test_all_binary_current_crowd_matches_np_median_of_the_latest():
    rng = np.random.default_rng(3)
    n, n_q = 5000, 7
    question = rng.integers(0, n_q - 1, n)  # the last question has no forecast
    user = rng.integers(0, 400, n)
    at = rng.integers(0, 50, n)  # many ties: the later record wins
    p = rng.choice(np.linspace(0.05, 0.95, 19), n)
    forecasts = scoring.Forecasts(question=question, user=user, at=at,
                                  probs=np.stack([1 - p, p], axis=1).ravel())
    current = scoring.current_crowd(np.full(n_q, 2), forecasts)
    for q in range(n_q):
        latest = {}
        for i in np.flatnonzero(question == q):
            u = int(user[i])
            if u not in latest or at[i] >= at[latest[u]]:
                latest[u] = i
        if not latest:
            assert current.n_forecasters[q] == 0 and np.isnan(current.probs[q]).all()
            continue
        median = float(np.median(p[list(latest.values())]))
        assert current.n_forecasters[q] == len(latest)
        assert current.probs[q].tolist() == [1.0 - median, median]
