"""``score_questions``: all of SPEC section 5 in one vectorised pass.

Only forecasts with T0 <= at < T1 on questions with outcome >= 0 count. A
forecast stands from its time until the same user's next forecast or T1
(carry-forward; ties in time go to the later record). Per (question, user):
duration-weighted means of Brier, log and RPS over the user's window
[first at, T1), coverage, and the peer score. Per question: the crowd's
scores, time-weighted from the first scored forecast to T1.

After one global grouping sort, the events are processed in blocks of whole
questions (about ``_BLOCK_EVENTS`` events each): every step inside works on
arrays that stay in cache, and no step needs more than one block's memory.
The loop runs over blocks of data, not over questions or forecasts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import INT64_MAX, concat_ranges, group_sort, segmented_count, slot_rules
from .crowd import question_rank, slot_prefixes
from .crowdscore import crowd_scores
from .data import Forecasts, Questions, flat_offsets
from .events import build_events
from .peer import peer_by_pair

_BLOCK_EVENTS = 1 << 16


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
                    crowd_points: bool = False) -> QuestionScores:
    """Score every resolved question and (question, user) pair (SPEC section 5).

    Per forecast: Brier sum_k (p_k - [k=o])^2 (Brier 1950), log -ln p_o, RPS
    (Epstein 1969). Per pair: duration-weighted means over [first at, T1);
    coverage (T1 - first at)/(S - T0); peer = integral over [T0, T1) of
    100 (ln p_i - mean_{j != i} ln p_j) while N >= 2 stand, divided by S - T0
    (Metaculus peer score). Crowd: median P(yes) (binary) or mean vector.
    Probability rows must sum to 1 within 1e-6 (checked on scored forecasts).
    The ``crowd_points_*`` arrays are filled only with ``crowd_points=True``
    (else they are empty).
    """
    if not isinstance(questions, Questions):
        raise ValueError("questions: expected a scoring.Questions")
    if not isinstance(forecasts, Forecasts):
        raise ValueError("forecasts: expected a scoring.Forecasts")
    offsets = flat_offsets(questions.n_options, forecasts, check_sums=False)
    fq = forecasts.question
    at = forecasts.at
    # Unresolved questions open "never", so one comparison per bound suffices.
    open_at = np.where(questions.outcome >= 0, questions.open_at, INT64_MAX)
    scored = np.flatnonzero((at >= open_at[fq]) & (at < questions.end_at[fq]))
    q = len(questions)
    forecast, key = group_sort(fq[scored], scored)

    weight = np.zeros(len(forecasts))
    crowd = {name: np.full(q, np.nan) for name in _CROWD_FIELDS[:3]}
    crowd["crowd_start"] = np.full(q, -1, dtype=np.int64)
    # Outputs sized by an upper bound (a pair or point has at least one
    # scored event), filled block by block and trimmed at the end; pages
    # never written are never touched.
    bound = scored.size
    rows = {name: np.empty(bound, np.int64 if name in ("question", "user") else np.float64)
            for name in _PAIR_FIELDS}
    points = (np.empty(bound if crowd_points else 0, np.int64),
              np.empty(bound if crowd_points else 0), np.empty(bound if crowd_points else 0))
    n_rows = n_points = 0
    for lo, hi in _blocks(key, _BLOCK_EVENTS):
        ev, seg_q = _block_events(forecast[lo:hi], key[lo:hi], questions, forecasts)
        n, w, seg_crowd = _score_block(ev, seg_q, questions, forecasts.probs, offsets,
                                       rows, n_rows)
        n_rows += n
        weight[ev.forecast] = w
        for name in _CROWD_FIELDS:
            crowd[name][seg_q] = seg_crowd[name]
        if crowd_points:
            seg, p_yes, p_weight = seg_crowd["points"]
            end = n_points + seg.size
            np.take(seg_q, seg, out=points[0][n_points:end], mode="clip")
            points[1][n_points:end] = p_yes
            points[2][n_points:end] = p_weight
            n_points = end
    rows = {name: values[:n_rows] for name, values in rows.items()}
    return QuestionScores(forecast_weight=weight, **rows, **crowd,
                          crowd_points_question=points[0][:n_points],
                          crowd_points_p_yes=points[1][:n_points],
                          crowd_points_weight=points[2][:n_points])


def _blocks(key, size):
    """(lo, hi) ranges of about ``size`` events that never split a question."""
    m = key.size
    starts = np.flatnonzero(np.diff(key, prepend=-1))
    cuts = starts[np.searchsorted(starts, np.arange(size, m, size))] if m > size else []
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


def _score_block(ev, seg_q, questions, probs, offsets, rows, at):
    """Write the block's pair rows (by question, user) into ``rows`` from
    position ``at``; return their number, forecast weights and crowd scores."""
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
    for name, values in pairs.items():
        np.take(values, back, out=rows[name][at:at + n_pairs], mode="clip")
    seg_crowd = crowd_scores(ev, seg_k, probs, row_start, outcome, dt, standing, prefix,
                             questions.ordered[seg_q], t1)
    return n_pairs, weight, seg_crowd
