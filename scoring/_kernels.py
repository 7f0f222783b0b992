"""Arithmetic kernels shared by the scoring modules.

Everything here is arithmetic only: no validation, no I/O. Callers (the public
functions) guarantee dtypes, shapes and ranges. Probability vectors use the
*flat layout*: row i occupies ``probs[offsets[i]:offsets[i + 1]]``.
"""

from __future__ import annotations

import numpy as np

INT64_MAX = np.iinfo(np.int64).max


def bit_width(n: int) -> int:
    """Number of bits needed to store the integers 0 .. n (at least 1)."""
    return max(int(n).bit_length(), 1)


def segment_lengths(starts: np.ndarray, total: int) -> np.ndarray:
    """Lengths of the segments that begin at ``starts`` and tile ``range(total)``."""
    return np.diff(np.append(starts, total))


def segment_ids(starts: np.ndarray, total: int) -> np.ndarray:
    """Segment number of every position of ``range(total)``."""
    return np.repeat(np.arange(starts.size), segment_lengths(starts, total))


def concat_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of range(starts[i], starts[i] + lengths[i]) over i."""
    first = np.zeros(lengths.size, dtype=np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    return np.repeat(starts - first, lengths) + np.arange(int(lengths.sum()))


def segmented_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Inclusive prefix sums of ``values`` restarting at every segment start.

    ``starts`` is strictly increasing and begins with 0. Each segment's first
    value is shifted by the previous segment's total before one global cumsum,
    so the running value stays the size of one segment (a plain global cumsum
    would carry the sum of all earlier segments and lose their digits).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values.copy()
    totals = np.add.reduceat(values, starts)
    shifted = values.copy()
    shifted[starts[1:]] -= totals[:-1]
    run = np.cumsum(shifted)
    base = np.zeros(starts.size)
    base[1:] = run[starts[1:] - 1] - totals[:-1]
    return run - np.repeat(base, segment_lengths(starts, values.size))


def segmented_count(flags: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Inclusive running count of true ``flags`` restarting at every segment start."""
    run = np.cumsum(flags, dtype=np.int64)
    if run.size == 0:
        return run
    base = np.zeros(starts.size, dtype=np.int64)
    base[1:] = run[starts[1:] - 1]
    return run - np.repeat(base, segment_lengths(starts, run.size))


def slot_rules(probs, row_start, slot_rows, outcome, ordered):
    """Brier, log and RPS of rows sorted by option count, descending.

    Row i's probabilities are ``probs[row_start[i] + j]``; ``slot_rows[j]``
    is the number of leading rows with more than j options. Brier =
    sum_k (p_k - [k = o])^2; log = -ln p_o; RPS = 1/(K-1) sum_{k<K-1}
    (P_k - [k >= o])^2 with P the cumulative probabilities, NaN where
    ``ordered`` is false; also each row's sum of probabilities. The loop runs
    over option slots, and slot j only touches its prefix of rows.
    """
    n = row_start.size
    brier = np.zeros(n)
    sums = np.zeros(n)
    rps = np.full(n, np.nan)
    if n == 0:
        return brier, brier.copy(), rps, sums
    log = -np.log(probs[row_start + outcome])
    for j, c in enumerate(slot_rows):
        p = probs[row_start[:c] + j]
        sums[:c] += p
        d = p - (outcome[:c] == j)
        brier[:c] += d * d
    ranked = np.flatnonzero(ordered)
    if ranked.size:
        ranked_rows = np.searchsorted(ranked, slot_rows)  # ranked rows per slot
        start, o = row_start[ranked], outcome[ranked]
        cum = np.zeros(ranked.size)
        total = np.zeros(ranked.size)
        k = np.zeros(ranked.size)
        for j, c in enumerate(ranked_rows):
            k[:c] += 1.0
            if j + 1 < ranked_rows.size:
                c1 = ranked_rows[j + 1]  # rows with more than j + 1 options
                cum[:c1] += probs[start[:c1] + j]
                total[:c1] += (cum[:c1] - (o[:c1] <= j)) ** 2
        rps[ranked] = total / (k - 1.0)
    return brier, log, rps, sums


def peer_instant_kernel(p_outcome: np.ndarray) -> np.ndarray:
    """100 * (ln p_i - mean over j != i of ln p_j); zeros when fewer than two."""
    n = p_outcome.size
    if n < 2:
        return np.zeros(n)
    lp = np.log(p_outcome)
    return 100.0 * (lp * n - lp.sum()) / (n - 1)


def round_bits(x: np.ndarray, bits: int = 40) -> np.ndarray:
    """Round to ``bits`` significant binary digits (exactly, via frexp/ldexp)."""
    mantissa, exponent = np.frexp(x)
    return np.ldexp(np.rint(np.ldexp(mantissa, bits)), exponent - bits)


def competition_ranks(sorted_keys: np.ndarray) -> np.ndarray:
    """Ranks 1, 2, 2, 4 for keys already sorted so that equal keys are adjacent."""
    n = sorted_keys.size
    new = np.ones(n, dtype=bool)
    new[1:] = sorted_keys[1:] != sorted_keys[:-1]
    first = np.where(new, np.arange(1, n + 1), 0)
    return np.maximum.accumulate(first) if n else first


def dense_codes(x: np.ndarray):
    """Order-preserving dense codes of non-negative ints: (codes, distinct values).

    A lookup table when the values are small relative to their count (O(n)),
    else ``np.unique`` (a sort).
    """
    if x.size and int(x.max()) <= 8 * x.size + 1024:
        present = np.zeros(int(x.max()) + 1, dtype=bool)
        present[x] = True
        code = np.cumsum(present) - 1
        return code[x], np.flatnonzero(present)
    values, codes = np.unique(x, return_inverse=True)
    return codes.ravel(), values


def group_sort(keys: np.ndarray, payload: np.ndarray):
    """Sort non-negative int ``keys`` stably, carrying non-negative ints
    ``payload`` along (sorted order's payload, sorted keys).

    One sort of the packed key (key, payload) when it fits in 63 bits and the
    payload is increasing (so that it breaks ties in position order).
    """
    n = keys.size
    if n == 0 or (np.diff(keys) >= 0).all():
        return payload.copy(), keys.copy()
    if int(keys.max()) < 1 << 16:  # numpy radix-sorts 16-bit keys
        order = np.argsort(keys.astype(np.uint16), kind="stable")
        return payload[order], keys[order]
    shift = bit_width(int(payload.max()))
    if bit_width(int(keys.max())) + shift <= 62 and (np.diff(payload) > 0).all():
        packed = (keys << shift) | payload
        packed.sort()
        return packed & ((1 << shift) - 1), packed >> shift
    order = np.argsort(keys, kind="stable")
    return payload[order], keys[order]


def stable_group_order(keys: np.ndarray) -> np.ndarray:
    """Positions ordered by non-negative ``keys``, ties in position order."""
    return group_sort(keys, np.arange(keys.size))[0]


def pow2_ceil(n: np.ndarray) -> np.ndarray:
    """Smallest power of two >= n (elementwise; 1 for n <= 1)."""
    n = np.maximum(np.asarray(n, dtype=np.int64), 1)
    return np.left_shift(1, np.ceil(np.log2(n)).astype(np.int64))
