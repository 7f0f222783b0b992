"""Leaderboard: per-user means over scored questions, ranks and bootstrap
intervals (SPEC section 6).

Global peer (the default ranking, Metaculus's global peer score):
peer_global = sum_q peer_q / max(P, sum_q coverage_q) over the user's
questions, P = ``peer_prior`` (30). Below P question-lifetimes of coverage
the sum is divided by P, so a few lucky questions cannot top the board.
relative_brier is the mean over the user's questions of (user Brier - crowd
Brier on that question), lower is better (Good Judgment Open's idea).

Ranks are competition ranks (1, 2, 2, 4). Two values are *equal* when they
agree after rounding to 40 significant bits (a relative difference below
about 1e-12, i.e. 12 significant decimal digits), so that sums taken in a
different order do not split a tie. Ties are listed by user id.

Bootstrap. The interval is a percentile bootstrap of the ranked metric (the
mean; for peer_total, n times the mean, i.e. the sum over n questions) over
the user's questions. Resampling n questions with replacement gives question
j a multinomial count; we use the Poisson bootstrap instead (Hanley and
MacGibbon 2006; Chamandy et al. 2012): each question gets an independent
Poisson(1) weight per replicate and the replicate statistic is the weighted
mean sum(w x)/sum(w). It is the large-n limit of multinomial resampling and
agrees with it closely from a handful of questions on, and its weights do not
depend on n, so every user can share one (questions x replicates) weight
matrix: users are grouped by question count into classes within a factor
sqrt(2), and each class's replicate sums are one dense matrix product
(values padded with zeros) @ (weights). The cost is n_boot x P multiply-adds
in BLAS rather than n_boot x P random draws and gathers, about 0.1 s for
P = 3M rows at n_boot = 1000. The weights come in 256 x 256 tiles seeded by
(seed, row tile, column tile), so a user's interval depends only on the seed,
n_boot, level and the user's own values in their row order. Replicates whose
weights are all zero (probability e^-n) are dropped. n_boot = 1000 keeps the
Monte Carlo error of the 5% and 95% quantiles near 0.7 percentile points.
For peer_global the replicate statistic is sum(w peer) / max(P, sum(w
coverage)): both sums are matrix products with the same weights. A user with
a single question gets no interval (NaN): resampling one value can only give
that value back, and a zero-width interval would claim a certainty it lacks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import _validate as v
from ._kernels import (competition_ranks, concat_ranges, dense_codes, round_bits,
                       stable_group_order)

# Sign of the rank key: +1 ranks ascending (lower is better), -1 descending.
_METRICS = {"peer_global": -1.0, "brier": 1.0, "log": 1.0, "peer": -1.0, "peer_total": -1.0}
_TILE = 256
_W_CELLS = 1 << 22      # weight-matrix cells held at once
_STAT_CELLS = 1 << 18   # replicate statistics (users x replicates) per chunk


@dataclass(frozen=True, eq=False)
class Leaderboard:
    """One row per user with at least ``min_questions`` rows, by (rank, user)."""

    user: np.ndarray           # int64
    questions: np.ndarray      # int64
    brier: np.ndarray          # float64 means over the user's questions
    log: np.ndarray
    peer: np.ndarray
    peer_total: np.ndarray     # sum of peer
    peer_global: np.ndarray    # sum of peer / max(peer_prior, sum of coverage)
    relative_brier: np.ndarray # mean of (brier - crowd brier); NaN without crowd_brier
    coverage: np.ndarray       # mean
    rank: np.ndarray           # int64 competition rank by the chosen metric
    interval_low: np.ndarray   # bootstrap interval of the ranked metric
    interval_high: np.ndarray


def leaderboard(user, values, *, metric, min_questions=1, n_boot=1000, level=0.9, seed=0,
                intervals_for=None, peer_prior=30.0, crowd_brier=None):
    """Rank users by a metric with bootstrap intervals (SPEC section 6).

    ``values`` maps "brier", "log", "peer", "coverage" to float arrays aligned
    with ``user`` (one entry per scored (question, user) row). brier and log
    rank ascending; peer, peer_total and peer_global (sum of peer / max(
    ``peer_prior``, sum of coverage)) descending; the interval is the seeded
    percentile (Poisson) bootstrap of the metric over questions, NaN for a
    user with one question. ``crowd_brier`` (aligned with ``user``; NaN where
    unknown) gives relative_brier, the mean of brier - crowd_brier; without it
    relative_brier is NaN. ``intervals_for`` (user ids) limits the bootstrap
    to those users, whose intervals are those of a full run (to rounding);
    the other rows get NaN.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric: must be one of {sorted(_METRICS)}, got {metric!r}")
    user = v.int_array("user", user)
    v.in_range("user", user, 0, np.iinfo(np.int64).max, "must be >= 0")
    if not isinstance(values, Mapping):
        raise ValueError(f"values: expected a mapping of metric name to array, got {values!r}")
    cols = {}
    for name in ("brier", "log", "peer", "coverage"):
        if name not in values:
            raise ValueError(f"values: missing {name!r}")
        cols[name] = v.float_array(f"values[{name!r}]", values[name])
        v.same_length(f"values[{name!r}]", cols[name], user.size, "user")
    min_questions = v.positive_int("min_questions", min_questions)
    n_boot = v.positive_int("n_boot", n_boot)
    level = v.unit_interval("level", level)
    seed = v.positive_int("seed", seed, minimum=0)
    peer_prior = _positive_number("peer_prior", peer_prior)
    if intervals_for is not None:
        intervals_for = v.int_array("intervals_for", intervals_for)
    if crowd_brier is None:
        relative = np.full(user.size, np.nan)
    else:
        crowd_brier = v.float_array("crowd_brier", crowd_brier, finite=False)
        v.same_length("crowd_brier", crowd_brier, user.size, "user")
        if np.isinf(crowd_brier).any():
            v.fail_at("crowd_brier", np.isinf(crowd_brier), crowd_brier,
                      "must be finite (NaN for unknown)")
        relative = cols["brier"] - crowd_brier

    code, ids = dense_codes(user)
    counts = np.bincount(code, minlength=ids.size)
    sums = {k: np.bincount(code, weights=c, minlength=ids.size)
            for k, c in (*cols.items(), ("relative_brier", relative))}
    keep = counts >= min_questions
    kept = np.flatnonzero(keep)
    n = counts[kept]
    table = {k: m[kept] / n for k, m in sums.items()}
    table["peer_total"] = sums["peer"][kept]
    table["peer_global"] = _global_peer(sums["peer"][kept], sums["coverage"][kept], peer_prior)
    ranked = table[metric]

    # One question gives no interval, so it is not bootstrapped at all.
    boot = keep & (counts >= 2)
    if intervals_for is not None:
        boot &= np.isin(ids, intervals_for)
    chosen = np.flatnonzero(boot)
    remap = np.full(ids.size, -1, dtype=np.int64)
    remap[chosen] = np.arange(chosen.size)
    rows = np.flatnonzero(boot[code])
    x = cols["peer" if metric in ("peer_total", "peer_global") else metric][rows]
    cover = cols["coverage"][rows] if metric == "peer_global" else None
    quantiles = ((1.0 - level) / 2.0, (1.0 + level) / 2.0)
    low, high = np.full(kept.size, np.nan), np.full(kept.size, np.nan)
    at = np.searchsorted(kept, chosen)
    low[at], high[at] = _bootstrap_intervals(remap[code[rows]], x, counts[chosen], n_boot,
                                             seed, quantiles, cover, peer_prior)
    if metric == "peer_total":
        low, high = low * n, high * n

    key = _METRICS[metric] * round_bits(ranked)
    order = np.lexsort((ids[kept], key))
    return Leaderboard(
        user=ids[kept][order], questions=n[order],
        brier=table["brier"][order], log=table["log"][order],
        peer=table["peer"][order], peer_total=table["peer_total"][order],
        peer_global=table["peer_global"][order],
        relative_brier=table["relative_brier"][order],
        coverage=table["coverage"][order], rank=competition_ranks(key[order]),
        interval_low=low[order], interval_high=high[order])


def _positive_number(name, x):
    """``x`` as a finite float > 0."""
    if isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name}: expected a number, got {x!r}")
    try:
        value = float(x)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected a number, got {x!r}") from None
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"{name}: must be a finite number > 0, got {x!r}")
    return value


def _global_peer(peer_sum, coverage_sum, prior):
    """Sum of peer over max(prior, sum of coverage), elementwise."""
    return peer_sum / np.maximum(prior, coverage_sum)


def _poisson_table(bits):
    """Inverse CDF of Poisson(1) at the midpoints of 2**bits equal steps."""
    cdf = np.cumsum([math.exp(-1.0) / math.factorial(k) for k in range(20)])
    u = (np.arange(1 << bits) + 0.5) / (1 << bits)
    return np.searchsorted(cdf, u, side="right").astype(np.float64)


_POISSON_16 = _poisson_table(16)


def replicate_weights(seed, n_rows, col_lo, col_hi):
    """Poisson(1) bootstrap weights W[:n_rows, col_lo:col_hi] of the fixed
    tiled matrix for ``seed`` (tiles of 256 x 256, each its own stream).

    Drawn by inverse CDF from 16-bit uniforms (a table lookup, ten times
    faster than ``Generator.poisson``): each count's probability is within
    2**-16 of Poisson(1)'s, counts above 8 never occur (Poisson(1) gives them
    with probability 1e-6)."""
    t_lo, t_hi = col_lo // _TILE, -(-col_hi // _TILE)
    n_tiles = -(-n_rows // _TILE)
    block = np.empty((n_tiles * _TILE, (t_hi - t_lo) * _TILE))
    for i in range(n_tiles):          # tiles of random numbers, not users
        for j in range(t_lo, t_hi):
            rng = np.random.default_rng([seed, i, j])
            uniform = rng.integers(0, 1 << 16, (_TILE, _TILE), dtype=np.uint16)
            block[i * _TILE:(i + 1) * _TILE, (j - t_lo) * _TILE:(j - t_lo + 1) * _TILE] = \
                _POISSON_16[uniform]
    lo = col_lo - t_lo * _TILE
    return block[:n_rows, lo:lo + col_hi - col_lo]


def _bootstrap_intervals(owner, x, n, n_boot, seed, quantiles, cover=None, prior=None):
    """Percentile intervals of each user's Poisson-bootstrap mean, or with
    ``cover`` of the global peer sum(w x) / max(prior, sum(w cover)).

    Users are grouped into classes of question counts within a factor
    sqrt(2); each class's replicate sums are (values, zero-padded) @ weights,
    done in chunks of users (and of replicates when the weight matrix would
    be large) so that every temporary stays small.
    """
    users = n.size
    low, high = np.full(users, np.nan), np.full(users, np.nan)
    if users == 0:
        return low, high
    order = stable_group_order(owner)
    x = x[order]
    stacked = 1 if cover is None else 2   # value rows, then coverage rows
    if cover is not None:
        cover = cover[order]
    first = np.cumsum(n) - n
    n_max = int(n.max())
    step = n_boot if n_max * n_boot <= _W_CELLS else max(
        _TILE, _W_CELLS // n_max // _TILE * _TILE)
    whole = step >= n_boot
    stats = None if whole else np.empty((users, n_boot))
    cls = np.ceil(2.0 * np.log2(n)).astype(np.int64)
    by_class = np.argsort(cls, kind="stable")
    bounds = np.flatnonzero(np.diff(cls[by_class], prepend=-1, append=-1))
    sizes = np.unique(n)
    for c_lo in range(0, n_boot, step):            # replicate chunks
        c_hi = min(n_boot, c_lo + step)
        weights = replicate_weights(seed, n_max, c_lo, c_hi)
        # Column sums of the first c weight rows, for each question count c in use.
        cum_w = np.cumsum(np.add.reduceat(weights, np.append(0, sizes[:-1]), axis=0),
                          axis=0)
        for lo, hi in zip(bounds[:-1], bounds[1:]):  # question-count classes
            members = by_class[lo:hi]
            width = int(n[members].max())
            chunk = max(1, _STAT_CELLS // max(width, c_hi - c_lo) // stacked)
            for u_lo in range(0, members.size, chunk):  # chunks of users
                who = members[u_lo:u_lo + chunk]
                padded = np.zeros((stacked * who.size, width))
                slot = concat_ranges(np.zeros(who.size, np.int64), n[who])
                row = np.repeat(np.arange(who.size), n[who])
                take = concat_ranges(first[who], n[who])
                padded[row, slot] = x[take]
                if cover is not None:
                    padded[row + who.size, slot] = cover[take]
                sums = padded @ weights[:width]
                totals = cum_w[np.searchsorted(sizes, n[who])]
                # The global peer's divisor is at least prior > 0; all-zero
                # replicates (no question drawn) are dropped as for the mean.
                divisor = totals if cover is None else np.maximum(prior, sums[who.size:])
                with np.errstate(invalid="ignore", divide="ignore"):
                    means = sums[:who.size] / np.where(totals > 0, divisor, np.nan)
                if whole:
                    low[who], high[who] = _percentiles(means, quantiles)
                else:
                    stats[who, c_lo:c_hi] = means
    if not whole:
        low, high = _percentiles(stats, quantiles)
    return low, high


def _percentiles(stats, quantiles):
    """Row-wise linear-interpolated quantiles ignoring NaN (numpy's default method)."""
    rows, b = stats.shape
    valid = b - np.isnan(stats).sum(axis=1)
    full = valid == b
    ordered = np.empty_like(stats)
    if full.any():
        h = np.array(quantiles) * (b - 1)
        below = np.floor(h).astype(np.int64)
        kth = sorted({min(int(i), b - 1) for i in (*below, *(below + 1))})
        ordered[full] = np.partition(stats[full], kth, axis=1)
    if (~full).any():
        ordered[~full] = np.sort(stats[~full], axis=1)  # NaN sorts last
    r = np.arange(rows)
    top = np.maximum(valid, 1) - 1
    out = []
    for q in quantiles:
        h = q * top
        lo = np.floor(h).astype(np.int64)
        a, c = ordered[r, lo], ordered[r, np.minimum(lo + 1, top)]
        out.append(a + (h - lo) * (c - a))
    return out
