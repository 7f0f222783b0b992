"""Assertions that the engine's outputs equal the scalar reference's."""

from __future__ import annotations

import math

import numpy as np

import scoring
from tests.scoring import reference_impl as ref
from tests.scoring.builders import as_lists

TOL = 1e-9


def close(a, b, tol=TOL):
    """Equal within tol (absolute, or relative for large values); NaN == NaN."""
    if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
        return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return abs(a - b) <= tol * max(1.0, abs(b))


def assert_matches_reference(questions, forecasts, **options):
    """score_questions (called with ``options``) equals
    reference_impl.score_questions in every output."""
    got = scoring.score_questions(questions, forecasts, **options)
    want = ref.score_questions(*as_lists(questions, forecasts))
    keys = list(zip(got.question.tolist(), got.user.tolist()))
    assert keys == sorted(want["rows"]), "rows differ or are not sorted by (question, user)"
    for i, key in enumerate(keys):
        for name in ("brier", "log", "rps", "peer", "coverage"):
            g, w = float(getattr(got, name)[i]), want["rows"][key][name]
            assert close(g, w), (key, name, g, w)
    for q in range(len(questions)):
        c = want["crowd"].get(q)
        if c is None:
            assert got.crowd_start[q] == -1
            assert np.isnan([got.crowd_brier[q], got.crowd_log[q], got.crowd_rps[q]]).all()
            continue
        assert got.crowd_start[q] == c["start"]
        for name in ("brier", "log", "rps"):
            g = float(getattr(got, "crowd_" + name)[q])
            assert close(g, c[name]), (q, name, g, c[name])
    for i, w in enumerate(want["weight"]):
        assert close(float(got.forecast_weight[i]), w), (i, got.forecast_weight[i], w)
    return got
