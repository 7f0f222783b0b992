"""Benchmark of the scoring engine on synthetic data; prints one JSON line.

    python benchmarks/bench_scoring.py [--n 10000000] [--shuffle-records]

Data: N forecast updates over N/100 questions and N/1000 users. Binary and
multiple-choice questions mixed (K = 2..6, some ordered), 10% annulled or
unresolved, 15% resolved early (known_at before close). Each question has a
few dozen forecasters (heavy-tailed: a few popular questions have hundreds)
who update a few times; probabilities are given to 0.001 like the app's
inputs. Records are in chronological order, as database ids are assigned in
a live app (``--shuffle-records`` shuffles them, the worst case for the
grouping step). Generation is not timed. The full pass runs with the
engine's default number of workers and again with one.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring  # noqa: E402
from scoring import engine  # noqa: E402
from tests.scoring import reference_impl  # noqa: E402
from tests.scoring.builders import as_lists  # noqa: E402

DAY = 86_400 * 1_000_000  # microseconds


def synthetic(n, seed=0, shuffle=False):
    """Questions and Forecasts with about ``n`` forecast updates."""
    rng = np.random.default_rng(seed)
    n_q, n_users = max(n // 100, 1), max(n // 1000, 10)
    k = np.where(rng.random(n_q) < 0.55, 2, rng.integers(3, 7, n_q))
    ordered = (k > 2) & (rng.random(n_q) < 0.4)
    open_at = rng.integers(0, 3 * 365, n_q) * DAY
    close_at = open_at + rng.integers(30, 366, n_q) * DAY
    outcome = rng.integers(0, k)
    outcome[rng.random(n_q) < 0.10] = -1
    early = rng.random(n_q) < 0.15
    known = open_at + ((close_at - open_at) * rng.uniform(0.3, 1.0, n_q)).astype(np.int64)
    end_at = np.where(early, known, close_at)

    size = rng.lognormal(0.0, 0.8, n_q)
    size = np.maximum(1, np.round(size / size.sum() * n)).astype(np.int64)
    question = np.repeat(np.arange(n_q), size)
    n = question.size
    forecasters = np.maximum(1, size // 3)
    slot = (rng.random(n) * forecasters[question]).astype(np.int64)
    base = rng.integers(0, n_users, n_q)
    stride = rng.choice(np.array([1, 3, 7, 9, 11, 13, 17, 19, 21, 23]), n_q)
    user = (base[question] + slot * stride[question]) % n_users
    span = close_at - open_at
    at = open_at[question] + (rng.random(n) * span[question]).astype(np.int64) // 1_000_000 * 1_000_000

    kf = k[question]
    raw = rng.gamma(1.0, 1.0, (n, 6))
    raw[np.arange(6)[None, :] >= kf[:, None]] = 0.0
    p = np.maximum(np.round(raw / raw.sum(1, keepdims=True), 3), 0.001)
    p /= np.where(np.arange(6)[None, :] < kf[:, None], p, 0).sum(1, keepdims=True)
    record = rng.permutation(n) if shuffle else np.argsort(at, kind="stable")
    question, user, at, p, kf = question[record], user[record], at[record], p[record], kf[record]
    flat = p[np.arange(6)[None, :] < kf[:, None]]
    qs = scoring.Questions(open_at, close_at, end_at, outcome, k, ordered)
    fs = scoring.Forecasts(question, user, at, flat)
    return qs, fs


def subsample(qs, fs, n_target, seed=1):
    """Whole questions, drawn at random, adding up to about ``n_target`` updates."""
    rng = np.random.default_rng(seed)
    counts = np.bincount(fs.question, minlength=len(qs))
    order = rng.permutation(len(qs))
    chosen = order[np.cumsum(counts[order]) <= n_target]
    keep_q = np.zeros(len(qs), bool)
    keep_q[chosen] = True
    new_index = np.cumsum(keep_q) - 1
    rows = np.flatnonzero(keep_q[fs.question])
    k = qs.n_options[fs.question]
    offsets = np.concatenate(([0], np.cumsum(k)))
    flat_rows = np.repeat(offsets[rows], k[rows]) + (
        np.arange(k[rows].sum()) - np.repeat(np.cumsum(k[rows]) - k[rows], k[rows]))
    sub_q = scoring.Questions(qs.open_at[chosen_sorted := np.flatnonzero(keep_q)],
                              qs.close_at[chosen_sorted], qs.end_at[chosen_sorted],
                              qs.outcome[chosen_sorted], qs.n_options[chosen_sorted],
                              qs.ordered[chosen_sorted])
    sub_f = scoring.Forecasts(new_index[fs.question[rows]], fs.user[rows], fs.at[rows],
                              fs.probs[flat_rows])
    return sub_q, sub_f


def full_pass(qs, fs, workers=None):
    """score_questions followed by the brier leaderboard over all rows."""
    s = scoring.score_questions(qs, fs, workers=workers)
    values = {"brier": s.brier, "log": s.log, "peer": s.peer, "coverage": s.coverage}
    return scoring.leaderboard(s.user, values, metric="brier")


def timed(fn, repeat=3):
    """Median wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--subsample", type=int, default=100_000)
    parser.add_argument("--shuffle-records", action="store_true")
    args = parser.parse_args()
    qs, fs = synthetic(args.n, shuffle=args.shuffle_records)

    score_s = timed(lambda: full_pass(qs, fs))
    one_thread_s = timed(lambda: full_pass(qs, fs, workers=1))
    shift = int(fs.at.max() - fs.at.min()).bit_length()
    ubits = int(fs.user.max()).bit_length()
    key = (((fs.question << ubits) | fs.user) << shift) | (fs.at - fs.at.min())
    argsort_s = timed(lambda: np.argsort(key))

    sub_q, sub_f = subsample(qs, fs, args.subsample)
    engine_s = timed(lambda: scoring.score_questions(sub_q, sub_f))
    qd, fd = as_lists(sub_q, sub_f)
    t0 = time.perf_counter()
    reference_impl.score_questions(qd, fd)
    reference_s = time.perf_counter() - t0

    print(json.dumps({
        "n_forecasts": len(fs),
        "n_questions": len(qs),
        "record_order": "shuffled" if args.shuffle_records else "chronological",
        "score_seconds": round(score_s, 3),
        "argsort_seconds": round(argsort_s, 3),
        "ratio_to_argsort": round(score_s / argsort_s, 2),
        "workers": engine._default_workers(),
        "score_seconds_one_worker": round(one_thread_s, 3),
        "subsample_forecasts": len(sub_f),
        "engine_subsample_seconds": round(engine_s, 4),
        "reference_subsample_seconds": round(reference_s, 2),
        "speedup": round(reference_s / engine_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
