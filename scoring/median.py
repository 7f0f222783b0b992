"""Exact order statistics of the standing forecasts after every event.

Within one question (a *segment* of events), forecast f stands from its own
event until the event that replaces it (the same user's next forecast) or the
end of the segment. We need, for some events e and ranks k, the k-th smallest
value among the forecasts standing after e (the crowd median uses
k = (N-1)//2 and N//2).

Method. Each forecast gets its rank by value within its question (a row sort;
ties in any order, since equal values give equal answers). Then:

* Questions with at most 4096 forecasts: the standing set after e is a bitset
  over ranks of W = 1..64 words. Event e toggles two bits (its own rank on,
  the replaced forecast's off), so the bitsets are one cumulative XOR over
  events, made local to each question by XOR-ing out the prefix before its
  start (XOR is its own inverse, so this is exact). The k-th set bit is found
  with popcounts: a running count over the words, then over the chosen word's bytes
  (SWAR: byte popcounts, their running sums with one multiply, a borrow-free
  byte compare), then a 256 x 8 table.
* Larger questions: a wavelet matrix over ranks, descended for all queries at
  once, one bit per level. Sequence A holds the ranks in start (event) order,
  B in end order; the standing set after e is A[:e+1] minus B[:b(e)] with
  b(e) = number of forecasts ended by e, and forecasts of other questions
  cancel between the two. At each level the count of standing forecasts
  whose next rank bit is 0 is (zeros in A's range) - (zeros in B's range),
  which picks the child and narrows both ranges. O(n log n) time, O(n) memory.

Segments come grouped by ``size_class`` (see ``crowd.question_rank``), so
each class is a contiguous block. The loops run over classes, memory chunks,
bitset words and rank bits; never over forecasts, events or questions.
"""

from __future__ import annotations

import numpy as np

from ._kernels import bit_width, segment_ids
from ._segments import segment_argsort

_BITSET_MAX_RANKS = 4096          # larger questions use the wavelet matrix
_CHUNK_WORDS = 1 << 18            # bitset words materialised at once
_WAVELET = 1 << 20                # size class of the wavelet path (sorts last)


def _select_table():
    """SELECT[b, k] = position of the k-th set bit of byte b (0 if none)."""
    bits = (np.arange(256)[:, None] >> np.arange(8)) & 1
    before = np.cumsum(bits, axis=1) - bits
    table = np.zeros((256, 8), dtype=np.int64)
    byte, pos = np.nonzero(bits)
    table[byte, before[byte, pos]] = pos
    return table


_SELECT_FLAT = _select_table().ravel()


def size_class(n_forecasts):
    """Bitset words (a power of two) for questions of this many forecasts,
    or ``_WAVELET`` for the questions the wavelet matrix handles."""
    n = np.asarray(n_forecasts, dtype=np.int64)
    words = np.maximum((n + 63) // 64, 1)
    pow2 = np.left_shift(1, np.ceil(np.log2(words)).astype(np.int64))
    return np.where(n <= _BITSET_MAX_RANKS, pow2, _WAVELET)


def order_statistics(seg_start, seg_len, values, prev, query, ranks):
    """Value of the ``ranks[:, j]``-th smallest standing forecast after each query.

    Events are ``0 .. len(values)`` in segments; ``prev`` is the same user's
    previous event or -1; ``query`` holds sorted event positions; ``ranks``
    is (len(query), r), each below the number standing. Returns float64
    (len(query), r).
    """
    n = values.size
    segment = segment_ids(seg_start, n)
    perm = segment_argsort(values, seg_start, seg_len, pad=np.inf)
    rank = np.empty(n, dtype=np.int64)
    rank[perm] = np.arange(n) - seg_start[segment[perm]]
    found = np.empty(ranks.shape, dtype=np.int64)
    cls = size_class(seg_len)
    bounds = np.flatnonzero(np.diff(cls, prepend=-1, append=-1))
    for lo, hi in zip(bounds[:-1], bounds[1:]):  # runs of one size class
        e_lo, e_hi = seg_start[lo], seg_start[hi - 1] + seg_len[hi - 1]
        q_lo, q_hi = np.searchsorted(query, [e_lo, e_hi])
        block = (seg_start[lo:hi] - e_lo, seg_len[lo:hi], rank[e_lo:e_hi],
                 _local_prev(prev[e_lo:e_hi], e_lo), query[q_lo:q_hi] - e_lo,
                 ranks[q_lo:q_hi])
        if cls[lo] == _WAVELET:
            found[q_lo:q_hi] = _wavelet_select(*block)
        else:
            found[q_lo:q_hi] = _bitset_select(*block, int(cls[lo]))
    return values[perm][seg_start[segment[query]][:, None] + found]


def _local_prev(prev, offset):
    return np.where(prev >= 0, prev - offset, -1)


def _bitset_select(seg_start, seg_len, rank, prev, query, ranks, words):
    """Bitset path: segments whose ranks fit in ``words`` 64-bit words."""
    found = np.empty(ranks.shape, dtype=np.int64)
    seg_end = seg_start + seg_len
    chunk = (seg_end - 1) // max(1, _CHUNK_WORDS // words)
    edges = np.append(np.flatnonzero(np.diff(chunk, prepend=-1)), seg_len.size)
    for s_lo, s_hi in zip(edges[:-1], edges[1:]):  # memory chunks
        e_lo, e_hi = seg_start[s_lo], seg_end[s_hi - 1]
        q_lo, q_hi = np.searchsorted(query, [e_lo, e_hi])
        q = query[q_lo:q_hi]
        start = seg_start[np.searchsorted(seg_start, q, "right") - 1]
        masks = _standing_bitsets(rank[e_lo:e_hi], _local_prev(prev[e_lo:e_hi], e_lo),
                                  words, q - e_lo, start - e_lo)
        found[q_lo:q_hi] = _kth_set_bit(masks, ranks[q_lo:q_hi])
    return found


def _standing_bitsets(rank, prev, words, row, start):
    """(words, len(row)) standing bitsets after the events ``row``, word-major;
    ``start`` is the first event of each row's segment."""
    m = rank.size
    has_prev = prev >= 0
    r_old = rank[np.where(has_prev, prev, 0)]
    one = np.uint64(1)
    # Word-major, one row per word, with a leading zero column: column e + 1
    # of the running XOR is the standing set after event e (all segments).
    toggles = np.zeros((words, m + 1), dtype=np.uint64)
    flat = toggles.reshape(-1)
    event = np.arange(1, m + 1)
    flat[(rank >> 6) * (m + 1) + event] = one << (rank & 63).astype(np.uint64)
    old = ((r_old >> 6) * (m + 1) + event)[has_prev]
    flat[old] ^= one << (r_old[has_prev] & 63).astype(np.uint64)
    prefix = np.bitwise_xor.accumulate(toggles, axis=1, out=toggles)
    masks = prefix[:, row + 1]
    masks ^= prefix[:, start]  # XOR out the segments before (exact: XOR is its own inverse)
    return masks


_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)


def _kth_set_bit(masks, ks):
    """Position of the ``ks[i, j]``-th (0-based) set bit of bitset i, for
    word-major (words, q) bitsets; returns int64 (q, r)."""
    words, rows = masks.shape
    out = np.empty(ks.shape, dtype=np.int64)
    if words > 1:  # running popcounts over the words, with a leading zero row
        counts = np.zeros((words + 1, rows), dtype=np.int32)
        np.cumsum(np.bitwise_count(masks), axis=0, dtype=np.int32, out=counts[1:])
        flat_masks, flat_counts = masks.reshape(-1), counts.reshape(-1)
        r = np.arange(rows)
    for j in range(ks.shape[1]):  # e.g. the lower and upper middle
        k = ks[:, j]
        if words == 1:
            chosen, base = masks[0], 0
        else:
            word = (counts[1:] <= k.astype(np.int32)).sum(axis=0)
            cell = word * rows + r
            k = k - flat_counts[cell]
            chosen, base = flat_masks[cell], 64 * word
        out[:, j] = base + _select_in_word(chosen, k)
    return out


def _select_in_word(chosen, k):
    """Position of the k-th (0-based) set bit of each 64-bit word."""
    # SWAR: per-byte popcounts, their running sums (one multiply), and the
    # first byte whose running sum exceeds k (a borrow-free byte compare).
    c = chosen - ((chosen >> np.uint64(1)) & _M1)
    c = (c & _M2) + ((c >> np.uint64(2)) & _M2)
    running = (((c + (c >> np.uint64(4))) & _M4) * _ONES)
    k = k.astype(np.uint64)
    at_most = ((k * _ONES | _HIGHS) - running) & _HIGHS
    shift = np.bitwise_count(at_most).astype(np.uint64) << np.uint64(3)
    before = ((running << np.uint64(8)) >> shift) & np.uint64(0xFF)
    byte = (chosen >> shift) & np.uint64(0xFF)
    index = (byte << np.uint64(3)) + (k - before)
    return shift.astype(np.int64) + _SELECT_FLAT[index.astype(np.int64)]


def _wavelet_select(seg_start, seg_len, rank, prev, query, ranks):
    """Wavelet-matrix path for large segments."""
    seg_end = seg_start + seg_len
    end = np.repeat(seg_end, seg_len)  # a forecast ends when replaced, else at its segment's end
    has = prev >= 0
    end[prev[has]] = np.flatnonzero(has)
    by_end = np.argsort(end, kind="stable")
    seq_a, seq_b, end_sorted = rank, rank[by_end], end[by_end]
    r = ranks.shape[1]
    e = np.repeat(query, r)
    k = ranks.ravel().copy()
    hi_a = e + 1
    hi_b = np.searchsorted(end_sorted, e, side="right")
    lo_a = np.zeros_like(hi_a)
    lo_b = np.zeros_like(hi_b)
    result = np.zeros_like(k)
    for level in range(bit_width(int(seg_len.max()) - 1) - 1, -1, -1):
        bits_a = (seq_a >> level) & 1
        bits_b = (seq_b >> level) & 1
        zeros_a = np.concatenate(([0], np.cumsum(1 - bits_a)))
        zeros_b = np.concatenate(([0], np.cumsum(1 - bits_b)))
        za_hi, za_lo = zeros_a[hi_a], zeros_a[lo_a]
        zb_hi, zb_lo = zeros_b[hi_b], zeros_b[lo_b]
        standing_zeros = (za_hi - za_lo) - (zb_hi - zb_lo)
        one = k >= standing_zeros
        k -= np.where(one, standing_zeros, 0)
        result = 2 * result + one
        nz_a, nz_b = zeros_a[-1], zeros_b[-1]
        hi_a = np.where(one, nz_a + hi_a - za_hi, za_hi)
        lo_a = np.where(one, nz_a + lo_a - za_lo, za_lo)
        hi_b = np.where(one, nz_b + hi_b - zb_hi, zb_hi)
        lo_b = np.where(one, nz_b + lo_b - zb_lo, zb_lo)
        seq_a = np.concatenate((seq_a[bits_a == 0], seq_a[bits_a == 1]))
        seq_b = np.concatenate((seq_b[bits_b == 0], seq_b[bits_b == 1]))
    return result.reshape(-1, r)
