"""Peer score (Metaculus's peer score, SPEC section 5).

At an instant with N >= 2 forecasters standing, user i scores
``100 * (ln p_i - mean over the other N-1 of ln p_j)``, which equals
``100 * (N/(N-1) * ln p_i - Sigma/(N-1))`` with Sigma the sum of ln p over all
N standing. A user's peer score on a question is the integral of that over
[T0, T1) divided by S - T0.

The integral is vectorised with prefix sums over each question's events: N
and Sigma change only at events, so per event interval we accumulate
``A = Sigma/(N-1) * dt`` and ``B = N/(N-1) * dt`` (zero where N < 2), and a
forecast standing over events [s, t) contributes
``100 * (ln p * sum B - sum A)`` with both sums read from prefix sums.
"""

from __future__ import annotations

import numpy as np

from . import _validate as v
from ._kernels import peer_instant_kernel, segmented_cumsum
from .events import Events


def peer_instant(p_outcome):
    """Instantaneous peer score of each forecaster standing at one instant.

    ``100 * (ln p_i - mean_{j != i} ln p_j)`` with p the probability each gave
    the realised outcome; zeros when fewer than two (Metaculus peer score).
    """
    p = v.probabilities("p_outcome", p_outcome)
    return peer_instant_kernel(p)


def peer_by_pair(ev: Events, log_p, dt, span, n):
    """Peer score of every (question, user) pair of ``ev``.

    ``log_p``: ln of the probability each event's forecast gave the outcome;
    ``dt``: length of each event's interval (to the next event or T1);
    ``span``: S - T0 of each segment's question; ``n``: number of
    forecasters standing after each event.
    """
    m = log_p.size
    if m == 0:
        return np.zeros(0)
    starts = ev.seg_start
    has_prev = ev.prev >= 0
    delta = log_p - np.where(has_prev, log_p[ev.prev], 0.0)
    total = segmented_cumsum(delta, starts)
    frac = dt / span[ev.segment]
    inv = np.divide(frac, n - 1, out=np.zeros(m), where=n >= 2)
    a = total * inv
    b = n * inv
    cum_a = segmented_cumsum(a, starts)
    cum_b = segmented_cumsum(b, starts)
    last = np.where(ev.next >= 0, ev.next, ev.seg_end[ev.segment]) - 1
    sum_a = cum_a[last] - cum_a + a
    sum_b = cum_b[last] - cum_b + b
    contrib = 100.0 * (log_p * sum_b - sum_a)
    return np.bincount(ev.pair, weights=contrib, minlength=ev.pair_first.size)
