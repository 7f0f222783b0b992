"""The one-pass (min/max) argument checks agree with elementwise checks.

For arrays with bad values planted at random positions, the checks must raise exactly
when an elementwise test finds a bad element, and name the first one; good arrays
(large magnitudes included) must pass unchanged and uncopied.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

import scoring
from scoring import _validate as v

BAD = [np.nan, np.inf, -np.inf, 0.0, -0.5, 1.5]


def first_bad(a: np.ndarray, ok) -> int | None:
    """Index of the first element failing ``ok``, by a plain loop (the slow definition)."""
    for i, x in enumerate(a.ravel()):
        if not ok(x):
            return i
    return None


@pytest.mark.parametrize("seed", range(40))
def test_probabilities_agree_with_elementwise_check(seed):
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.001, 1.0, rng.integers(1, 50))
    for _ in range(rng.integers(0, 3)):
        a[rng.integers(a.size)] = BAD[rng.integers(len(BAD))]
    want = first_bad(a, lambda x: 0.0 < x <= 1.0)
    if want is None:
        assert v.probabilities("p", a) is a  # float64, contiguous: no copy
    else:
        with pytest.raises(ValueError, match=rf"^p\[{want}\] = "):
            v.probabilities("p", a)


@pytest.mark.parametrize("seed", range(40))
def test_finite_check_agrees_with_elementwise_check(seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1e300, rng.integers(1, 50))  # sums of extremes would overflow
    for _ in range(rng.integers(0, 3)):
        a[rng.integers(a.size)] = BAD[rng.integers(3)]
    want = first_bad(a, np.isfinite)
    if want is None:
        assert v.float_array("x", a) is a
    else:
        with pytest.raises(ValueError, match=rf"^x\[{want}\] = .*must be finite"):
            v.float_array("x", a)


@pytest.mark.parametrize("seed", range(30))
def test_rule_rows_and_outcomes_agree_with_elementwise_checks(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 20)), int(rng.integers(2, 5))
    p = rng.dirichlet(np.ones(k), n)
    o = rng.integers(0, k, n)
    if rng.random() < 0.5:
        row = int(rng.integers(n))
        p[row, 0] += rng.choice([-1, 1]) * rng.uniform(2e-6, 0.3) * p[row, 0]
    if rng.random() < 0.5:
        o[rng.integers(n)] = rng.choice([-1, k])
    bad_o = first_bad(o, lambda x: 0 <= x < k)
    bad_row = first_bad(np.abs(p.sum(axis=1) - 1.0), lambda d: d <= 1e-6)
    bad_p = first_bad(p, lambda x: 0.0 < x <= 1.0)  # checked first, as _rows does
    if bad_p is not None:
        expected = re.escape(f"probs[{divmod(bad_p, k)}] = ")
    elif bad_o is not None:
        expected = rf"^outcome\[{bad_o}\] = "
    elif bad_row is not None:
        expected = re.escape(f"probs: the probabilities of row {bad_row} (positions "
                             f"{bad_row * k}..{bad_row * k + k - 1})")
    else:
        expected = None
    if expected is None:
        brier = scoring.brier_score(p, o)
        assert np.allclose(brier, ((p - np.eye(k)[o]) ** 2).sum(axis=1), rtol=0, atol=1e-12)
        assert np.allclose(scoring.log_score(p, o), -np.log(p[np.arange(n), o]), rtol=0,
                           atol=1e-12)
    else:
        with pytest.raises(ValueError, match=expected):
            scoring.brier_score(p, o)
