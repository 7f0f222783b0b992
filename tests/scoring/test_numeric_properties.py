"""Propriety of the numeric CRPS and bucket log on the grid, and the
validation of the numeric functions' inputs (SPEC sections 10 and 11)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scoring
from tests.scoring.numeric_strategies import random_cdf

GRID = 200
LO, HI = 0.0, 1.0
XS = LO + np.arange(GRID + 1) * (HI - LO) / GRID
# Two Gauss-Legendre nodes per cell integrate a quadratic in y exactly; every
# score here is a quadratic (CRPS, the absolute rule) or constant (bucket
# rules) function of y within a cell.
_NODES = (np.array([-1.0, 1.0]) / np.sqrt(3.0) + 1.0) / 2.0


def expected(rule, forecast, truth):
    """E_{Y ~ truth}[rule(forecast, Y)] exactly: truth's mass F_0 below lo
    (at lo - 1/2), 1 - F_200 above hi (at hi + 1/2), and each cell's mass
    uniform over the cell. (Beyond the range CRPS only adds the distance,
    which does not depend on the forecast; the bucket log reads F_0 and
    1 - F_200 there, SPEC section 11.)"""
    cell_mass = np.diff(truth)
    y = (XS[:-1, None] + np.outer(np.diff(XS), _NODES)).ravel()
    w = np.repeat(cell_mass / 2.0, 2)
    y = np.concatenate(([LO - 0.5], y, [HI + 0.5]))
    w = np.concatenate(([truth[0]], w, [1.0 - truth[-1]]))
    keep = w > 0
    rows = np.broadcast_to(forecast, (int(keep.sum()), GRID + 1))
    return float((w[keep] * rule(rows, y[keep])).sum())


def crps(rows, y):
    return scoring.crps(rows, y, LO, HI)


def log(rows, y):
    return scoring.bucket_log(rows, y, LO, HI)


def absolute_cdf_error(rows, y):
    """int |F(x) - [x >= y]| dx: linear in F, hence improper (it rewards a step)."""
    h = XS[1] - XS[0]
    x = np.clip(y, LO, HI)
    r = np.arange(len(y))
    cells = (rows[:, 1:] + rows[:, :-1]) / 2.0 * h  # int F over each cell, exactly
    before = np.concatenate((np.zeros((len(y), 1)), np.cumsum(cells, axis=1)), axis=1)
    j = np.clip(np.floor((x - LO) / h).astype(int), 0, GRID - 1)
    t = (x - XS[j]) / h
    a, b = rows[r, j], rows[r, j + 1]
    left = before[r, j] + h * (a * t + (b - a) * t * t / 2.0)  # int_lo^x F
    # int_lo^x F + int_x^hi (1 - F), plus the distance from y to the range.
    return left + (HI - x) - (before[:, -1] - left) + np.abs(y - x)


def linear_bucket(rows, y):
    """-p_b: the linear score of the bucket probability, improper (it rewards
    putting all mass on the most likely bucket)."""
    return -scoring.bucket_probability(rows, y, LO, HI)


def candidates(rng, truth):
    """Forecasts to compare with the truth: random CDFs, and the truth
    sharpened (mixed with a narrow bump at its median) or flattened."""
    out = [random_cdf(rng, truth[0] > 0, truth[-1] < 1) for _ in range(6)]
    median = int(np.searchsorted(truth, 0.5))
    for share in (0.3, 0.9):
        bump = np.clip((np.arange(GRID + 1) - median + 1) / 2.0, 0.0, 1.0)
        bump = truth[0] + (truth[-1] - truth[0]) * bump
        out.append((1 - share) * truth + share * bump)
    out.append(0.5 * truth + 0.5 * np.interp(np.arange(GRID + 1), [0, GRID], truth[[0, -1]]))
    # Keep every bucket positive so that the log score is finite.
    return [np.maximum.accumulate(c + np.arange(GRID + 1) * 1e-7) / (1 + GRID * 1e-7)
            for c in out]


def violations(rule, seeds):
    """Cases where some forecast scores better in expectation than the truth."""
    found = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        truth = random_cdf(rng)
        best = expected(rule, truth, truth)
        for c in candidates(rng, truth):
            if expected(rule, c, truth) < best - 1e-12 * max(1.0, abs(best)):
                found.append(seed)
                break
    return found


@pytest.mark.parametrize("rule", [crps, log], ids=["crps", "log"])
def test_the_truth_minimises_the_expected_score(rule):
    assert violations(rule, range(40)) == []


@pytest.mark.parametrize("rule", [absolute_cdf_error, linear_bucket],
                         ids=["absolute_cdf_error", "linear_bucket"])
def test_an_improper_rule_fails_the_same_test(rule):
    assert len(violations(rule, range(40))) >= 20


def test_absolute_cdf_error_helper_is_right():
    # The improper rule is checked by hand on a uniform forecast: int |x - H| = y^2/2 + (1-y)^2/2.
    rows = np.broadcast_to(np.arange(GRID + 1) / GRID, (3, GRID + 1))
    y = np.array([0.3, 0.0, 0.8123])
    np.testing.assert_allclose(absolute_cdf_error(rows, y), y**2 / 2 + (1 - y) ** 2 / 2)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_crps_is_minimised_by_a_point_forecast_at_the_outcome(seed):
    rng = np.random.default_rng(seed)
    cdf = random_cdf(rng)
    y = rng.uniform(LO, HI)
    assert scoring.crps(cdf[None], [y], LO, HI)[0] >= 0.0
    step = (XS >= y).astype(float)
    assert scoring.crps(step[None], [y], LO, HI)[0] <= (XS[1] - XS[0]) / 3 + 1e-15


# --- validation ---------------------------------------------------------------

UNIFORM = np.arange(GRID + 1) / GRID


def questions(**changes):
    cols = dict(open_at=[0], close_at=[10], end_at=[10], outcome=[0.5], range_min=[0.0],
                range_max=[1.0])
    cols.update(changes)
    return scoring.NumericQuestions(**cols)


def forecasts(**changes):
    cols = dict(question=[0], user=[0], at=[1], cdf=UNIFORM[None])
    cols.update(changes)
    return scoring.NumericForecasts(**cols)


def _decreasing():
    c = UNIFORM.copy()
    c[7] = 0.5
    return c[None]


CASES = [
    ("cdf_wrong_width", r"cdf: expected 201 CDF values per row", lambda: scoring.crps(
        np.zeros((2, 200)), [0, 0], 0, 1)),
    ("cdf_one_row_1d", r"cdf: expected a 2-D array", lambda: scoring.crps(UNIFORM, [0], 0, 1)),
    ("cdf_nan", r"cdf\[\(0, 3\)\] = nan", lambda: scoring.crps(
        np.where(np.arange(GRID + 1) == 3, np.nan, UNIFORM)[None], [0.5], 0, 1)),
    ("cdf_above_one", r"cdf\[\(0, 200\)\] = 1\.5", lambda: scoring.pit(
        np.append(UNIFORM[:-1], 1.5)[None], [0.5], 0, 1)),
    ("cdf_decreasing", r"cdf\[0\]: the CDF decreases from position 7",
     lambda: scoring.bucket_log(_decreasing(), [0.5], 0, 1)),
    ("cdf_strings", r"cdf: expected numbers", lambda: scoring.crps([["a"] * 201], [0], 0, 1)),
    ("y_length", r"y: length 2 does not match the rows of cdf \(1\)",
     lambda: scoring.crps(UNIFORM[None], [0.1, 0.2], 0, 1)),
    ("y_nan", r"y\[0\] = nan", lambda: scoring.crps(UNIFORM[None], [np.nan], 0, 1)),
    ("hi_not_above_lo", r"hi\[0\] = 0\.0: must be greater than lo",
     lambda: scoring.crps(UNIFORM[None], [0.1], 1.0, 0.0)),
    ("lo_wrong_length", r"lo: length 2 does not match",
     lambda: scoring.crps(UNIFORM[None], [0.1], [0.0, 0.0], 1.0)),
    ("log_of_empty_bucket", r"cdf\[0\] = 0\.0: gives the outcome's bucket probability 0",
     lambda: scoring.bucket_log(np.where(np.arange(GRID + 1) <= 100, 0.0, 1.0)[None], [0.2],
                                0, 1)),
    ("level_one", r"level: must be strictly between 0 and 1",
     lambda: scoring.central_interval(UNIFORM[None], 0, 1, 1.0)),
    ("coverage_weight_negative", r"weight\[0\] = -1\.0: must be >= 0",
     lambda: scoring.interval_coverage(UNIFORM[None], [0.5], 0, 1, weight=[-1.0])),
    ("pit_out_of_range", r"pit_values\[1\] = 1\.5: must be in \[0, 1\]",
     lambda: scoring.pit_histogram([0.2, 1.5])),
    ("bins_zero", r"bins: must be >= 1", lambda: scoring.pit_histogram([0.2], bins=0)),
    ("range_max_not_above_min", r"range_max\[0\] = 0\.0: must be greater than range_min",
     lambda: questions(range_max=[0.0])),
    ("outcome_inf", r"outcome\[0\] = inf: must be finite", lambda: questions(outcome=[np.inf])),
    ("end_after_close", r"end_at\[0\] = 11", lambda: questions(end_at=[11])),
    ("forecast_cdf_rows", r"cdf: length 2 does not match question \(1\)",
     lambda: forecasts(cdf=np.vstack([UNIFORM, UNIFORM]))),
    ("forecast_user_negative", r"user\[0\] = -1", lambda: forecasts(user=[-1])),
    ("question_index", r"question\[0\] = 3: must be a question index below 1",
     lambda: scoring.score_numeric(questions(), forecasts(question=[3]))),
    ("engine_empty_bucket", r"cdf\[0\]: gives the outcome's bucket probability 0",
     lambda: scoring.score_numeric(questions(outcome=[0.2]), forecasts(
         cdf=np.where(np.arange(GRID + 1) <= 100, 0.0, 1.0)[None]))),
    ("engine_questions_type", r"questions: expected a scoring.NumericQuestions",
     lambda: scoring.score_numeric(object(), forecasts())),
    ("workers_zero", r"workers: must be >= 1",
     lambda: scoring.score_numeric(questions(), forecasts(), workers=0)),
]


@pytest.mark.parametrize("pattern, call", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_names_the_argument(pattern, call):
    with pytest.raises(ValueError) as info:
        call()
    assert re.match(pattern, str(info.value)), str(info.value)


def test_an_unscored_forecast_may_give_the_outcome_bucket_zero():
    # A forecast outside the window is not scored, so its empty bucket is no error.
    empty = np.where(np.arange(GRID + 1) <= 100, 0.0, 1.0)[None]
    got = scoring.score_numeric(questions(outcome=[0.2]), forecasts(at=[10], cdf=empty))
    assert got.question.size == 0 and np.isnan(got.forecast_pit[0])
