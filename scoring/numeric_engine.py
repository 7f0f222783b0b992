"""``score_numeric``: SPEC sections 5 and 11 for numeric and date questions.

The same event machinery as ``engine.score_questions`` (parts and blocks of
whole questions, ``events.build_events``, carry-forward, ties to the later
record, ``known_at`` truncation through ``end_at``), with the CDF scores of
``_numeric_kernels``. A forecast's scores do not change while it stands, so
the time average of a piecewise-constant forecast is exactly the
duration-weighted mean of its per-forecast scores.

The crowd is the mean of the standing CDFs. Its bucket probability and the
linear part T of its CRPS are the means of the standing forecasts' (running
sums over the events); only the quadratic part needs the crowd's CDF, which
each block builds as a running sum of CDF changes along its events. One
pass of ``_numeric_kernels.row_sums`` over a block reads each CDF row twice
(as itself, and as the row its user's next forecast replaces), in chunks of
``_CHUNK_TILES`` tiles whose float64 buffers (3.3 MB) stay in cache: the
row's own sums (CRPS, bucket, PIT) and the running sum's quadratic part come
from the same buffers, and no (events, 201) array is allocated. Parts of
``_PART_EVENTS`` (one block each) go to the worker threads from one queue.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import _validate as v
from ._kernels import INT64_MAX, group_sort, segmented_count, segmented_cumsum
from ._numeric_kernels import (cell_parts, chunk_layout, crps_from_parts, grid_position,
                               quad_from_sums, row_sums)
from .engine import _blocks, _concat, _default_workers, _parts
from .events import build_events
from .numeric import cdf_rows
from .peer import peer_by_pair

_BLOCK_EVENTS = 1 << 16
_PART_EVENTS = 1 << 16
_CHUNK_TILES = 128  # tiles of 8 rows per chunk of ``row_sums``: 1,024 positions


def _set(obj, **fields):
    for name, value in fields.items():
        object.__setattr__(obj, name, value)


@dataclass(frozen=True, eq=False)
class NumericQuestions:
    """Numeric (or date) question arrays of length Q (SPEC section 11).

    ``end_at`` is T1 = min(close_at, known_at), computed by the caller;
    ``outcome`` is the resolved value, NaN when the question is not scored
    (annulled or unresolved); the grid runs from ``range_min`` to ``range_max``.
    """

    open_at: np.ndarray
    close_at: np.ndarray
    end_at: np.ndarray
    outcome: np.ndarray
    range_min: np.ndarray
    range_max: np.ndarray

    def __post_init__(self):
        open_at = v.int_array("open_at", self.open_at)
        q = open_at.size
        close_at = v.int_array("close_at", self.close_at)
        end_at = v.int_array("end_at", self.end_at)
        outcome = v.float_array("outcome", self.outcome, finite=False)
        if np.isinf(outcome).any():
            v.fail_at("outcome", np.isinf(outcome), outcome, "must be finite (NaN: not scored)")
        range_min = v.float_array("range_min", self.range_min)
        range_max = v.float_array("range_max", self.range_max)
        for name, a in (("close_at", close_at), ("end_at", end_at), ("outcome", outcome),
                        ("range_min", range_min), ("range_max", range_max)):
            v.same_length(name, a, q, "open_at")
        if (close_at <= open_at).any():
            v.fail_at("close_at", close_at <= open_at, close_at, "must be after open_at")
        if (end_at > close_at).any():
            v.fail_at("end_at", end_at > close_at, end_at, "must not be after close_at")
        if (range_max <= range_min).any():
            v.fail_at("range_max", range_max <= range_min, range_max,
                      "must be greater than range_min")
        _set(self, open_at=open_at, close_at=close_at, end_at=end_at, outcome=outcome,
             range_min=range_min, range_max=range_max)

    def __len__(self):
        return self.open_at.size


@dataclass(frozen=True, eq=False)
class NumericForecasts:
    """Forecast arrays of length N in record order; ``cdf`` is (N, 201),
    float32 or float64 (kept as given, not copied), each row a CDF on its
    question's grid (``numeric.cdf_rows``)."""

    question: np.ndarray
    user: np.ndarray
    at: np.ndarray
    cdf: np.ndarray

    def __post_init__(self):
        question = v.int_array("question", self.question)
        n = question.size
        user = v.int_array("user", self.user)
        at = v.int_array("at", self.at)
        cdf = cdf_rows("cdf", self.cdf)
        for name, a in (("user", user), ("at", at), ("cdf", cdf)):
            v.same_length(name, a, n, "question")
        v.in_range("question", question, 0, np.iinfo(np.int64).max, "must be >= 0")
        v.in_range("user", user, 0, np.iinfo(np.int64).max, "must be >= 0")
        _set(self, question=question, user=user, at=at, cdf=cdf)

    def __len__(self):
        return self.question.size


@dataclass(frozen=True, eq=False)
class NumericScores:
    """Scores of one pass: P (question, user) rows, Q questions, N forecasts."""

    question: np.ndarray         # int64[P], rows sorted by (question, user)
    user: np.ndarray             # int64[P]
    crps: np.ndarray             # float64[P] time-averaged over [first at, T1)
    log: np.ndarray              # float64[P] time-averaged -ln p_b
    peer: np.ndarray             # float64[P] SPEC section 5's peer with p = p_b, times 1/2
    coverage: np.ndarray         # float64[P]
    crowd_crps: np.ndarray       # float64[Q], NaN where not scored / no forecast
    crowd_log: np.ndarray        # float64[Q]
    crowd_start: np.ndarray      # int64[Q], first scored forecast time, -1 if none
    forecast_weight: np.ndarray  # float64[N], share of the user's window; 0 if unscored
    forecast_pit: np.ndarray     # float64[N], F(y); NaN if unscored


_PAIR_FIELDS = ("question", "user", "crps", "log", "peer", "coverage")


def score_numeric(questions: NumericQuestions, forecasts: NumericForecasts, *,
                  workers: int | None = None) -> NumericScores:
    """Score every resolved numeric question and (question, user) pair.

    Only forecasts with T0 <= at < T1 count (SPEC section 5). Per forecast
    (SPEC section 11): CRPS (``numeric.crps``), log -ln p_b
    (``numeric.bucket_log``) and PIT F(y). Per pair: duration-weighted means
    over [first at, T1), coverage (T1 - first at)/(S - T0), and peer = 1/2 *
    the integral over [T0, T1) of 100 (ln p_b,i - mean_{j != i} ln p_b,j)
    while N >= 2 stand, divided by S - T0 (Metaculus's continuous peer
    score). Crowd: the mean of the standing CDFs, scored like a user from the
    first scored forecast to T1. ``workers`` threads score parts at once
    (default: the CPUs available, at most 4); the result does not depend on it.
    """
    if not isinstance(questions, NumericQuestions):
        raise ValueError("questions: expected a scoring.NumericQuestions")
    if not isinstance(forecasts, NumericForecasts):
        raise ValueError("forecasts: expected a scoring.NumericForecasts")
    workers = _default_workers() if workers is None else v.positive_int("workers", workers)
    q = len(questions)
    fq = forecasts.question
    v.in_range("question", fq, 0, q, f"must be a question index below {q}")
    open_at = np.where(np.isnan(questions.outcome), INT64_MAX, questions.open_at)
    at = forecasts.at
    scored = (at >= open_at[fq]) & (at < questions.end_at[fq])

    weight = np.zeros(len(forecasts))
    pit_out = np.full(len(forecasts), np.nan)
    crowd = {"crowd_crps": np.full(q, np.nan), "crowd_log": np.full(q, np.nan),
             "crowd_start": np.full(q, -1, dtype=np.int64)}

    def score_part(part):
        forecast, key = group_sort(fq[part], part)
        blocks = []
        for lo, hi in _blocks(key, _BLOCK_EVENTS):
            ev = build_events(forecast[lo:hi], key[lo:hi], forecasts.user, forecasts.at)
            seg_q = key[lo:hi][ev.seg_start]
            pairs, w, pit, seg_crowd = _score_block(ev, seg_q, questions, forecasts.cdf)
            weight[ev.forecast] = w
            pit_out[ev.forecast] = pit
            for name, values in seg_crowd.items():
                crowd[name][seg_q] = values
            blocks.append(pairs)
        return blocks

    parts = _parts(fq, scored, q, _PART_EVENTS)
    if workers > 1 and len(parts) > 1:
        with ThreadPoolExecutor(min(workers, len(parts))) as pool:
            results = [b for blocks in pool.map(score_part, parts) for b in blocks]
    else:
        results = [b for part in parts for b in score_part(part)]
    rows = {name: _concat([pairs[name] for pairs in results],
                          np.int64 if name in ("question", "user") else np.float64)
            for name in _PAIR_FIELDS}
    return NumericScores(forecast_weight=weight, forecast_pit=pit_out, **rows, **crowd)


def _row_scores(ev, cdf, y, lo, hi):
    """Per event: ``cell_parts`` of its CDF, and Q = int S^2 of the sum S of
    the CDFs standing just after it (grid units), from one ``row_sums`` pass."""
    j, t, u, dist = grid_position(y, lo, hi)
    position, size, head = chunk_layout(ev.segment, ev.seg_start, _CHUNK_TILES)
    index = np.full(size, -1, dtype=np.int64)
    index[position] = ev.forecast
    prev = np.full(size, -1, dtype=np.int64)
    has_prev = ev.prev >= 0
    prev[position[has_prev]] = ev.forecast[ev.prev[has_prev]]
    cells = np.zeros(size, dtype=np.int64)
    cells[position] = j
    sums = row_sums(cdf, index, cells, prev, head, _CHUNK_TILES, wanted=position)
    return cell_parts(sums, y, lo, hi, j, t, u, dist), quad_from_sums(*sums[7:])


def _score_block(ev, seg_q, questions, cdf):
    """Pair rows (by question, user), forecast weights and PIT, crowd scores."""
    t1 = questions.end_at[seg_q]
    span = (questions.close_at[seg_q] - questions.open_at[seg_q]).astype(np.float64)
    seg = ev.segment
    y = questions.outcome[seg_q][seg]
    lo = questions.range_min[seg_q][seg]
    hi = questions.range_max[seg_q][seg]
    (q, tail, p_b, pit, const), running_q = _row_scores(ev, cdf, y, lo, hi)
    if (p_b <= 0.0).any():
        i = int(ev.forecast[np.flatnonzero(p_b <= 0.0)[0]])
        raise ValueError(f"cdf[{i}]: gives the outcome's bucket probability 0 "
                         "(the log score is infinite)")
    crps = crps_from_parts(q, tail, const)
    log_p = np.log(p_b)

    stand_end = np.where(ev.next >= 0, ev.at[ev.next], t1[seg])
    pair_seg = seg[ev.pair_first]
    window = t1[pair_seg] - ev.at[ev.pair_first]  # > 0: at < T1
    weight = (stand_end - ev.at) / window[ev.pair]
    n_pairs = window.size
    dt = ev.interval_end_times(t1) - ev.at
    standing = segmented_count(ev.prev < 0, ev.seg_start)
    pairs = {
        "question": seg_q[pair_seg], "user": ev.user[ev.pair_first],
        "crps": np.bincount(ev.pair, weights=weight * crps, minlength=n_pairs),
        "log": np.bincount(ev.pair, weights=weight * -log_p, minlength=n_pairs),
        "peer": 0.5 * peer_by_pair(ev, log_p, dt, span, standing),
        "coverage": window / span[pair_seg],
    }

    # The crowd after each event with an interval of positive length.
    query = np.flatnonzero(dt > 0)
    n = standing[query].astype(np.float64)
    running = {}
    for name, x in (("tail", tail), ("p_b", p_b)):
        change = x - np.where(ev.prev >= 0, x[ev.prev], 0.0)
        running[name] = segmented_cumsum(change, ev.seg_start)[query] / n
    crowd_q = running_q[query]
    crowd_crps = crps_from_parts(crowd_q / (n * n), running["tail"], const[query])
    crowd_log = -np.log(running["p_b"])
    start = ev.at[ev.seg_start]
    w = dt[query] / (t1 - start)[seg[query]]
    n_seg = seg_q.size
    seg_crowd = {
        "crowd_crps": np.bincount(seg[query], weights=w * crowd_crps, minlength=n_seg),
        "crowd_log": np.bincount(seg[query], weights=w * crowd_log, minlength=n_seg),
        "crowd_start": start,
    }
    return pairs, weight, pit, seg_crowd
