"""Benchmark of the numeric scoring engine (issue #14 point 6); prints one JSON line.

    python benchmarks/bench_numeric.py [--n 1000000] [--small] [--dtype float32]

Data: N numeric forecast updates over N/100 questions and N/1000 users, each a
201-point CDF (a mixture of two logistics over a floor, as the web form's
mixture input produces; some questions open on one side), stored as float32
like the app's packed form unless ``--dtype float64``; 10% of the questions
unresolved, 15% resolved early. Records are in chronological order.
Generation and the input validation (``NumericForecasts``) are not in
``score_seconds``; validation is timed separately. ``score_seconds`` is the
median of 3 full passes of ``score_numeric`` (every per-forecast score, the
time averages, peer, coverage, PIT and the crowd); ``argsort_seconds`` the
median of 3 ``np.argsort`` of the packed (question, user, time) key of the
same forecasts, in the same process. ``--small`` runs 100k updates.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring  # noqa: E402
from scoring import engine  # noqa: E402
from bench_scoring import timed  # noqa: E402 (one definition of the benchmarks' timing)

DAY = 86_400 * 1_000_000  # microseconds
GRID = 200


def synthetic_cdfs(rng, n, open_lower, open_upper, dtype, chunk=1 << 13):
    """n CDFs on the grid (as float ``dtype``), built in chunks to bound memory."""
    out = np.empty((n, GRID + 1), dtype=dtype)
    s = np.arange(GRID) + 0.5
    for lo in range(0, n, chunk):
        m = min(chunk, n - lo)
        centre = rng.uniform(10, 190, (m, 2))
        scale = rng.uniform(2, 40, (m, 2))
        mix = rng.uniform(0.2, 0.8, m)
        z = (s[None, :, None] - centre[:, None, :]) / scale[:, None, :]
        pdf = np.exp(-z) / (scale[:, None, :] * (1 + np.exp(-z)) ** 2)
        density = mix[:, None] * pdf[:, :, 0] + (1 - mix[:, None]) * pdf[:, :, 1] + 0.05 / GRID
        f0 = np.where(open_lower[lo:lo + m], 0.02, 0.0)
        f200 = np.where(open_upper[lo:lo + m], 0.97, 1.0)
        mass = (f200 - f0)[:, None]
        buckets = 5e-5 + density / density.sum(1, keepdims=True) * (mass - GRID * 5e-5)
        rows = out[lo:lo + m]
        rows[:, 0] = f0
        rows[:, 1:] = f0[:, None] + np.cumsum(buckets, axis=1)
        rows[:, -1] = f200
    return out


def synthetic(n, seed=0, dtype=np.float32):
    """NumericQuestions and (question, user, at, cdf) with about ``n`` updates."""
    rng = np.random.default_rng(seed)
    n_q, n_users = max(n // 100, 1), max(n // 1000, 10)
    open_at = rng.integers(0, 3 * 365, n_q) * DAY
    close_at = open_at + rng.integers(30, 366, n_q) * DAY
    early = rng.random(n_q) < 0.15
    known = open_at + ((close_at - open_at) * rng.uniform(0.3, 1.0, n_q)).astype(np.int64)
    end_at = np.where(early, known, close_at)
    lo = rng.uniform(-1000, 1000, n_q)
    hi = lo + rng.uniform(1, 500, n_q)
    open_lower, open_upper = rng.random((2, n_q)) < 0.3
    share = rng.uniform(np.where(open_lower, -0.05, 0.0), np.where(open_upper, 1.05, 1.0))
    outcome = lo + share * (hi - lo)
    outcome[rng.random(n_q) < 0.10] = np.nan
    qs = scoring.NumericQuestions(open_at, close_at, end_at, outcome, lo, hi)

    size = rng.lognormal(0.0, 0.8, n_q)
    size = np.maximum(1, np.round(size / size.sum() * n)).astype(np.int64)
    question = np.repeat(np.arange(n_q), size)
    m = question.size
    forecasters = np.maximum(1, size // 3)
    slot = (rng.random(m) * forecasters[question]).astype(np.int64)
    base = rng.integers(0, n_users, n_q)
    stride = rng.choice(np.array([1, 3, 7, 9, 11, 13, 17, 19, 21, 23]), n_q)
    user = (base[question] + slot * stride[question]) % n_users
    span = close_at - open_at
    at = open_at[question] + (rng.random(m) * span[question]).astype(np.int64) // 1_000_000 * 1_000_000
    record = np.argsort(at, kind="stable")
    question, user, at = question[record], user[record], at[record]
    cdf = synthetic_cdfs(rng, m, open_lower[question], open_upper[question], dtype)
    return qs, question, user, at, cdf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--small", action="store_true", help="100k updates")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    args = parser.parse_args()
    n = 100_000 if args.small else args.n
    qs, question, user, at, cdf = synthetic(n, dtype=np.dtype(args.dtype))

    t0 = time.perf_counter()
    fs = scoring.NumericForecasts(question, user, at, cdf)
    validate_s = time.perf_counter() - t0
    score_s = timed(lambda: scoring.score_numeric(qs, fs))
    one_worker_s = timed(lambda: scoring.score_numeric(qs, fs, workers=1))
    shift = int(fs.at.max() - fs.at.min()).bit_length()
    ubits = int(fs.user.max()).bit_length()
    key = (((fs.question << ubits) | fs.user) << shift) | (fs.at - fs.at.min())
    argsort_s = timed(lambda: np.argsort(key))

    print(json.dumps({
        "n_forecasts": len(fs),
        "n_questions": len(qs),
        "cdf_dtype": args.dtype,
        "score_seconds": round(score_s, 3),
        "argsort_seconds": round(argsort_s, 4),
        "ratio_to_argsort": round(score_s / argsort_s, 2),
        "workers": engine._default_workers(),
        "score_seconds_one_worker": round(one_worker_s, 3),
        "validate_seconds": round(validate_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "targets": {"score_seconds": 3.0, "ratio_to_argsort": 4.0, "peak_rss_mb": 4096},
    }))


if __name__ == "__main__":
    main()
