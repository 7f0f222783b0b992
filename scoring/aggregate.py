"""The crowd aggregation seam: one function turns the standing forecasts of
each (question, moment) into the crowd's probability vector.

Every crowd figure (chart, question list, crowd scores, crowd calibration)
goes through ``crowd_matrix``. Inputs are the engine's layout (see
DESIGN.md): events of whole questions in segments, multiple-choice questions
first by option count descending, binary questions last; ``query`` holds
sorted event positions, each meaning "the standing forecasts just after this
event" (the latest forecast of every user who has forecast so far).

Aggregators (``AGGREGATORS``):

* ``median`` (default, SPEC 5): binary, the median of P(yes) (the mean of the
  two middle values when N is even); multiple choice, the mean vector.
* ``recency_median`` (Metaculus's community prediction): forecasters ordered
  by the time of their latest update, n = 1 the oldest, weighted
  w_n = exp(sqrt(n) - sqrt(N)); unweighted when N <= 2. Binary: the weighted
  median of P(yes); multiple choice: the weighted median of each option,
  renormalised to sum 1. Ties in time go to record order (the later record
  is the more recent).
* ``extremized_mean`` (Satopaa et al. 2014, "Combining multiple probability
  predictions using a simple logit model", Int. J. Forecasting 30):
  logit p = a * mean_i logit p_i. Averaging the log-odds of forecasters who
  each hold part of the evidence is under-confident (the shared prior is
  counted once, the independent pieces are diluted), and a > 1 restores the
  confidence; the paper's fitted a on Good Judgment data was about 1.2 to
  2.5, so the default is 1.5. Multiple choice: p_k proportional to
  exp(a * mean_i ln p_ik) (an extremized geometric mean, a softmax of the
  mean log-probabilities); for K = 2 this is exactly the binary formula,
  since ln p_1 - ln p_0 = logit p_1.

Weighted median, exactly: sort the values, accumulate their weights in that
order (W the total), lower = the first value whose cumulative weight is
>= W/2, upper = the first whose cumulative weight is > W/2; the median is
(lower + upper)/2. With equal weights this is the ordinary median.

Binary rows always satisfy crowd[:, 0] == 1 - crowd[:, 1] exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate as v
from ._aggregators import extremized_means, recency_medians, running_slot_sums
from ._kernels import segmented_count
from .events import Events
from .median import order_statistics

AGGREGATORS = ("median", "recency_median", "extremized_mean")


@dataclass(frozen=True)
class Aggregator:
    """A crowd aggregator: its ``name`` (one of ``AGGREGATORS``) and, for
    ``extremized_mean``, the extremizing factor ``a``."""

    name: str = "median"
    a: float = 1.5


MEDIAN = Aggregator()


def aggregator(name: str | Aggregator = "median", *, a: float = 1.5) -> Aggregator:
    """Validated ``Aggregator`` from its name (``a`` > 0, finite)."""
    if isinstance(name, Aggregator):
        name, a = name.name, name.a
    if name not in AGGREGATORS:
        raise ValueError(f"aggregator: {name!r} is not one of {', '.join(AGGREGATORS)}")
    a = v.float_array("a", [a])[0]
    if not a > 0:
        raise ValueError(f"a: the extremizing factor must be > 0, got {a!r}")
    return Aggregator(name, float(a))


def slot_prefixes(ev: Events, seg_k):
    """Number of leading events whose question has more than j options, per j."""
    kmax = int(seg_k[0]) if seg_k.size else 0
    n_segs = np.searchsorted(-seg_k, -np.arange(kmax), side="left")
    ends = np.append(0, ev.seg_end)
    return ends[n_segs]


def n_standing(ev: Events):
    """Number of forecasters standing after each event."""
    return segmented_count(ev.prev < 0, ev.seg_start)


def crowd_matrix(ev: Events, seg_k, probs, row_start, query, *, method: Aggregator = MEDIAN,
                 count=None, prefix=None):
    """(numbers standing, crowd (len(query), max K) NaN-padded) after ``query``.

    ``probs``/``row_start``: the flat probability rows of the events;
    ``count``: ``n_standing(ev)[query]`` and ``prefix``: ``slot_prefixes``
    if the caller has them. ``method`` must come from ``aggregator()``.
    """
    if count is None:
        count = n_standing(ev)[query]
    if prefix is None:
        prefix = slot_prefixes(ev, seg_k)
    kmax = int(seg_k[0]) if seg_k.size else 0
    out = np.full((query.size, kmax), np.nan, order="F")  # columns contiguous: per-slot work
    split = int(np.searchsorted(query, prefix[2])) if kmax > 2 else 0
    if method.name == "extremized_mean":
        extremized_means(ev, probs, row_start, query, count, prefix, split, method.a, out)
        return count, out
    if method.name == "recency_median":
        recency_medians(ev, seg_k, probs, row_start, query, count, split, out)
        return count, out
    for slot, n, crowd in mean_slots(ev, seg_k, probs, row_start, query[:split],
                                     count[:split], prefix):
        out[:n, slot] = crowd
    if split < query.size:
        first_binary = int(np.searchsorted(-seg_k, -2, side="left"))
        offset = ev.seg_start[first_binary]
        p_yes = probs[row_start[offset:] + 1]
        median = binary_medians(ev, seg_k, p_yes, query[split:], count[split:])
        out[split:, 0] = 1.0 - median
        out[split:, 1] = median
    return count, out


def binary_medians(ev: Events, seg_k, p_yes, query, count):
    """Median P(yes) of the standing forecasts after each query event.

    ``p_yes`` covers the events of the binary block (the last events);
    ``query`` are sorted events in it and ``count`` the numbers standing.
    """
    first = int(np.searchsorted(-seg_k, -2, side="left"))
    start = ev.seg_start[first:] - ev.seg_start[first] if first < seg_k.size else ev.seg_start[:0]
    offset = ev.seg_start[first] if first < seg_k.size else ev.at.size
    prev = ev.prev[offset:]
    prev = np.where(prev >= 0, prev - offset, -1)
    ranks = np.empty((query.size, 2), dtype=np.int64)
    ranks[:, 0] = (count - 1) >> 1
    ranks[:, 1] = count >> 1
    pair = order_statistics(start, ev.seg_len[first:], p_yes, prev, query - offset, ranks)
    return 0.5 * (pair[:, 0] + pair[:, 1])


def mean_slots(ev: Events, seg_k, probs, row_start, query, count, prefix=None):
    """Yield (slot, n, crowd) per option slot of the multiple-choice block:
    ``crowd`` is the mean probability of that option over the standing
    forecasts after each of the first n ``query`` events (those with the slot).
    ``prefix`` is ``slot_prefixes(ev, seg_k)`` if the caller has it.
    """
    if prefix is None:
        prefix = slot_prefixes(ev, seg_k)
    size = int(prefix[2]) if prefix.size > 2 else 0  # events with >2 options
    yield from running_slot_sums(ev, probs, row_start, query, count, prefix, size)

