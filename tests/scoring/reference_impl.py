"""A deliberately simple, slow, scalar implementation of the scoring engine.

Independent of ``scoring``: plain Python loops, an explicit sweep over the
distinct event times of each question, and the SPEC section 5 definitions
written out literally. The tests require the vectorised engine to match it.
"""

from __future__ import annotations

import math


def brier(p, o):
    """Sum over options of (p_k - [k = o])^2."""
    return sum((pk - (1.0 if k == o else 0.0)) ** 2 for k, pk in enumerate(p))


def log_loss(p, o):
    """-ln p_o."""
    return -math.log(p[o])


def rps(p, o):
    """1/(K-1) * sum_{k<K-1} (cumulative p - cumulative one-hot)^2."""
    total, cum = 0.0, 0.0
    for k in range(len(p) - 1):
        cum += p[k]
        total += (cum - (1.0 if k >= o else 0.0)) ** 2
    return total / (len(p) - 1)


def median(values):
    """Median; the mean of the two middle values for an even count."""
    s = sorted(values)
    n = len(s)
    if n % 2:
        return s[n // 2]
    return (s[n // 2 - 1] + s[n // 2]) / 2.0


def crowd_vector(vectors):
    """Median P(yes) for two options, else the mean vector."""
    if len(vectors[0]) == 2:
        m = median([p[1] for p in vectors])
        return [1.0 - m, m]
    k = len(vectors[0])
    return [sum(p[j] for p in vectors) / len(vectors) for j in range(k)]


def score_questions(questions, forecasts):
    """Reference ``score_questions``.

    ``questions``: dict of lists open_at, close_at, end_at, outcome, n_options,
    ordered. ``forecasts``: dict of lists question, user, at, probs (a list of
    probability lists). Returns dict with ``rows`` {(q, u): {brier, log, rps,
    peer, coverage}}, ``crowd`` {q: {brier, log, rps, start}} and ``weight``
    (list aligned with the forecasts).
    """
    n = len(forecasts["question"])
    weight = [0.0] * n
    rows, crowd = {}, {}
    for q in range(len(questions["open_at"])):
        o = questions["outcome"][q]
        if o < 0:
            continue
        t0, s, t1 = questions["open_at"][q], questions["close_at"][q], questions["end_at"][q]
        ordered = questions["ordered"][q]
        mine = [i for i in range(n) if forecasts["question"][i] == q
                and t0 <= forecasts["at"][i] < t1]
        if not mine:
            continue
        mine.sort(key=lambda i: (forecasts["at"][i], i))
        times = sorted({forecasts["at"][i] for i in mine}) + [t1]
        standing = {}
        stood = {i: 0 for i in mine}
        first_at = {}
        acc = {}
        crowd_acc = [0.0, 0.0, 0.0]
        nxt = 0
        for j in range(len(times) - 1):
            t, dt = times[j], times[j + 1] - times[j]
            while nxt < len(mine) and forecasts["at"][mine[nxt]] == t:
                i = mine[nxt]
                u = forecasts["user"][i]
                standing[u] = i
                first_at.setdefault(u, t)
                acc.setdefault(u, [0.0, 0.0, 0.0, 0.0])
                nxt += 1
            logs = {u: math.log(forecasts["probs"][i][o]) for u, i in standing.items()}
            total_log = sum(logs.values())
            for u, i in standing.items():
                p = forecasts["probs"][i]
                stood[i] += dt
                acc[u][0] += dt * brier(p, o)
                acc[u][1] += dt * log_loss(p, o)
                acc[u][2] += dt * (rps(p, o) if ordered else 0.0)
                if len(standing) >= 2:
                    others = (total_log - logs[u]) / (len(standing) - 1)
                    acc[u][3] += 100.0 * (logs[u] - others) * dt / (s - t0)
            c = crowd_vector([forecasts["probs"][i] for i in standing.values()])
            crowd_acc[0] += dt * brier(c, o)
            crowd_acc[1] += dt * log_loss(c, o)
            crowd_acc[2] += dt * (rps(c, o) if ordered else 0.0)
        for u, (b, lg, r, pe) in acc.items():
            window = t1 - first_at[u]
            rows[(q, u)] = {
                "brier": b / window, "log": lg / window,
                "rps": r / window if ordered else math.nan,
                "peer": pe, "coverage": window / (s - t0),
            }
        for i in mine:
            weight[i] = stood[i] / (t1 - first_at[forecasts["user"][i]])
        window = t1 - times[0]
        crowd[q] = {"brier": crowd_acc[0] / window, "log": crowd_acc[1] / window,
                    "rps": crowd_acc[2] / window if ordered else math.nan,
                    "start": times[0]}
    return {"rows": rows, "crowd": crowd, "weight": weight}


def crowd_series(user, at, probs):
    """Crowd after each distinct time: list of (time, crowd vector, count)."""
    order = sorted(range(len(at)), key=lambda i: (at[i], i))
    standing, out = {}, []
    for pos, i in enumerate(order):
        standing[user[i]] = probs[i]
        if pos + 1 == len(order) or at[order[pos + 1]] != at[i]:
            out.append((at[i], crowd_vector(list(standing.values())), len(standing)))
    return out


def round40(x):
    """x rounded to 40 significant bits."""
    m, e = math.frexp(x)
    return math.ldexp(round(math.ldexp(m, 40)), e - 40)


def leaderboard(user, values, metric, min_questions=1, peer_prior=30.0, crowd_brier=None):
    """Rows (user, questions, brier, log, peer, peer_total, peer_global,
    relative_brier, coverage, rank); relative_brier is None without crowd_brier."""
    groups = {}
    for r, u in enumerate(user):
        groups.setdefault(u, []).append(r)
    table = []
    for u, rs in groups.items():
        if len(rs) < min_questions:
            continue
        row = {"user": u, "questions": len(rs)}
        for name in ("brier", "log", "peer", "coverage"):
            row[name] = sum(values[name][r] for r in rs) / len(rs)
        row["peer_total"] = sum(values["peer"][r] for r in rs)
        row["peer_global"] = row["peer_total"] / max(
            peer_prior, sum(values["coverage"][r] for r in rs))
        row["relative_brier"] = None if crowd_brier is None else \
            sum(values["brier"][r] - crowd_brier[r] for r in rs) / len(rs)
        table.append(row)
    sign = 1.0 if metric in ("brier", "log") else -1.0
    table.sort(key=lambda row: (sign * round40(row[metric]), row["user"]))
    for pos, row in enumerate(table):
        same = pos and round40(row[metric]) == round40(table[pos - 1][metric])
        row["rank"] = table[pos - 1]["rank"] if same else pos + 1
    return table


def bootstrap_interval(x, weights, level=0.9, coverage=None, peer_prior=30.0):
    """Percentile interval of one user's replicate statistics, or None for one value.

    ``weights[i][j]`` is the weight of the user's i-th value in replicate j.
    The statistic is sum(w x) / sum(w), or with ``coverage`` the global peer
    sum(w x) / max(peer_prior, sum(w coverage)); replicates that draw nothing
    are dropped. Quantiles interpolate linearly between order statistics.
    """
    if len(x) < 2:
        return None
    stats = []
    for j in range(len(weights[0])):
        w = [weights[i][j] for i in range(len(x))]
        if sum(w) == 0:
            continue
        top = sum(wi * xi for wi, xi in zip(w, x))
        if coverage is None:
            stats.append(top / sum(w))
        else:
            stats.append(top / max(peer_prior, sum(wi * ci for wi, ci in zip(w, coverage))))
    stats.sort()

    def quantile(q):
        h = q * (len(stats) - 1)
        lo = math.floor(h)
        hi = min(lo + 1, len(stats) - 1)
        return stats[lo] + (h - lo) * (stats[hi] - stats[lo])

    return quantile((1 - level) / 2), quantile((1 + level) / 2)
