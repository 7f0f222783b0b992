"""Hypothesis strategies: small random bundles as engine inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from scoring import Forecasts, Questions


def _vector(draw, k):
    weights = draw(st.lists(st.integers(1, 30), min_size=k, max_size=k))
    total = sum(weights)
    return [w / total for w in weights]


@st.composite
def bundles(draw, max_questions=5, max_forecasts=40, max_users=6):
    """(Questions, Forecasts) with mixed kinds, ties, out-of-window forecasts,
    early resolutions and unscored questions; user ids are sparse."""
    n_q = draw(st.integers(1, max_questions))
    cols = {k: [] for k in ("open_at", "close_at", "end_at", "outcome", "n_options", "ordered")}
    for _ in range(n_q):
        k = draw(st.sampled_from([2, 2, 3, 4, 5]))
        open_at = draw(st.integers(-50, 50))
        close_at = open_at + draw(st.integers(1, 40))
        end_at = close_at
        if draw(st.booleans()):
            end_at = draw(st.integers(open_at - 5, close_at))
        outcome = draw(st.integers(-1, k - 1))
        cols["open_at"].append(open_at)
        cols["close_at"].append(close_at)
        cols["end_at"].append(end_at)
        cols["outcome"].append(outcome)
        cols["n_options"].append(k)
        cols["ordered"].append(draw(st.booleans()))
    questions = Questions(**cols)
    n_f = draw(st.integers(0, max_forecasts))
    question, user, at, vectors = [], [], [], []
    for _ in range(n_f):
        q = draw(st.integers(0, n_q - 1))
        question.append(q)
        user.append(7 * draw(st.integers(0, max_users - 1)) + 3)
        at.append(draw(st.integers(cols["open_at"][q] - 3, cols["close_at"][q] + 2)))
        vectors.append(_vector(draw, cols["n_options"][q]))
    return questions, Forecasts.from_vectors(question, user, at, vectors)


def random_bundle(rng, n_questions, n_forecasts, n_users, kinds=(2, 3, 4)):
    """A larger seeded bundle built with numpy (for the median's wide paths)."""
    k = rng.choice(np.array(kinds), n_questions)
    open_at = rng.integers(0, 1000, n_questions)
    close_at = open_at + rng.integers(50, 500, n_questions)
    end_at = np.where(rng.random(n_questions) < 0.3,
                      open_at + (close_at - open_at) // 2, close_at)
    outcome = rng.integers(0, k)
    questions = Questions(open_at, close_at, end_at, outcome, k, rng.random(n_questions) < 0.5)
    q = rng.integers(0, n_questions, n_forecasts)
    span = close_at[q] - open_at[q]
    at = open_at[q] + (rng.random(n_forecasts) * span).astype(np.int64)
    at = at - at % 3  # ties
    vectors = [rng.dirichlet(np.ones(kk)) * 0.99 + 0.01 / kk for kk in k[q]]
    forecasts = Forecasts.from_vectors(q, rng.integers(0, n_users, n_forecasts), at, vectors)
    return questions, forecasts
