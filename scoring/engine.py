"""``score_questions``: all of SPEC section 5 in one vectorised pass.

Only forecasts with T0 <= at < T1 on questions with outcome >= 0 count. A
forecast stands from its time until the same user's next forecast or T1
(carry-forward; ties in time go to the later record). Per (question, user):
duration-weighted means of Brier, log and RPS over the user's window
[first at, T1), coverage, and the peer score. Per question: the crowd's
scores, time-weighted from the first scored forecast to T1.

The scored forecasts are split into *parts* of whole questions (about
``_PART_EVENTS`` each, one radix pass), each part is grouped by question with
one sort, and its events are processed in blocks of whole questions (about
``_BLOCK_EVENTS`` events each): every step inside works on arrays that stay
in cache, and no step needs more than one block's memory. Parts are
independent, so a small thread pool scores several at once (numpy releases
the GIL inside its array operations); results are put together in question
order, so they do not depend on the number of threads. The loops run over
parts and blocks of data, not over questions or forecasts.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from . import _validate as v
from ._kernels import INT64_MAX, concat_ranges, group_sort, segmented_count, slot_rules
from .crowd import question_rank, slot_prefixes
from .aggregate import MEDIAN, Aggregator, aggregator
from .crowdscore import crowd_scores
from .data import Forecasts, Questions, flat_offsets
from .events import build_events
from .peer import peer_by_pair

_BLOCK_EVENTS = 1 << 17
_PART_EVENTS = 1 << 19


@dataclass(frozen=True, eq=False)
class QuestionScores:
    """Scores of one pass: P (question, user) rows, Q questions, N forecasts."""

    question: np.ndarray         # int64[P], rows sorted by (question, user)
    user: np.ndarray             # int64[P]
    brier: np.ndarray            # float64[P]
    log: np.ndarray              # float64[P]
    rps: np.ndarray              # float64[P], NaN unless the question is ordered
    peer: np.ndarray             # float64[P]
    coverage: np.ndarray         # float64[P]
    crowd_brier: np.ndarray      # float64[Q], NaN where not scored / no forecast
    crowd_log: np.ndarray        # float64[Q]
    crowd_rps: np.ndarray        # float64[Q], NaN unless ordered
    crowd_start: np.ndarray      # int64[Q], first scored forecast time, -1 if none
    forecast_weight: np.ndarray  # float64[N], share of the user's window; 0 if unscored
    # The binary crowd as calibration points: one per interval of constant crowd,
    # weighted by its share of the crowd's window (each question weighs 1 in all).
    # Empty unless score_questions(..., crowd_points=True).
    crowd_points_question: np.ndarray  # int64[C]
    crowd_points_p_yes: np.ndarray     # float64[C]
    crowd_points_weight: np.ndarray    # float64[C]


_PAIR_FIELDS = ("question", "user", "brier", "log", "rps", "peer", "coverage")
_CROWD_FIELDS = ("crowd_brier", "crowd_log", "crowd_rps", "crowd_start")


def score_questions(questions: Questions, forecasts: Forecasts, *,
                    crowd_points: bool = False, workers: int | None = None,
                    method: Aggregator = MEDIAN) -> QuestionScores:
    """Score every resolved question and (question, user) pair (SPEC section 5).

    Per forecast: Brier sum_k (p_k - [k=o])^2 (Brier 1950), log -ln p_o, RPS
    (Epstein 1969). Per pair: duration-weighted means over [first at, T1);
    coverage (T1 - first at)/(S - T0); peer = integral over [T0, T1) of
    100 (ln p_i - mean_{j != i} ln p_j) while N >= 2 stand, divided by S - T0
    (Metaculus peer score). Crowd: ``method`` (``scoring.aggregate``; default
    the median P(yes) for binary questions, the mean vector otherwise).
    Probability rows must sum to 1 within 1e-6 (checked on scored forecasts).
    The ``crowd_points_*`` arrays are filled only with ``crowd_points=True``
    (else they are empty). ``workers`` threads score parts of the questions
    at once (default: the CPUs this process may use, at most 4); the result
    does not depend on it.
    """
    if not isinstance(questions, Questions):
        raise ValueError("questions: expected a scoring.Questions")
    if not isinstance(forecasts, Forecasts):
        raise ValueError("forecasts: expected a scoring.Forecasts")
    workers = _default_workers() if workers is None else v.positive_int("workers", workers)
    method = aggregator(method)
    offsets = flat_offsets(questions.n_options, forecasts, check_sums=False)
    fq = forecasts.question
    at = forecasts.at
    # Unresolved questions open "never", so one comparison per bound suffices.
    open_at = np.where(questions.outcome >= 0, questions.open_at, INT64_MAX)
    scored = (at >= open_at[fq]) & (at < questions.end_at[fq])
    q = len(questions)

    weight = np.zeros(len(forecasts))
    crowd = {name: np.full(q, np.nan) for name in _CROWD_FIELDS[:3]}
    crowd["crowd_start"] = np.full(q, -1, dtype=np.int64)

    def score_part(part):
        """Pair rows and crowd points of one part, block by block; the
        weights and crowd scores go straight to their (disjoint) places."""
        forecast, key = group_sort(fq[part], part)
        blocks = []
        for lo, hi in _blocks(key, _BLOCK_EVENTS):
            ev, seg_q = _block_events(forecast[lo:hi], key[lo:hi], questions, forecasts)
            pairs, w, seg_crowd = _score_block(ev, seg_q, questions, forecasts.probs, offsets,
                                               method)
            weight[ev.forecast] = w
            for name in _CROWD_FIELDS:
                crowd[name][seg_q] = seg_crowd[name]
            seg, p_yes, p_weight = seg_crowd["points"]
            points = (seg_q[seg], p_yes, p_weight) if crowd_points else ()
            blocks.append((pairs, points))
        return blocks

    parts = _parts(fq, scored, q, _PART_EVENTS)
    if workers > 1 and len(parts) > 1:
        with ThreadPoolExecutor(min(workers, len(parts))) as pool:
            results = [b for blocks in pool.map(score_part, parts) for b in blocks]
    else:
        results = [b for part in parts for b in score_part(part)]
    rows = {name: _concat([pairs[name] for pairs, _ in results],
                          np.int64 if name in ("question", "user") else np.float64)
            for name in _PAIR_FIELDS}
    points = [_concat([p[i] for _, p in results if p], dtype)
              for i, dtype in enumerate((np.int64, np.float64, np.float64))]
    return QuestionScores(forecast_weight=weight, **rows, **crowd,
                          crowd_points_question=points[0], crowd_points_p_yes=points[1],
                          crowd_points_weight=points[2])


def _default_workers():
    """The CPUs this process may run on, at most 4."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 4))


def _concat(arrays, dtype):
    return np.concatenate(arrays) if arrays else np.zeros(0, dtype)


def _parts(keys, keep, n_keys, size):
    """Positions where ``keep`` is true, split into runs of whole ``keys`` of
    about ``size`` positions each: keys ascending from run to run, positions
    increasing within each run.

    One stable radix pass on the run number (a uint8, 255 for the positions
    not kept): sorting each run by key afterwards touches a cache-sized range
    instead of all the data.
    """
    counts = np.bincount(keys, weights=keep, minlength=n_keys).astype(np.int64)
    total = int(counts.sum())
    n_parts = min(254, -(-total // size))
    if n_parts <= 1:
        return [np.flatnonzero(keep)]
    before = np.cumsum(counts) - counts
    part_of_key = (before * n_parts // total).astype(np.uint8)
    part = part_of_key[keys]
    part[~keep] = 255
    order = np.argsort(part, kind="stable")
    ends = np.cumsum(np.bincount(part_of_key, weights=counts, minlength=n_parts))
    edges = np.concatenate(([0], ends.astype(np.int64))).tolist()
    return [order[lo:hi] for lo, hi in zip(edges[:-1], edges[1:]) if hi > lo]


def _blocks(key, size):
    """(lo, hi) ranges of about ``size`` events that never split a question."""
    m = key.size
    starts = np.flatnonzero(np.diff(key, prepend=-1))
    first_after = np.searchsorted(starts, np.arange(size, m, size))
    cuts = starts[first_after[first_after < starts.size]]  # none inside the last question
    edges = np.unique(np.concatenate(([0], cuts, [m]))).astype(np.int64)
    return zip(edges[:-1].tolist(), edges[1:].tolist())


def _block_events(forecast, question, questions, forecasts):
    """Events of one block, its questions reordered by ``question_rank``.

    Returns the events and the question of each of their segments.
    """
    starts = np.flatnonzero(np.diff(question, prepend=-1))
    lengths = np.diff(np.append(starts, question.size))
    seg_q = question[starts]
    rank = question_rank(questions.n_options[seg_q], lengths)
    order = np.argsort(rank)
    moved = concat_ranges(starts[order], lengths[order])
    local_key = np.repeat(np.arange(order.size), lengths[order])
    ev = build_events(forecast[moved], local_key, forecasts.user, forecasts.at)
    return ev, seg_q[order]


def _gather_rows(probs, starts, prefix):
    """The probability rows starting at ``starts`` (rows sorted by option
    count, descending; ``prefix`` as in ``slot_prefixes``) gathered into a
    local flat array; returns it and each row's start in it. One broadcast
    gather per option count K, over the rows with exactly K options."""
    row_start = np.empty(starts.size, dtype=np.int64)
    out = np.empty(int(prefix.sum()))
    bounds = np.append(prefix, 0)  # bounds[j]: rows with more than j options
    flat = 0
    for k in range(prefix.size, 1, -1):
        lo, hi = int(bounds[k]), int(bounds[k - 1])
        if hi > lo:
            cells = (starts[lo:hi, None] + np.arange(k)).ravel()
            np.take(probs, cells, out=out[flat:flat + cells.size], mode="clip")  # in range
            row_start[lo:hi] = np.arange(flat, flat + cells.size, k)
            flat += cells.size
    return out, row_start


def _score_block(ev, seg_q, questions, probs, offsets, method):
    """The block's pair rows (by question, user), forecast weights and crowd scores."""
    seg_k = questions.n_options[seg_q]
    t1 = questions.end_at[seg_q]
    span = questions.close_at[seg_q] - questions.open_at[seg_q]
    prefix = slot_prefixes(ev, seg_k)
    probs, row_start = _gather_rows(probs, offsets[ev.forecast], prefix)
    outcome = questions.outcome[seg_q][ev.segment]
    brier, log, rps, sums = slot_rules(probs, row_start, prefix, outcome,
                                       questions.ordered[seg_q][ev.segment])
    bad = np.abs(sums - 1.0) > 1e-6
    if bad.any():
        i = int(ev.forecast[np.flatnonzero(bad)[0]])
        raise ValueError(f"probs: the probabilities of forecast {i} sum to "
                         f"{sums[np.flatnonzero(bad)[0]]!r}, not 1")

    # Own standing time of each forecast, and each pair's window [first at, T1).
    t1_event = t1[ev.segment]
    stand_end = np.where(ev.next >= 0, ev.at[ev.next], t1_event)
    pair_seg = ev.segment[ev.pair_first]
    window = t1[pair_seg] - ev.at[ev.pair_first]
    weight = (stand_end - ev.at) / np.maximum(window, 1)[ev.pair]
    if (window == 0).any():  # cannot happen (at < T1); the last forecast takes it all
        weight[window[ev.pair] == 0] = (ev.next < 0)[window[ev.pair] == 0]
    n_pairs = window.size

    def pair_mean(score):
        return np.bincount(ev.pair, weights=weight * score, minlength=n_pairs)

    dt = ev.interval_end_times(t1) - ev.at
    standing = segmented_count(ev.prev < 0, ev.seg_start)
    pairs = {
        "question": seg_q[pair_seg], "user": ev.user[ev.pair_first],
        "brier": pair_mean(brier), "log": pair_mean(log), "rps": pair_mean(rps),
        "peer": peer_by_pair(ev, -log, dt, span, standing),
        "coverage": window / span[pair_seg],
    }
    # Segments follow question_rank; put the pairs back in question order.
    by_question = np.argsort(seg_q)
    per_seg = np.bincount(pair_seg, minlength=seg_q.size)
    first = np.cumsum(per_seg) - per_seg
    back = concat_ranges(first[by_question], per_seg[by_question])
    pairs = {name: values[back] for name, values in pairs.items()}
    seg_crowd = crowd_scores(ev, seg_k, probs, row_start, outcome, dt, standing, prefix,
                             questions.ordered[seg_q], t1, method)
    return pairs, weight, seg_crowd
