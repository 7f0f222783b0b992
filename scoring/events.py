"""Event order: the forecasts sorted by (question, time, record order).

Each forecast is an *event*: it starts standing at its time and replaces the
same user's previous forecast on the question. Two steps, with array
operations only:

1. The caller groups the forecasts by question stably, with one global sort
   of the packed key (question, input position) (``_kernels.group_sort``),
   and may reorder whole questions (see ``crowd.question_rank``).
2. ``build_events`` on a run of whole questions: record order is usually
   chronological, so times are already sorted within each question (where
   not, a stable row sort by time fixes that question). Then the packed key
   (user, position) is sorted inside each question (row sorts, see
   ``_segments``): equal neighbours are one user's forecasts in time order,
   which links each event to the same user's previous and next forecast and
   forms the (question, user) pairs in user order.

Ties: equal times keep record order, so the later-recorded forecast comes
later and stands; the earlier one stands for zero time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import INT64_MAX, bit_width, dense_codes
from ._segments import segment_argsort, segment_sort


@dataclass(frozen=True, eq=False)
class Events:
    """A run of whole questions in event order, with segments and pairs."""

    forecast: np.ndarray      # int64[M] index into the input forecasts
    at: np.ndarray            # int64[M]
    user: np.ndarray          # int64[M]
    segment: np.ndarray       # int64[M] segment (question) of each event
    seg_start: np.ndarray     # int64[S] first event of each segment
    seg_len: np.ndarray       # int64[S]
    seg_key: np.ndarray       # int64[S] the caller's key (question rank) of each segment
    prev: np.ndarray          # int64[M] same user's previous event, -1 if first
    next: np.ndarray          # int64[M] same user's next event, -1 if last
    pair: np.ndarray          # int64[M] pair of each event; pairs sorted by (segment, user)
    pair_first: np.ndarray    # int64[P] first event of each pair

    @property
    def seg_end(self):
        """One past the last event of each segment."""
        return self.seg_start + self.seg_len

    def interval_end_times(self, close_times):
        """End of each event's interval: the next event's time in its segment,
        or ``close_times[segment]`` after the last one."""
        t = np.empty_like(self.at)
        t[:-1] = self.at[1:]
        t[self.seg_end - 1] = close_times
        return t


def build_events(forecast, key, user, at) -> Events:
    """Events of the forecasts ``forecast``, already grouped by ``key``."""
    m = forecast.size
    new = np.ones(m, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=new[1:])
    seg_start = np.flatnonzero(new)
    seg_len = np.diff(np.append(seg_start, m))
    segment = np.repeat(np.arange(seg_start.size), seg_len)
    t = at[forecast]
    back = (t[1:] < t[:-1]) & ~new[1:]
    if back.any():  # rare: records out of time order; stable re-sort by time
        bad = np.unique(segment[1:][back])
        perm = segment_argsort(t, seg_start[bad], seg_len[bad], pad=INT64_MAX, stable=True)
        forecast, t = forecast[perm], t[perm]
    u = user[forecast]
    first_pos = np.repeat(seg_start, seg_len)
    shift = bit_width(int(seg_len.max()) - 1) if m else 1
    ukey = u
    if m and bit_width(int(u.max())) + shift > 62:
        ukey = dense_codes(u)[0]
    packed = segment_sort((ukey << shift) | (np.arange(m) - first_pos), seg_start, seg_len,
                          pad=INT64_MAX)
    pos = first_pos + (packed & ((1 << shift) - 1))  # events by (segment, user, time)
    owner = packed >> shift
    same = np.zeros(m, dtype=bool)  # same[i]: pos[i] continues pos[i-1]'s pair
    np.equal(owner[1:], owner[:-1], out=same[1:])
    same[1:] &= ~new[1:]  # row sorts keep each segment in its own positions
    prev = np.empty(m, dtype=np.int64)
    nxt = np.empty(m, dtype=np.int64)
    prev[pos[1:]] = np.where(same[1:], pos[:-1], -1)
    nxt[pos[:-1]] = np.where(same[1:], pos[1:], -1)
    if m:
        prev[pos[0]] = -1
        nxt[pos[-1]] = -1
    pair = np.empty(m, dtype=np.int64)
    pair[pos] = np.cumsum(~same) - 1
    return Events(forecast=forecast, at=t, user=u, segment=segment, seg_start=seg_start,
                  seg_len=seg_len, seg_key=key[seg_start], prev=prev, next=nxt,
                  pair=pair, pair_first=pos[~same])
