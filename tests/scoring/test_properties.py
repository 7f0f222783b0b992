"""Properties of the scoring engine (SPEC sections 5 and 6): propriety of the
rules, bounds, zero-sum peer scores, coverage, the Murphy identity, Jeffreys
intervals, competition ranks and the seeded bootstrap."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from scipy.stats import beta

import scoring
from tests.scoring.strategies import bundles

SETTINGS = settings(max_examples=100, deadline=None)
METRICS = ("brier", "log", "peer", "coverage")


# --- propriety --------------------------------------------------------------

@st.composite
def distributions(draw, k):
    """A probability vector of length k, every entry positive."""
    raw = draw(st.lists(st.floats(1e-3, 1.0), min_size=k, max_size=k))
    p = np.asarray(raw)
    return p / p.sum()


@st.composite
def belief_and_forecast(draw):
    """(q, p): a true distribution and a forecast over the same K = 2..6 options."""
    k = draw(st.integers(2, 6))
    return draw(distributions(k)), draw(distributions(k))


def expected_score(rule, q, p):
    """E_{o ~ q} rule(p, o), from the per-forecast rule on one row per outcome."""
    k = q.size
    return float(q @ rule(np.tile(p, (k, 1)), np.arange(k)))


def is_proper(rule, q, p, tol=1e-12):
    """Whether forecasting ``q`` scores no worse in expectation under ``q``
    than forecasting ``p`` (negatively oriented rules: lower is better)."""
    return expected_score(rule, q, p) >= expected_score(rule, q, q) - tol


def absolute_error(probs, outcome):
    """sum_k |p_k - [k = o]| = 2 (1 - p_o): linear in p_o, hence improper."""
    probs = np.asarray(probs)
    hit = np.arange(probs.shape[1]) == np.asarray(outcome)[:, None]
    return np.abs(probs - hit).sum(axis=1)


PROPER_RULES = {"brier": scoring.brier_score, "log": scoring.log_score,
                "rps": scoring.rps_score}


@pytest.mark.parametrize("name", sorted(PROPER_RULES))
@SETTINGS
@given(qp=belief_and_forecast())
def test_rule_is_proper(name, qp):
    assert is_proper(PROPER_RULES[name], *qp)


def test_propriety_check_rejects_an_improper_rule():
    # The search the proper rules pass finds a counterexample for this rule.
    q, p = find(belief_and_forecast(), lambda qp: not is_proper(absolute_error, *qp),
                settings=settings(max_examples=500, database=None))
    assert not is_proper(absolute_error, q, p)
    # By hand: under q = (0.7, 0.3) the hedged forecast loses to (0.999, 0.001):
    # 2 (0.7 * 0.3 + 0.3 * 0.7) = 0.84 > 2 (0.7 * 0.001 + 0.3 * 0.999) = 0.6008.
    assert not is_proper(absolute_error, np.array([0.7, 0.3]), np.array([0.999, 0.001]))
    assert is_proper(scoring.brier_score, np.array([0.7, 0.3]), np.array([0.999, 0.001]))


def _divergence(name, q, p):
    """Closed-form expected regret E_q S(p) - E_q S(q) of each proper rule."""
    if name == "brier":
        return float(((p - q) ** 2).sum())
    if name == "log":
        return float((q * np.log(q / p)).sum())  # Kullback-Leibler
    return float(((np.cumsum(p) - np.cumsum(q))[:-1] ** 2).sum() / (q.size - 1))


@pytest.mark.parametrize("name", sorted(PROPER_RULES))
@SETTINGS
@given(qp=belief_and_forecast())
def test_expected_regret_is_the_rules_divergence(name, qp):
    # Strict propriety, quantitatively: the regret of forecasting p under q is
    # the squared distance (Brier, RPS on cumulative sums) or the KL divergence.
    q, p = qp
    rule = PROPER_RULES[name]
    regret = expected_score(rule, q, p) - expected_score(rule, q, q)
    assert regret == pytest.approx(_divergence(name, q, p), rel=1e-9, abs=1e-12)


# --- bounds -----------------------------------------------------------------

@st.composite
def forecast_rows(draw):
    """(probs (n, K), outcomes (n,)) with K = 2..6 and n = 1..8."""
    k = draw(st.integers(2, 6))
    n = draw(st.integers(1, 8))
    probs = np.vstack([draw(distributions(k)) for _ in range(n)])
    outcome = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return probs, outcome


@SETTINGS
@given(rows=forecast_rows())
def test_rule_bounds(rows):
    probs, outcome = rows
    brier = scoring.brier_score(probs, outcome)
    log = scoring.log_score(probs, outcome)
    rps = scoring.rps_score(probs, outcome)
    assert ((brier >= 0.0) & (brier <= 2.0)).all()
    assert (log >= 0.0).all()
    assert ((rps >= 0.0) & (rps <= 1.0)).all()
    # Log is -ln p_o, so it is 0 only at certainty and grows as p_o falls.
    p_o = probs[np.arange(outcome.size), outcome]
    assert np.allclose(np.exp(-log), p_o, rtol=1e-12, atol=0)


# --- score_questions ----------------------------------------------------------

@SETTINGS
@given(bundle=bundles())
def test_peer_scores_of_each_question_sum_to_zero(bundle):
    got = scoring.score_questions(*bundle)
    q = got.question
    n = int(q.max()) + 1 if q.size else 0
    total = np.bincount(q, weights=got.peer, minlength=n)
    scale = np.bincount(q, weights=np.abs(got.peer), minlength=n)
    assert (np.abs(total) <= 1e-9 * np.maximum(1.0, scale)).all(), (total, scale)


@SETTINGS
@given(p=st.lists(st.floats(1e-3, 1.0), min_size=1, max_size=12))
def test_instant_peer_scores_sum_to_zero(p):
    got = scoring.peer_instant(p)
    assert got.shape == (len(p),)
    if len(p) == 1:
        assert got.tolist() == [0.0]
    assert abs(got.sum()) <= 1e-9 * max(1.0, np.abs(got).sum())


@SETTINGS
@given(bundle=bundles())
def test_coverage_in_unit_interval_and_weights_sum_to_one(bundle):
    questions, forecasts = bundle
    got = scoring.score_questions(questions, forecasts)
    assert ((got.coverage > 0.0) & (got.coverage <= 1.0)).all(), got.coverage
    # Each scored (question, user) pair's forecasts share its window: weights sum to 1.
    weight = got.forecast_weight
    assert (weight >= 0.0).all()
    for q, u in zip(got.question.tolist(), got.user.tolist()):
        mine = (forecasts.question == q) & (forecasts.user == u)
        assert math.isclose(weight[mine].sum(), 1.0, rel_tol=1e-12)
    unscored = ~np.isin(forecasts.question * 10**6 + forecasts.user,
                        got.question * 10**6 + got.user)
    assert (weight[unscored] == 0.0).all()


# --- Murphy decomposition and calibration -------------------------------------

@st.composite
def weighted_binary(draw):
    """(p_yes, outcome, weight) with repeated forecast values and total weight > 0."""
    n = draw(st.integers(1, 30))
    value = st.one_of(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.8, 1.0]), st.floats(0.0, 1.0))
    p = np.array(draw(st.lists(value, min_size=n, max_size=n)))
    o = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    w = np.array(draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 10.0)),
                               min_size=n, max_size=n)))
    w[draw(st.integers(0, n - 1))] += 1.0
    return p, o, w


@SETTINGS
@given(data=weighted_binary())
def test_murphy_identity(data):
    p, o, w = data
    m = scoring.murphy_decomposition(p, o, w)
    assert m.brier == pytest.approx(np.average((p - o) ** 2, weights=w), rel=1e-12, abs=1e-12)
    assert abs(m.reliability - m.resolution + m.uncertainty - m.brier) <= 1e-12
    assert m.reliability >= 0.0 and m.resolution >= 0.0
    assert 0.0 <= m.uncertainty <= 0.25


def test_murphy_without_weights_weighs_every_forecast_one():
    p = np.array([0.2, 0.2, 0.9, 0.6])
    o = np.array([0, 1, 1, 0])
    assert scoring.murphy_decomposition(p, o) == scoring.murphy_decomposition(p, o, np.ones(4))


def test_calibration_bins_and_jeffreys_intervals():
    p = np.array([0.15, 0.1, 0.12, 0.05, 1.0, 0.95, 0.5])
    o = np.array([1, 0, 1, 0, 1, 1, 0])
    w = np.array([1.0, 0.5, 0.5, 2.0, 0.25, 0.75, 0.0])
    got = scoring.calibration(p, o, w)

    assert np.allclose(got.bin_low, np.arange(10) / 10)
    assert np.allclose(got.bin_high, np.arange(1, 11) / 10)
    # Bin 0: 0.05 (w 2, no).  Bin 1: 0.15 (w 1, yes), 0.1 (opens bin 1; w 0.5, no),
    # 0.12 (w 0.5, yes).  Bin 9: 1.0 (closed last bin; w 0.25) and 0.95 (w 0.75),
    # both yes.  Bin 5: 0.5 with weight 0 counts nothing.
    n = {0: 2.0, 1: 2.0, 9: 1.0}
    x = {0: 0.0, 1: 1.5, 9: 1.0}
    mean = {0: 0.05, 1: (0.15 * 1.0 + 0.1 * 0.5 + 0.12 * 0.5) / 2.0,
            9: 1.0 * 0.25 + 0.95 * 0.75}
    count = {0: 1, 1: 3, 9: 2}
    for b in range(10):
        if b not in n:
            assert got.weight[b] == 0.0 and got.count[b] == 0, b
            assert np.isnan([got.mean_forecast[b], got.observed[b],
                             got.interval_low[b], got.interval_high[b]]).all(), b
            continue
        assert got.count[b] == count[b]
        assert got.weight[b] == pytest.approx(n[b], rel=1e-12)
        assert got.mean_forecast[b] == pytest.approx(mean[b], rel=1e-12)
        assert got.observed[b] == pytest.approx(x[b] / n[b], abs=1e-12)
        a, bb = x[b] + 0.5, n[b] - x[b] + 0.5
        assert got.interval_low[b] == pytest.approx(beta.ppf(0.05, a, bb), rel=1e-12)
        assert got.interval_high[b] == pytest.approx(beta.ppf(0.95, a, bb), rel=1e-12)
    # Bin 1 is Beta(2, 1), whose quantile function is sqrt(q).
    assert got.interval_low[1] == pytest.approx(math.sqrt(0.05), rel=1e-12)
    assert got.interval_high[1] == pytest.approx(math.sqrt(0.95), rel=1e-12)


@SETTINGS
@given(p=st.lists(st.one_of(st.floats(0.0, 1.0), st.sampled_from(np.arange(11) / 10)),
                  min_size=1, max_size=40))
def test_calibration_puts_each_forecast_in_its_display_bin(p):
    # The ten SPEC bins [0, 0.1), ..., [0.9, 1]: a value on an edge opens the next bin.
    p = np.array(p)
    got = scoring.calibration(p, np.zeros(p.size, np.int64), None)
    inside = (p[:, None] >= got.bin_low) & ((p[:, None] < got.bin_high)
                                            | (got.bin_high == 1.0))
    assert (inside.sum(axis=1) == 1).all()
    assert got.count.tolist() == inside.sum(axis=0).tolist()


@pytest.mark.parametrize("n_bins", [7, 10, 49, 100])
def test_every_bin_edge_opens_its_own_bin(n_bins):
    # k/n must land in bin k for any bin count, although k/n * n may round below k.
    edges = np.arange(n_bins + 1) / n_bins
    got = scoring.calibration(edges, np.zeros(edges.size, np.int64), None, n_bins=n_bins)
    assert got.count.tolist() == [1] * (n_bins - 1) + [2]


# --- leaderboard --------------------------------------------------------------

def _board(user, metric_values, *, metric, **kw):
    """Leaderboard where every value column is ``metric_values``."""
    x = np.asarray(metric_values, dtype=np.float64)
    return scoring.leaderboard(np.asarray(user), {k: x for k in METRICS}, metric=metric, **kw)


def test_competition_ranks_with_a_tie():
    # User 1's and user 2's means are equal in exact arithmetic but differ in
    # the last bit ((0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1): still one rank.
    user = [3, 2, 2, 2, 1, 1, 1, 0]
    brier = [0.1, 0.1, 0.2, 0.3, 0.3, 0.2, 0.1, 0.5]
    got = _board(user, brier, metric="brier")
    assert got.brier[1] != got.brier[2]
    assert got.user.tolist() == [3, 1, 2, 0]  # the tie listed by user id
    assert got.rank.tolist() == [1, 2, 2, 4]
    assert got.questions.tolist() == [1, 3, 3, 1]

    # peer ranks descending; peer_total (the sum) reorders by question count.
    peer = [-1.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 5.0]
    got = _board(user, peer, metric="peer")
    assert got.user.tolist() == [0, 1, 2, 3] and got.rank.tolist() == [1, 2, 2, 4]
    got = _board(user, peer, metric="peer_total")
    assert got.user.tolist() == [1, 2, 0, 3] and got.rank.tolist() == [1, 1, 3, 4]


@st.composite
def user_values(draw):
    """Rows for 1..4 users with 1..30 questions each, values of mixed scales."""
    n_users = draw(st.integers(1, 4))
    user, values = [], []
    for u in range(n_users):
        n = draw(st.integers(1, 30))
        scale = draw(st.sampled_from([1.0, 100.0]))
        values += [scale * x for x in draw(st.lists(st.floats(-1.0, 1.0), min_size=n,
                                                     max_size=n))]
        user += [5 * u] * n
    return np.array(user), np.array(values)


@SETTINGS
@given(data=user_values(), metric=st.sampled_from(["brier", "log", "peer", "peer_total"]),
       seed=st.integers(0, 2**32 - 1))
def test_bootstrap_interval_contains_the_value_and_is_reproducible(data, metric, seed):
    user, x = data
    got = _board(user, x, metric=metric, n_boot=200, seed=seed)
    # One question gives no interval (NaN), never a zero-width one (SPEC section 6).
    single = got.questions == 1
    assert np.isnan(got.interval_low[single]).all() and np.isnan(got.interval_high[single]).all()
    low, high = got.interval_low[~single], got.interval_high[~single]
    value = getattr(got, metric)[~single]
    slack = 1e-12 * np.maximum(1.0, np.abs(value))
    assert (low <= high).all()
    assert (low - slack <= value).all() and (value <= high + slack).all()
    again = _board(user, x, metric=metric, n_boot=200, seed=seed)
    assert np.array_equal(again.interval_low, got.interval_low, equal_nan=True)
    assert np.array_equal(again.interval_high, got.interval_high, equal_nan=True)


def test_bootstrap_interval_depends_on_the_seed():
    x = np.linspace(0.0, 1.0, 25) ** 2
    user = np.zeros(x.size, np.int64)
    first = _board(user, x, metric="brier", seed=1)
    second = _board(user, x, metric="brier", seed=2)
    assert (first.interval_low[0] != second.interval_low[0]
            or first.interval_high[0] != second.interval_high[0])
    assert first.interval_low[0] < x.mean() < first.interval_high[0]


@pytest.mark.parametrize("metric", ["brier", "peer_total"])
def test_intervals_for_some_users_equal_the_full_run(metric):
    rng = np.random.default_rng(5)
    user = rng.integers(0, 40, 900) * 3
    values = {"brier": rng.random(900), "log": rng.random(900),
              "peer": rng.normal(0, 10, 900), "coverage": rng.random(900)}
    full = scoring.leaderboard(user, values, metric=metric, min_questions=15, seed=4)
    some = scoring.leaderboard(user, values, metric=metric, min_questions=15, seed=4,
                               intervals_for=[0, 9, 30, 1000])
    np.testing.assert_array_equal(some.user, full.user)
    np.testing.assert_array_equal(some.rank, full.rank)
    picked = np.isin(some.user, [0, 9, 30])
    assert 0 < picked.sum() < some.user.size
    # Equal up to the rounding of a differently shaped matrix product.
    np.testing.assert_allclose(some.interval_low[picked], full.interval_low[picked], rtol=1e-12)
    np.testing.assert_allclose(some.interval_high[picked], full.interval_high[picked], rtol=1e-12)
    assert np.isnan(some.interval_low[~picked]).all() and np.isnan(some.interval_high[~picked]).all()


def test_bootstrap_interval_depends_only_on_the_users_own_values(monkeypatch):
    # Documented: the interval depends on seed, n_boot, level and the user's
    # own values, not on other users nor on how the replicates are chunked.
    rng = np.random.default_rng(3)
    x = rng.random(20)
    alone = _board(np.zeros(20, np.int64), x, metric="brier", seed=9)
    others = rng.random(700)
    user = np.concatenate([np.full(700, 4), np.zeros(20, np.int64)])
    values = np.concatenate([others, x])
    module = importlib.import_module("scoring.leaderboard")
    for cells in (module._W_CELLS, 1 << 16):  # the second forces replicate chunks
        monkeypatch.setattr(module, "_W_CELLS", cells)
        mixed = _board(user, values, metric="brier", seed=9)
        row = mixed.user.tolist().index(0)
        assert mixed.interval_low[row] == pytest.approx(alone.interval_low[0], rel=1e-12)
        assert mixed.interval_high[row] == pytest.approx(alone.interval_high[0], rel=1e-12)


def test_bootstrap_weights_follow_poisson_one():
    module = importlib.import_module("scoring.leaderboard")
    table = module._POISSON_16
    for k in range(12):
        want = math.exp(-1.0) / math.factorial(k)
        assert abs((table == k).mean() - want) <= 2.0 ** -16, k
    weights = module.replicate_weights(3, 600, 100, 700)
    assert weights.shape == (600, 600)
    assert (weights == np.rint(weights)).all() and weights.min() == 0
    # 360,000 draws: mean and variance 1 within five standard errors.
    assert abs(weights.mean() - 1.0) < 5 * (1 / 600)
    assert abs(weights.var() - 1.0) < 5 * math.sqrt(3 / 360_000)
    # Tiles are fixed: columns 100.. of a wider draw are the same numbers.
    np.testing.assert_array_equal(module.replicate_weights(3, 600, 0, 700)[:, 100:], weights)
