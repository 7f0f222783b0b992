"""Per-forecast scoring rules on (n, K) probability arrays.

All three are proper scoring rules, negatively oriented (lower is better).
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from ._kernels import slot_rules


def _rows(probs, outcome):
    """Validate (n, K) probabilities and n outcome indices; flat layout."""
    p = v.probabilities("probs", probs, ndim=2)
    n, k = p.shape
    if k < 2:
        raise ValueError(f"probs: need at least 2 options per row, got {k}")
    o = v.int_array("outcome", outcome)
    v.same_length("outcome", o, n, "the rows of probs")
    v.in_range("outcome", o, 0, k, f"must be an option index in [0, {k})")
    v.rect_row_sums("probs", p)
    return p.ravel(), np.arange(n, dtype=np.int64) * k, [n] * k, o


def brier_score(probs, outcome):
    """Brier score of each forecast: sum_k (p_k - [k = o])^2, in [0, 2].

    Brier (1950), "Verification of forecasts expressed in terms of
    probability"; the all-options form of SPEC section 5 (2 (p_yes - [yes])^2
    for binary questions).
    """
    flat, start, slots, o = _rows(probs, outcome)
    return slot_rules(flat, start, slots, o, np.zeros(o.size, bool))[0]


def log_score(probs, outcome):
    """Logarithmic score of each forecast: -ln p_o (natural log; SPEC section 5)."""
    flat, start, slots, o = _rows(probs, outcome)
    # The log term of slot_rules alone: the other rules would triple the cost.
    return -np.log(flat[start + o])


def rps_score(probs, outcome):
    """Ranked probability score of each forecast over ordered options, in [0, 1].

    RPS = 1/(K-1) * sum_{k<K} (sum_{j<=k} p_j - [o <= k])^2 (Epstein 1969,
    "A scoring system for probability forecasts of ranked categories";
    SPEC section 5).
    """
    flat, start, slots, o = _rows(probs, outcome)
    return slot_rules(flat, start, slots, o, np.ones(o.size, bool))[2]
