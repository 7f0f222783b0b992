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

from ._kernels import concat_ranges, group_sort, slot_rules
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
    crowd_points_question: np.ndarray  # int64[C]
    crowd_points_p_yes: np.ndarray     # float64[C]
    crowd_points_weight: np.ndarray    # float64[C]


_PAIR_FIELDS = ("question", "user", "brier", "log", "rps", "peer", "coverage")
_CROWD_FIELDS = ("crowd_brier", "crowd_log", "crowd_rps", "crowd_start")


def score_questions(questions: Questions, forecasts: Forecasts) -> QuestionScores:
    """Score every resolved question and (question, user) pair (SPEC section 5).

    Per forecast: Brier sum_k (p_k - [k=o])^2 (Brier 1950), log -ln p_o, RPS
    (Epstein 1969). Per pair: duration-weighted means over [first at, T1);
    coverage (T1 - first at)/(S - T0); peer = integral over [T0, T1) of
    100 (ln p_i - mean_{j != i} ln p_j) while N >= 2 stand, divided by S - T0
    (Metaculus peer score). Crowd: median P(yes) (binary) or mean vector.
    Probability rows must sum to 1 within 1e-6 (checked on scored forecasts).
    """
    if not isinstance(questions, Questions):
        raise ValueError("questions: expected a scoring.Questions")
    if not isinstance(forecasts, Forecasts):
        raise ValueError("forecasts: expected a scoring.Forecasts")
    offsets = flat_offsets(questions.n_options, forecasts, check_sums=False)
    fq = forecasts.question
    at = forecasts.at
    scored = np.flatnonzero((questions.outcome[fq] >= 0) & (at >= questions.open_at[fq])
                            & (at < questions.end_at[fq]))
    q = len(questions)
    forecast, key = group_sort(fq[scored], scored)

    weight = np.zeros(len(forecasts))
    crowd = {name: np.full(q, np.nan) for name in _CROWD_FIELDS[:3]}
    crowd["crowd_start"] = np.full(q, -1, dtype=np.int64)
    parts, points = [], []
    for lo, hi in _blocks(key, _BLOCK_EVENTS):
        ev, seg_q = _block_events(forecast[lo:hi], key[lo:hi], questions, forecasts)
        pairs, w, seg_crowd = _score_block(ev, seg_q, questions, forecasts.probs, offsets)
        parts.append(pairs)
        seg, p_yes, p_weight = seg_crowd.pop("points")
        points.append((seg_q[seg], p_yes, p_weight))
        weight[ev.forecast] = w
        for name in _CROWD_FIELDS:
            crowd[name][seg_q] = seg_crowd[name]
    rows = {name: np.concatenate([p[name] for p in parts]) if parts else
            np.zeros(0, np.int64 if name in ("question", "user") else np.float64)
            for name in _PAIR_FIELDS}
    point_cols = [np.concatenate(c) if points else np.zeros(0, t)
                  for c, t in zip(zip(*points) if points else ((), (), ()),
                                  (np.int64, np.float64, np.float64))]
    return QuestionScores(forecast_weight=weight, **rows, **crowd,
                          crowd_points_question=point_cols[0], crowd_points_p_yes=point_cols[1],
                          crowd_points_weight=point_cols[2])


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


def _score_block(ev, seg_q, questions, probs, offsets):
    """Pair rows (by question, user), forecast weights and crowd scores of a block."""
    seg_k = questions.n_options[seg_q]
    t1 = questions.end_at[seg_q]
    span = questions.close_at[seg_q] - questions.open_at[seg_q]
    # The block's probability rows, gathered once into a local flat array.
    k = seg_k[ev.segment]
    row_start = np.zeros(k.size, dtype=np.int64)
    np.cumsum(k[:-1], out=row_start[1:])
    probs = probs[concat_ranges(offsets[ev.forecast], k)]
    outcome = questions.outcome[seg_q][ev.segment]
    prefix = slot_prefixes(ev, seg_k)
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

    interval_end = ev.interval_end_times(t1)
    pairs = {
        "question": seg_q[pair_seg], "user": ev.user[ev.pair_first],
        "brier": pair_mean(brier), "log": pair_mean(log), "rps": pair_mean(rps),
        "peer": peer_by_pair(ev, -log, interval_end, span),
        "coverage": window / span[pair_seg],
    }
    # Segments follow question_rank; put the pairs back in question order.
    by_question = np.argsort(seg_q)
    per_seg = np.bincount(pair_seg, minlength=seg_q.size)
    first = np.cumsum(per_seg) - per_seg
    back = concat_ranges(first[by_question], per_seg[by_question])
    pairs = {name: values[back] for name, values in pairs.items()}
    seg_crowd = crowd_scores(ev, seg_k, probs, row_start, outcome, interval_end,
                             questions.ordered[seg_q], t1)
    return pairs, weight, seg_crowd
