"""Hypothesis strategies and builders for numeric forecasts (SPEC section 11)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from scoring import NumericForecasts, NumericQuestions

GRID = 200


def random_cdf(rng, open_lower=None, open_upper=None):
    """A valid CDF on the 201-point grid: a few logistic bumps over a floor,
    every bucket >= 5e-5; F_0 = 0 / F_200 = 1 on closed sides, else
    0.001 <= F_0 and F_200 <= 0.999 (SPEC section 11)."""
    if open_lower is None:
        open_lower = rng.random() < 0.4
    if open_upper is None:
        open_upper = rng.random() < 0.4
    s = np.arange(GRID) + 0.5
    density = np.full(GRID, rng.uniform(0.01, 1.0) / GRID)
    for _ in range(rng.integers(1, 4)):
        centre, scale = rng.uniform(-20, 220), rng.uniform(0.5, 60)
        z = (s - centre) / scale
        e = np.exp(-np.abs(z))  # the logistic density is symmetric in z
        density += rng.random() * e / (scale * (1 + e) ** 2)
    f0 = rng.uniform(0.001, 0.3) if open_lower else 0.0
    f200 = rng.uniform(max(f0, 0.7), 0.999) if open_upper else 1.0
    mass = f200 - f0
    buckets = 5e-5 + density / density.sum() * (mass - GRID * 5e-5)
    cdf = np.concatenate(([f0], f0 + np.cumsum(buckets)))
    cdf[-1] = f200
    return np.minimum(np.maximum.accumulate(cdf), 1.0)


@st.composite
def numeric_bundles(draw, max_questions=4, max_forecasts=30, max_users=5, dtype=np.float64):
    """(NumericQuestions, NumericForecasts): ties, out-of-window forecasts,
    early resolutions, unscored questions, outcomes on grid points and
    outside the range; user ids are sparse."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_q = draw(st.integers(1, max_questions))
    cols = {k: [] for k in ("open_at", "close_at", "end_at", "outcome",
                            "range_min", "range_max")}
    opens = []
    for _ in range(n_q):
        open_at = draw(st.integers(-50, 50))
        close_at = open_at + draw(st.integers(1, 40))
        end_at = draw(st.integers(open_at - 5, close_at)) if draw(st.booleans()) else close_at
        # Small ranges near 0, large ones far from it (a date range of a month
        # of epoch seconds); a 1-wide range at 1.7e9 would round its own grid.
        lo, width = draw(st.sampled_from([(0.0, 1.0), (-3.5, 7.3), (0.0, 10.0),
                                          (1e6, 5000.0), (1.7e9, 86400.0 * 30)]))
        hi = lo + width
        sides = (draw(st.booleans()), draw(st.booleans()))  # open lower, open upper
        opens.append(sides)
        places = ["inside", "grid", "lo", "hi", "none"]
        places += ["below"] * sides[0] + ["above"] * sides[1]  # outside only on an open side
        where = draw(st.sampled_from(places))
        outcome = {"inside": lo + rng.random() * (hi - lo),
                   "grid": lo + int(rng.integers(0, 201)) * (hi - lo) / GRID,
                   "below": lo - rng.random() * (hi - lo), "above": hi + rng.random() * (hi - lo),
                   "lo": lo, "hi": hi, "none": np.nan}[where]
        for name, value in zip(cols, (open_at, close_at, end_at, outcome, lo, hi)):
            cols[name].append(value)
    questions = NumericQuestions(**cols)
    n_f = draw(st.integers(0, max_forecasts))
    question, user, at = [], [], []
    for _ in range(n_f):
        q = draw(st.integers(0, n_q - 1))
        question.append(q)
        user.append(5 * draw(st.integers(0, max_users - 1)) + 2)
        at.append(draw(st.integers(cols["open_at"][q] - 3, cols["close_at"][q] + 2)))
    cdf = np.array([random_cdf(rng, *opens[q]) for q in question]).reshape(n_f, GRID + 1)
    return questions, NumericForecasts(question, user, at, cdf.astype(dtype))


def random_numeric_bundle(rng, n_questions, n_forecasts, n_users):
    """A larger seeded bundle (many blocks and parts)."""
    open_at = rng.integers(0, 1000, n_questions)
    close_at = open_at + rng.integers(50, 500, n_questions)
    end_at = np.where(rng.random(n_questions) < 0.3,
                      open_at + (close_at - open_at) // 2, close_at)
    lo = rng.uniform(-100, 100, n_questions)
    hi = lo + rng.uniform(1, 50, n_questions)
    open_lower, open_upper = rng.random((2, n_questions)) < 0.5
    share = rng.uniform(-0.1 * open_lower, 1 + 0.1 * open_upper)
    outcome = lo + share * (hi - lo)
    outcome[rng.random(n_questions) < 0.1] = np.nan
    questions = NumericQuestions(open_at, close_at, end_at, outcome, lo, hi)
    q = rng.integers(0, n_questions, n_forecasts)
    span = close_at[q] - open_at[q]
    at = open_at[q] + (rng.random(n_forecasts) * span).astype(np.int64)
    at = at - at % 3  # ties
    cdf = np.array([random_cdf(rng, open_lower[i], open_upper[i]) for i in q])
    return questions, NumericForecasts(q, rng.integers(0, n_users, n_forecasts), at, cdf)


def as_lists(questions, forecasts):
    """Plain-list copies for tests.scoring.numeric_reference."""
    qd = {k: getattr(questions, k).tolist() for k in
          ("open_at", "close_at", "end_at", "range_min", "range_max")}
    qd["outcome"] = [None if np.isnan(y) else y for y in questions.outcome.tolist()]
    fd = {"question": forecasts.question.tolist(), "user": forecasts.user.tolist(),
          "at": forecasts.at.tolist(),
          "cdf": forecasts.cdf.astype(np.float64).tolist()}
    return qd, fd
