"""A deliberately slow scalar implementation of the numeric scores (SPEC
section 11) and of their time averaging (SPEC section 5).

Independent of ``scoring``: plain Python loops over grid cells and an
explicit sweep over each question's distinct event times. The CRPS integral
is taken piece by piece with Simpson's rule, which is exact here because on
each piece (a grid cell, split at y) the integrand (F - H)^2 is a quadratic.
"""

from __future__ import annotations

import math

GRID = 200


def grid(lo, hi):
    """x_k = lo + k (hi - lo) / 200, k = 0..200 (SPEC section 11)."""
    return [lo + k * (hi - lo) / GRID for k in range(GRID + 1)]


def cdf_at(cdf, lo, hi, x):
    """F(x): 0 below lo, F_0 at lo, linear between grid points, F_200 up to
    hi and 1 above it."""
    if x < lo:
        return 0.0
    if x > hi:
        return 1.0
    xs = grid(lo, hi)
    for k in range(GRID):
        if xs[k] <= x <= xs[k + 1]:
            return cdf[k] + (cdf[k + 1] - cdf[k]) * (x - xs[k]) / (xs[k + 1] - xs[k])
    return cdf[GRID]


def crps(cdf, y, lo, hi):
    """(int_lo^hi (F(x) - [x >= y])^2 dx + dist(y, [lo, hi])) / (hi - lo)."""
    xs = grid(lo, hi)
    total = 0.0
    for k in range(GRID):
        cuts = [xs[k], xs[k + 1]]
        if xs[k] < y < xs[k + 1]:
            cuts.insert(1, y)
        for a, b in zip(cuts[:-1], cuts[1:]):
            mid = (a + b) / 2.0
            step = 1.0 if mid >= y else 0.0

            def f(x):
                return cdf[k] + (cdf[k + 1] - cdf[k]) * (x - xs[k]) / (xs[k + 1] - xs[k])

            total += (b - a) / 6.0 * ((f(a) - step) ** 2 + 4.0 * (f(mid) - step) ** 2
                                      + (f(b) - step) ** 2)
    dist = max(lo - y, 0.0, y - hi)
    return (total + dist) / (hi - lo)


def bucket_probability(cdf, y, lo, hi):
    """F_{k+1} - F_k for the bucket [x_k, x_{k+1}) holding y (the last one
    closed), F_0 below lo, 1 - F_200 above hi."""
    if y < lo:
        return cdf[0]
    if y > hi:
        return 1.0 - cdf[GRID]
    xs = grid(lo, hi)
    for k in range(GRID):
        if xs[k] <= y < xs[k + 1] or k == GRID - 1:
            return cdf[k + 1] - cdf[k]
    raise AssertionError("unreachable")


def bucket_log(cdf, y, lo, hi):
    return -math.log(bucket_probability(cdf, y, lo, hi))


def pit(cdf, y, lo, hi):
    """F(y); 0 below lo, 1 above hi."""
    return cdf_at(cdf, lo, hi, y)


def quantile(cdf, lo, hi, p):
    """inf {x : F(x) >= p} by a scan over the cells."""
    if cdf[0] >= p:
        return lo
    xs = grid(lo, hi)
    for k in range(1, GRID + 1):
        if cdf[k] >= p:
            return xs[k - 1] + (p - cdf[k - 1]) / (cdf[k] - cdf[k - 1]) * (xs[k] - xs[k - 1])
    return hi


def score_numeric(questions, forecasts):
    """Reference ``score_numeric``.

    ``questions``: dict of lists open_at, close_at, end_at, outcome (None when
    not scored), range_min, range_max. ``forecasts``: dict of lists question,
    user, at, cdf (lists of 201 numbers). Returns ``rows`` {(q, u): {crps,
    log, peer, coverage}}, ``crowd`` {q: {crps, log, start}}, ``weight`` and
    ``pit`` (lists aligned with the forecasts; pit None when unscored).
    """
    n = len(forecasts["question"])
    weight, pits = [0.0] * n, [None] * n
    rows, crowd = {}, {}
    for q in range(len(questions["open_at"])):
        y = questions["outcome"][q]
        if y is None:
            continue
        t0, s, t1 = questions["open_at"][q], questions["close_at"][q], questions["end_at"][q]
        lo, hi = questions["range_min"][q], questions["range_max"][q]
        mine = [i for i in range(n) if forecasts["question"][i] == q
                and t0 <= forecasts["at"][i] < t1]
        if not mine:
            continue
        mine.sort(key=lambda i: (forecasts["at"][i], i))
        times = sorted({forecasts["at"][i] for i in mine}) + [t1]
        standing, stood, first_at, acc = {}, {i: 0 for i in mine}, {}, {}
        crowd_acc = [0.0, 0.0]
        own = {i: crps(forecasts["cdf"][i], y, lo, hi) for i in mine}  # fixed while it stands
        nxt = 0
        for j in range(len(times) - 1):
            t, dt = times[j], times[j + 1] - times[j]
            while nxt < len(mine) and forecasts["at"][mine[nxt]] == t:
                i = mine[nxt]
                u = forecasts["user"][i]
                standing[u] = i
                first_at.setdefault(u, t)
                acc.setdefault(u, [0.0, 0.0, 0.0])
                nxt += 1
            logs = {u: math.log(bucket_probability(forecasts["cdf"][i], y, lo, hi))
                    for u, i in standing.items()}
            for u, i in standing.items():
                stood[i] += dt
                acc[u][0] += dt * own[i]
                acc[u][1] += dt * -logs[u]
                if len(standing) >= 2:
                    others = (sum(logs.values()) - logs[u]) / (len(standing) - 1)
                    acc[u][2] += 0.5 * 100.0 * (logs[u] - others) * dt / (s - t0)
            if dt > 0:
                members = [forecasts["cdf"][i] for i in standing.values()]
                mean = [sum(c[k] for c in members) / len(members) for k in range(GRID + 1)]
                crowd_acc[0] += dt * crps(mean, y, lo, hi)
                crowd_acc[1] += dt * bucket_log(mean, y, lo, hi)
        for u, (c, lg, pe) in acc.items():
            window = t1 - first_at[u]
            rows[(q, u)] = {"crps": c / window, "log": lg / window, "peer": pe,
                            "coverage": window / (s - t0)}
        for i in mine:
            weight[i] = stood[i] / (t1 - first_at[forecasts["user"][i]])
            pits[i] = pit(forecasts["cdf"][i], y, lo, hi)
        window = t1 - times[0]
        crowd[q] = {"crps": crowd_acc[0] / window, "log": crowd_acc[1] / window,
                    "start": times[0]}
    return {"rows": rows, "crowd": crowd, "weight": weight, "pit": pits}
