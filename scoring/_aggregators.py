"""Kernels of the crowd aggregators other than the median (see ``aggregate``).

Arithmetic only: the callers pass the engine's layout (``events``) and
guarantee shapes. Loops run over option slots, row-width classes and memory
chunks, never over forecasts, events or questions.
"""

from __future__ import annotations

import numpy as np

from ._kernels import INT64_MAX, pow2_ceil, segmented_cumsum

_CHUNK_CELLS = 1 << 20  # (query, forecaster) cells materialised at once


def running_slot_sums(ev, probs, row_start, query, count, prefix, size, transform=None):
    """Yield (slot, n, mean of ``transform(p_slot)``) over the standing
    forecasts after each of the first n ``query`` events, using the first
    ``size`` events: a running sum of (new value - replaced value)."""
    has_prev = ev.prev[:size] >= 0
    prev_rows = row_start[np.where(has_prev, ev.prev[:size], np.arange(size))]
    for slot, c in enumerate(prefix):
        c = int(min(c, size))
        if c == 0:
            break
        n_segs = int(np.searchsorted(ev.seg_start, c, side="left"))
        new, old = probs[row_start[:c] + slot], probs[prev_rows[:c] + slot]
        if transform is not None:
            new, old = transform(new), transform(old)
        replaced = np.where(has_prev[:c], old, 0.0)
        delta = new - replaced
        running = segmented_cumsum(delta, ev.seg_start[:n_segs])
        n = int(np.searchsorted(query, c))
        yield slot, n, running[query[:n]] / count[:n]


def extremized_means(ev, probs, row_start, query, count, prefix, split, a, out):
    """Fill ``out`` with the extremized mean of log-odds after each query:
    mean log-probability per option (running sums, O(n)), then
    p_k proportional to exp(a * mean ln p_k); binary rows (from ``split``)
    as expit(a * (mean ln p_1 - mean ln p_0)) and its complement."""
    logs = np.full(out.shape, np.nan)
    for slot, n, mean in running_slot_sums(ev, probs, row_start, query, count, prefix,
                                           ev.at.size, np.log):
        logs[:n, slot] = mean
    if split:
        z = a * logs[:split]
        z -= np.nanmax(z, axis=1, keepdims=True)
        e = np.exp(z)
        out[:split] = e / np.nansum(e, axis=1, keepdims=True)
    if split < query.size:
        from scipy.special import expit  # here: the CLI's reads must not load scipy
        p_yes = expit(a * (logs[split:, 1] - logs[split:, 0]))
        out[split:, 0] = 1.0 - p_yes
        out[split:, 1] = p_yes


def weighted_medians(values, weights):
    """Row-wise weighted median of (rows, w) ``values`` (pads +inf with
    weight 0): the mean of the first value whose cumulative weight is
    >= half the total and the first whose cumulative weight is > half."""
    order = np.argsort(values, axis=1, kind="stable")
    v = np.take_along_axis(values, order, axis=1)
    cum = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    half = 0.5 * cum[:, -1:]
    lower = (cum < half).sum(axis=1)
    upper = (cum <= half).sum(axis=1)
    r = np.arange(values.shape[0])
    return 0.5 * (v[r, lower] + v[r, upper])


def recency_medians(ev, seg_k, probs, row_start, query, count, split, out):
    """Fill ``out`` with Metaculus's recency-weighted median after each query.

    The standing forecasts after event e are the latest event at or before e
    of each of the first N pairs of e's question in order of first forecast
    (N = count). They are laid out as a padded (queries, width) matrix per
    width class (a power of two >= N), so the cost is the sum of N over the
    queries.
    """
    m = ev.at.size
    if not query.size:
        return
    by_first = np.argsort(ev.pair_first)  # pairs in the order they began
    pair_start = np.searchsorted(ev.pair_first[by_first], ev.seg_start)
    pair_events = np.sort(ev.pair * m + np.arange(m))  # events by (pair, position)
    seg = ev.segment[query]
    k_row = seg_k[seg]
    width = pow2_ceil(count)
    for w in np.unique(width).tolist():
        rows_w = np.flatnonzero(width == w)
        step = max(1, _CHUNK_CELLS // w)
        for lo in range(0, rows_w.size, step):  # memory chunks
            rows = rows_w[lo:lo + step]
            n = count[rows]
            cells = np.flatnonzero(np.arange(w) < n[:, None])
            r, c = cells // w, cells % w
            pair = by_first[pair_start[seg[rows]][r] + c]
            key = pair * m + query[rows][r]
            event = np.zeros(rows.size * w, dtype=np.int64)
            event[cells] = pair_events[np.searchsorted(pair_events, key, side="right") - 1] \
                - pair * m
            _recency_block(event.reshape(-1, w), n, k_row[rows], rows >= split,
                           probs, row_start, rows, out)


def _recency_block(event, n, k, binary, probs, row_start, rows, out):
    """One chunk: ``event`` (rows, w) the standing events (valid where the
    column < n), ``k`` the option counts, ``binary`` which rows are binary."""
    w = event.shape[1]
    valid = np.arange(w) < n[:, None]
    when = np.where(valid, event, INT64_MAX)
    rank = np.empty_like(when)
    np.put_along_axis(rank, np.argsort(when, axis=1),
                      np.broadcast_to(np.arange(w), when.shape), axis=1)
    nn = n[:, None]
    weights = np.where(nn <= 2, 1.0, np.exp(np.sqrt(rank + 1.0) - np.sqrt(nn)))
    weights[~valid] = 0.0
    first = row_start[event]
    slots = [1] if binary.all() else range(int(k.max()))
    for slot in slots:
        has = (slot < k) & (~binary | (slot == 1))
        cell = np.where(valid & has[:, None], first + slot, 0)
        values = np.where(valid & has[:, None], probs[cell], np.inf)
        out[rows[has], slot] = weighted_medians(values, weights)[has]
    if binary.any():
        out[rows[binary], 0] = 1.0 - out[rows[binary], 1]
    multi = rows[~binary]
    if multi.size:
        out[multi] /= np.nansum(out[multi], axis=1, keepdims=True)
