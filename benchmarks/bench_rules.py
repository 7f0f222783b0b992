"""Benchmark of the per-forecast rules against their bare numpy expressions; one JSON line.

    python benchmarks/bench_rules.py [--n 10000000] [--options 2]

Data: N forecasts of K options as an (N, K) float64 array (probabilities to
0.001, rows summing to 1) and N outcome indices. Times, each the best of
``--repeat`` runs in this process: the public ``brier_score`` and ``log_score``
(validation included), the bare numpy expressions computing the same values
with no checks, and ``np.sum`` over the array as a floor. The ratios are
public / bare; the issue's target is at most 3.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoring  # noqa: E402


def data(n: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, k) probabilities that sum to 1 exactly enough, and outcomes."""
    rng = np.random.default_rng(seed)
    p = np.round(rng.dirichlet(np.ones(k), n), 3)
    p = np.maximum(p, 0.001)
    p[:, -1] = 0.0
    p[:, -1] = 1.0 - p.sum(axis=1)  # the last option takes the rounding
    bad = p[:, -1] <= 0.0
    p[bad] = 1.0 / k
    return p, rng.integers(0, k, n)


def bare_brier(p: np.ndarray, o: np.ndarray) -> np.ndarray:
    """sum_k (p_k - [k = o])^2 with no checks."""
    return np.square(p - np.eye(p.shape[1])[o]).sum(axis=1)


def bare_log(p: np.ndarray, o: np.ndarray) -> np.ndarray:
    """-ln p_o with no checks."""
    return -np.log(np.take_along_axis(p, o[:, None], axis=1)[:, 0])


def best(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000)
    parser.add_argument("--options", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    p, o = data(args.n, args.options)
    # The public and bare values must agree, or the comparison means nothing.
    assert np.allclose(scoring.brier_score(p, o), bare_brier(p, o), rtol=0, atol=1e-12)
    assert np.allclose(scoring.log_score(p, o), bare_log(p, o), rtol=0, atol=1e-12)
    t = {
        "sum": best(lambda: p.sum(), args.repeat),
        "brier": best(lambda: scoring.brier_score(p, o), args.repeat),
        "bare_brier": best(lambda: bare_brier(p, o), args.repeat),
        "log": best(lambda: scoring.log_score(p, o), args.repeat),
        "bare_log": best(lambda: bare_log(p, o), args.repeat),
    }
    print(json.dumps({
        "n_forecasts": args.n,
        "options": args.options,
        **{f"{name}_seconds": round(s, 4) for name, s in t.items()},
        "brier_ratio_to_bare": round(t["brier"] / t["bare_brier"], 2),
        "log_ratio_to_bare": round(t["log"] / t["bare_log"], 2),
        "brier_ratio_to_sum": round(t["brier"] / t["sum"], 1),
        "log_ratio_to_sum": round(t["log"] / t["sum"], 1),
        "load_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
