"""The per-forecast numeric scores (SPEC section 11): hand-worked reference
cases, the scalar reference, numerical integration, scoringrules' ensemble
CRPS, PIT histograms and central intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import scoring
from tests.scoring import numeric_reference as ref
from tests.scoring.builders import load_cases
from tests.scoring.numeric_strategies import random_cdf

GRID = 200
CASES = load_cases()["numeric"]
FLAT = [c for c in CASES if "forecasts" not in c]
TIMELINES = [c for c in CASES if "forecasts" in c]


def expand(knots):
    """A reference case's CDF: knots [k, F_k], linear in k between them."""
    k, f = zip(*knots)
    return np.interp(np.arange(GRID + 1), k, f)


# --- hand-worked cases ------------------------------------------------------

@pytest.mark.parametrize("case", FLAT, ids=[c["id"] for c in FLAT])
def test_numeric_reference_case(case):
    cdf = np.array([expand(k) for k in case["cdf"]])
    lo, hi = case["range"]
    y = np.full(len(cdf), case["y"])
    checks = {"crps": scoring.crps, "log": scoring.bucket_log, "pit": scoring.pit}
    assert set(case) - {"id", "range", "cdf", "y", "note"} <= set(checks) | {"peer"}
    for name, rule in checks.items():
        if name in case:
            np.testing.assert_allclose(rule(cdf, y, lo, hi), case[name], rtol=1e-12, atol=1e-15,
                                       err_msg=f"{case['id']}.{name}")
    if "peer" in case:
        p_b = scoring.bucket_probability(cdf, y, lo, hi)
        np.testing.assert_allclose(0.5 * scoring.peer_instant(p_b), case["peer"], rtol=1e-12)


@pytest.mark.parametrize("case", TIMELINES, ids=[c["id"] for c in TIMELINES])
def test_numeric_timeline_case(case):
    users = sorted({f["user"] for f in case["forecasts"]})
    lo, hi = case["range"]
    questions = scoring.NumericQuestions([case["open_at"]], [case["close_at"]],
                                         [min(case["close_at"], case["known_at"])],
                                         [case["y"]], [lo], [hi])
    fs = case["forecasts"]
    forecasts = scoring.NumericForecasts([0] * len(fs), [users.index(f["user"]) for f in fs],
                                         [f["at"] for f in fs],
                                         np.array([expand(f["cdf"]) for f in fs]))
    got = scoring.score_numeric(questions, forecasts)
    want = case["expected"]
    assert [users[u] for u in got.user] == sorted(set(want) - {"crowd"})
    for i, u in enumerate(got.user):
        for name, value in want[users[u]].items():
            assert getattr(got, name)[i] == pytest.approx(value, rel=1e-12, abs=1e-13), \
                (users[u], name)
    for name, value in want["crowd"].items():
        assert getattr(got, "crowd_" + name)[0] == pytest.approx(value, rel=1e-12), name


# --- the scalar reference and numerical integration -------------------------

@st.composite
def forecast_rows(draw, max_rows=6):
    """(cdf, y, lo, hi): rows of one range or of one range each, outcomes
    inside, on grid points, at the ends and (on open sides) outside."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, max_rows))
    per_row = draw(st.booleans())
    lo = rng.uniform(-50, 50, n if per_row else 1)
    hi = lo + rng.choice([0.5, 3.0, 120.0], lo.size)
    lo, hi = np.broadcast_to(lo, n).copy(), np.broadcast_to(hi, n).copy()
    cdf, y = [], []
    for i in range(n):
        row = random_cdf(rng)
        below, above = int(row[0] > 0), int(row[-1] < 1)
        u = draw(st.sampled_from(["inside", "grid", "lo", "hi"] + ["below"] * below
                                 + ["above"] * above))
        w = hi[i] - lo[i]
        y.append({"inside": lo[i] + rng.random() * w, "lo": lo[i], "hi": hi[i],
                  "grid": lo[i] + int(rng.integers(0, GRID + 1)) * w / GRID,
                  "below": lo[i] - rng.random() * w, "above": hi[i] + rng.random() * w}[u])
        cdf.append(row)
    return np.array(cdf), np.array(y), (lo if per_row else float(lo[0])), \
        (hi if per_row else float(hi[0]))


def _at(x, i):
    return x[i] if np.ndim(x) else x


@settings(max_examples=150, deadline=None)
@given(forecast_rows())
def test_rules_match_the_scalar_reference(rows):
    cdf, y, lo, hi = rows
    got = {"crps": scoring.crps(cdf, y, lo, hi), "log": scoring.bucket_log(cdf, y, lo, hi),
           "pit": scoring.pit(cdf, y, lo, hi)}
    for i in range(len(cdf)):
        c, a, b = cdf[i].tolist(), _at(lo, i), _at(hi, i)
        want = {"crps": ref.crps(c, y[i], a, b), "log": ref.bucket_log(c, y[i], a, b),
                "pit": ref.pit(c, y[i], a, b)}
        for name, value in want.items():
            assert got[name][i] == pytest.approx(value, rel=1e-10, abs=1e-12), (i, name)


@settings(max_examples=100, deadline=None)
@given(forecast_rows(), st.sampled_from([0.5, 0.9, 0.3]))
def test_central_interval_matches_the_scalar_inverse(rows, level):
    cdf, _, lo, hi = rows
    low, high = scoring.central_interval(cdf, lo, hi, level)
    for i in range(len(cdf)):
        c, a, b = cdf[i].tolist(), _at(lo, i), _at(hi, i)
        for got, p in ((low[i], (1 - level) / 2), (high[i], (1 + level) / 2)):
            assert got == pytest.approx(ref.quantile(c, a, b, p), rel=1e-12, abs=1e-12)
        # The inverse: F(Q(p)) = p where Q(p) is inside the range.
        if a < low[i] < b:
            assert ref.cdf_at(c, a, b, low[i]) == pytest.approx((1 - level) / 2, abs=1e-9)


def test_crps_matches_numerical_integration():
    rng = np.random.default_rng(21)
    for _ in range(25):
        lo = rng.uniform(-5, 5)
        hi = lo + rng.uniform(0.1, 30)
        cdf = random_cdf(rng)
        y = rng.choice([lo + rng.random() * (hi - lo), lo, hi,
                        lo - 2.0 if cdf[0] > 0 else lo, hi + 3.0 if cdf[-1] < 1 else hi])
        xs = lo + np.arange(GRID + 1) * (hi - lo) / GRID
        z = min(max(y, lo), hi)
        # Integrate cell by cell (and split at y) with adaptive quadrature.
        edges = np.unique(np.append(xs, z))
        total = sum(quad(lambda x: (np.interp(x, xs, cdf) - (x >= y)) ** 2, a, b)[0]
                    for a, b in zip(edges[:-1], edges[1:]))
        want = (total + max(lo - y, 0.0, y - hi)) / (hi - lo)
        assert scoring.crps(cdf[None], [y], lo, hi)[0] == pytest.approx(want, rel=1e-9, abs=1e-12)


# --- scoringrules' ensemble CRPS --------------------------------------------

def ensemble_to_cdf(members, lo, hi):
    """The grid CDF of an ensemble within [lo, hi]: members at lo are the
    mass at lo (F_0), members at hi the mass at hi (1 - F_200), a member
    inside cell (x_{k-1}, x_k] is spread uniformly over that cell, so that
    F_k = share of members <= x_k (k < 200) and F_200 = share below hi."""
    xs = lo + np.arange(GRID + 1) * (hi - lo) / GRID
    cdf = (members[None, :] <= xs[:, None]).mean(axis=1)
    cdf[-1] = (members < hi).mean()
    return cdf, xs


def spread_members(members, xs, per_cell):
    """Each interior member replaced by ``per_cell`` points at the midpoints of
    equal parts of its cell: the ensemble whose empirical CDF tends to the
    grid CDF above (the error falls as 1 / per_cell^2)."""
    lo, hi = xs[0], xs[-1]
    inner = members[(members > lo) & (members < hi)]
    k = np.searchsorted(xs, inner, side="left")  # inner in (x_{k-1}, x_k]
    width = xs[1] - xs[0]
    offsets = (np.arange(per_cell) + 0.5) / per_cell * width
    spread = (xs[k - 1][:, None] + offsets[None, :]).ravel()
    ends = members[(members <= lo) | (members >= hi)]
    return np.concatenate([np.repeat(ends, per_cell), spread])


@pytest.mark.parametrize("seed", range(6))
def test_crps_agrees_with_scoringrules_on_ensembles(seed):
    sr = pytest.importorskip("scoringrules")
    rng = np.random.default_rng(seed)
    lo, hi = -2.0, 6.0
    members = np.clip(rng.normal(rng.uniform(0, 4), rng.uniform(0.3, 3), 40), lo, hi)
    members[: seed % 3] = hi  # some ensembles put mass on the bounds
    members[-(seed % 2):] = lo if seed % 2 else members[-1:]
    cdf, xs = ensemble_to_cdf(members, lo, hi)
    for y in (rng.uniform(lo, hi), lo - 1.5, hi + 0.7, xs[57]):
        ours = scoring.crps(cdf[None], [y], lo, hi)[0] * (hi - lo)  # unnormalised
        fine = spread_members(members, xs, 64)
        theirs = float(sr.crps_ensemble(y, fine, estimator="nrg", backend="numpy"))
        assert ours == pytest.approx(theirs, rel=1e-4, abs=1e-6), y
        # The raw ensemble differs from its grid CDF only inside cells: by at
        # most 2 sum over cells of width * share of members in it = 2 width.
        raw = float(sr.crps_ensemble(y, members, estimator="nrg", backend="numpy"))
        assert abs(ours - raw) <= 2 * (xs[1] - xs[0]) + 1e-9


# --- PIT histogram and interval coverage ------------------------------------

def test_pit_histogram_bins_and_weights():
    hist = scoring.pit_histogram([0.0, 0.05, 0.1, 0.95, 1.0, 0.55], [1, 1, 2, 1, 1, 0])
    assert hist.weight.tolist() == [2, 2, 0, 0, 0, 0, 0, 0, 0, 2]
    np.testing.assert_allclose(hist.density, np.array(hist.weight) * 10 / 6)
    assert hist.bin_low[3] == 0.3 and hist.bin_high[-1] == 1.0


def test_calibrated_forecasts_have_uniform_pit_and_nominal_coverage():
    # Outcomes drawn from the forecasts themselves (inverting each CDF at a
    # uniform level): the PIT is uniform and central intervals cover at their level.
    rng = np.random.default_rng(3)
    cdf = np.array([random_cdf(rng, False, False) for _ in range(4000)])
    levels = rng.random(len(cdf))
    y = np.array([ref.quantile(c, 0.0, 1.0, p) for c, p in zip(cdf.tolist(), levels)])
    pit = scoring.pit(cdf, y, 0.0, 1.0)
    np.testing.assert_allclose(pit, levels, atol=1e-9)
    hist = scoring.pit_histogram(pit)
    assert np.all(np.abs(hist.density - 1.0) < 0.2)
    for level in (0.5, 0.9):
        cover = scoring.interval_coverage(cdf, y, 0.0, 1.0, level=level)
        assert abs(cover.rate - level) < 3 * math.sqrt(level * (1 - level) / len(cdf))
        inside = (pit >= (1 - level) / 2) & (pit <= (1 + level) / 2)
        assert (cover.covered == inside).mean() > 0.999  # equal but at rounding ties


def test_interval_coverage_is_weighted():
    cdf = np.vstack([expand([[0, 0.0], [200, 1.0]])] * 3)
    cover = scoring.interval_coverage(cdf, [0.5, 0.01, 0.99], 0.0, 1.0, weight=[0.5, 0.25, 0.25],
                                      level=0.5)
    assert cover.covered.tolist() == [True, False, False]
    assert cover.rate == 0.5 and cover.weight == 1.0
