"""Arithmetic kernels of the numeric scores (SPEC section 11); no validation.

A numeric forecast is a CDF on the grid x_k = lo + k (hi - lo) / 200,
k = 0..200, linear between grid points; mass below lo sits at lo, mass above
hi at hi. The kernels work in *grid units*: position s = 200 (x - lo) /
(hi - lo) in [0, 200], cell k = [k, k + 1] of width 1, so that every
integral over [lo, hi] is (hi - lo) / 200 times its grid-unit value.

CRPS decomposes into a quadratic and a linear part. With z = clip(y, lo, hi)
and H(x) = [x >= y], on [lo, hi]:

    int (F - H)^2 = int F^2 - 2 int_z^hi F + (hi - z),

and outside [lo, hi] the integrand is 1 over the distance from y to the
range, so CRPS = (Q - 2 T + (200 - u)) / 200 + dist(y, [lo, hi]) / (hi - lo)
with u the grid position of z, Q = int F^2 and T = int_u^200 F in grid
units. On a cell where F runs linearly from a to b, int F^2 = (a^2 + ab +
b^2) / 3, so Q = (2 sum F_k^2 - F_0^2 - F_200^2 + sum F_k F_{k+1}) / 3: two
row dot products. T is linear in F, so the crowd's T (the mean CDF's) is the
mean of its members' T; only the crowd's Q needs the crowd's CDF.
"""

from __future__ import annotations

import numpy as np

GRID = 200  # cells; the CDF has GRID + 1 points
_TILE = 8  # rows per tile of ``row_sums``
_GROUP = 32  # at most this many tiles per carry product (OpenBLAS stays single-threaded)
_CHUNK = 512  # positions per chunk of ``row_parts``'s ``row_sums``


def grid_position(y, lo, hi):
    """Per row: the cell j of clip(y, lo, hi) (SPEC: bucket k = [x_k, x_{k+1}),
    the last one includes hi), the position t in [0, 1] inside it, the grid
    position u = j + t, and dist(y, [lo, hi]).

    Grid points are computed as lo + k (hi - lo) / 200, exactly as the spec
    writes them, and the cell is corrected by one where rounding of
    200 (y - lo) / (hi - lo) put y on the wrong side of a grid point.
    """
    width = hi - lo
    z = np.clip(y, lo, hi)
    j = np.clip(np.floor((z - lo) / width * GRID).astype(np.int64), 0, GRID - 1)
    x_j = lo + j * width / GRID
    j -= (z < x_j) & (j > 0)
    x_next = lo + (j + 1) * width / GRID
    j += (z >= x_next) & (j < GRID - 1)
    x_j = lo + j * width / GRID
    cell = lo + (j + 1) * width / GRID - x_j
    t = np.clip((z - x_j) / cell, 0.0, 1.0)
    return j, t, j + t, np.abs(y - z)


def quad_from_sums(sq, cross, first, last):
    """int F^2 over [0, 200] in grid units from a row's sum F_k^2, sum F_k F_{k+1}
    and its end values F_0, F_200."""
    return (2.0 * sq - first * first - last * last + cross) / 3.0


def cell_parts(sums, y, lo, hi, j, t, u, dist):
    """Per row against outcome y: Q = int F^2, T = int_u^200 F (grid units),
    the bucket probability p_b, the PIT value F(y) and the CRPS's constant
    (200 - u) / 200 + dist / (hi - lo), from the first seven sums of
    ``row_sums`` (sq, cross, right = sum_{k > j} F_k, a = F_j, b = F_{j+1},
    F_0, F_200) and ``grid_position``'s j, t, u, dist.

    p_b = F_{j+1} - F_j inside the range, F_0 below lo, 1 - F_200 above hi.
    PIT: 0 below lo, 1 above hi, else the linear interpolation F(z).
    """
    sq, cross, right, a, b, f0, f200 = sums[:7]
    tail = (1.0 - t) * a + (b - a) * (1.0 - t * t) / 2.0 + right - (b + f200) / 2.0
    below, above = y < lo, y > hi
    p_b = np.where(below, f0, np.where(above, 1.0 - f200, b - a))
    pit = np.where(below, 0.0, np.where(above, 1.0, a + (b - a) * t))
    const = (GRID - u) / GRID + dist / (hi - lo)
    return quad_from_sums(sq, cross, f0, f200), tail, p_b, pit, const


def row_parts(rows, y, lo, hi):
    """``cell_parts`` of each row of an (n, 201) CDF array against outcome y."""
    n = rows.shape[0]
    j, t, u, dist = grid_position(y, lo, hi)
    r = np.arange(n)
    chunks = -(-n // _CHUNK)
    index = np.full(chunks * _CHUNK, -1, dtype=np.int64)
    index[:n] = r
    cells = np.zeros(index.size, dtype=np.int64)
    cells[:n] = j
    sums = row_sums(rows, index, cells, wanted=r)
    return cell_parts(sums, y, lo, hi, j, t, u, dist)


def chunk_layout(segment, seg_start, chunk_tiles):
    """Positions of the events of ``row_sums``'s running sum: m events in
    segments (``segment`` of each, ``seg_start`` of each segment, ascending),
    every segment padded to whole tiles of ``_TILE`` rows and the whole to
    chunks of ``chunk_tiles`` tiles. Inside a chunk, row i of its tile tau
    sits at i * chunk_tiles + tau: each row slot of all the chunk's tiles is
    one contiguous run. Returns each event's position, the number of
    positions and whether each tile is the first of its segment."""
    m = segment.size
    lengths = np.diff(np.append(seg_start, m))
    tiles = -(-lengths // _TILE)
    first_tile = np.cumsum(tiles) - tiles
    padded = first_tile[segment] * _TILE + np.arange(m) - seg_start[segment]
    size = _TILE * chunk_tiles
    n_chunks = max(1, -(-int(tiles.sum()) // chunk_tiles))
    chunk, within = np.divmod(padded, size)
    tile, slot = np.divmod(within, _TILE)
    head = np.zeros(n_chunks * chunk_tiles, dtype=bool)
    head[first_tile] = True
    return chunk * size + slot * chunk_tiles + tile, n_chunks * size, head


def row_sums(cdf, index, cells, prev=None, head=None, chunk_tiles=_CHUNK // _TILE,
             wanted=None):
    """Row sums of the rows ``cdf[index]`` (index -1: padding), float64, one
    chunk of ``_TILE * chunk_tiles`` positions at a time (``index.size`` is a
    whole number of chunks) so that every pass reads a cache-sized buffer.

    Returns float64 arrays per position (``wanted`` positions, default all):
    sq = sum F_k^2, cross = sum F_k
    F_{k+1}, right = sum_{k > j} F_k, F_j, F_{j+1}, F_0 and F_200 of each row
    (j = ``cells``); with ``prev`` (the row each position's row replaces, -1
    none) and ``head`` (per tile, laid out by ``chunk_layout``) also sq, cross,
    S_0 and S_200 of the running sum S: the sum of row - replaced row over the
    positions of its segment up to this one, in event order.

    With the running sum, each chunk gathers its rows and their replaced rows
    in one ``take`` into one buffer (rows above, replaced rows below; a row
    with none replaced gets a zero row), so that one pair of row dot products
    over the whole buffer gives the own sums and the running sum's. The
    replaced rows become the differences row - replaced in place, then the
    running sum: first the first row of every tile gets the total before the
    tile in its segment, per group of up to ``_GROUP`` tiles one product of a
    0/1 matrix (tiles earlier in the same segment, and the previous group's
    carry for the tiles before the group's first head) with the tile totals
    (one sum over the row slots); then each row slot of the chunk's tiles adds
    the previous slot (one add of two contiguous runs). The loops run over
    chunks, groups and slots, never rows: with 8-row tiles and chunks of 1,024
    positions, about 25 numpy calls per 1,024 positions, so that two threads
    rarely wait for each other's GIL hand-over.
    """
    n = index.size
    width = GRID + 1
    size = _TILE * chunk_tiles
    n_chunks = n // size
    crowd = prev is not None
    rows = 2 * size if crowd else size
    local = np.arange(size) * width  # flat start of each buffer row
    at = np.empty((n_chunks, 6 if crowd else 4, size), dtype=np.int64)
    at[:, 0] = local + cells.reshape(n_chunks, size)
    at[:, 1] = at[:, 0] + 1
    at[:, 2] = local
    at[:, 3] = local + GRID
    bounds = np.empty((n_chunks, 2 * size), dtype=np.int64)
    bounds[:, 0::2] = local
    bounds[:, 1::2] = at[:, 1]
    right = np.empty((n_chunks, 2 * size))  # the odd ones: right of each row
    sq, cross = np.empty((n_chunks, rows)), np.empty((n_chunks, rows))
    got = np.empty((rows, width), dtype=cdf.dtype)
    buf = got if cdf.dtype == np.float64 else np.empty((rows, width))
    flat = buf.reshape(-1)
    x = buf[:size]
    x_flat = flat[:size * width]
    pick = index.reshape(n_chunks, size)
    if crowd:
        pad = index < 0
        pick = np.concatenate((np.where(pad, 0, index).reshape(n_chunks, size),
                               np.where(pad, 0, prev).reshape(n_chunks, size)), axis=1)
        # A padding row replaces itself (no change); a row replacing none, a zero row.
        zero_at = np.flatnonzero((prev < 0) & ~pad)
        zero_cut = np.searchsorted(zero_at, np.arange(n_chunks + 1) * size).tolist()
        zero_at = zero_at - (zero_at // size) * size + size  # its row in the buffer
        at[:, 4] = size * width + local
        at[:, 5] = size * width + local + GRID
        group = max(g for g in range(1, min(_GROUP, chunk_tiles) + 1) if chunk_tiles % g == 0)
        n_groups = chunk_tiles // group
        before_matrix = _before_matrix(head.reshape(n_chunks * n_groups, group))
        d = buf[size:]
        slots = d.reshape(_TILE, n_groups, group, width)
        # Per group of tiles: the carry into it, then each tile's total.
        totals = np.zeros((n_groups, group + 1, width))
        before = np.empty((n_groups, group, width))
    picks = np.empty(at.shape)
    at = at.reshape(n_chunks, -1)
    for k in range(n_chunks):
        np.take(cdf, pick[k], axis=0, out=got, mode="clip")  # -1 reads row 0
        if crowd:
            got[zero_at[zero_cut[k]:zero_cut[k + 1]]] = 0.0
        if buf is not got:
            np.copyto(buf, got)
        if crowd:
            np.subtract(x, d, out=d)
            np.add.reduce(slots, axis=0, out=totals[:, 1:])  # each tile's total
            for g in range(n_groups):
                np.matmul(before_matrix[k * n_groups + g], totals[g], out=before[g])
                # the carry into the next group (the next chunk's first after the last)
                np.add(before[g, -1], totals[g, -1], out=totals[(g + 1) % n_groups, 0])
            np.add(slots[0], before, out=slots[0])
            for i in range(1, _TILE):
                np.add(slots[i], slots[i - 1], out=slots[i])
        np.vecdot(buf, buf, out=sq[k])
        np.vecdot(buf[:, :-1], buf[:, 1:], out=cross[k])
        np.add.reduceat(x_flat, bounds[k], out=right[k])
        np.take(flat, at[k], out=picks[k].reshape(-1), mode="clip")  # in range
    chunk, p = np.divmod(np.arange(n) if wanted is None else wanted, size)
    row_at = chunk * rows + p  # in sq and cross (the running sum's: + size)
    pick_at = chunk * picks[0].size + p  # field f: + f * size
    sq, cross, picks = sq.reshape(-1), cross.reshape(-1), picks.reshape(-1)
    own = [sq[row_at], cross[row_at], right.reshape(-1)[chunk * 2 * size + 2 * p + 1],
           *(picks[pick_at + f * size] for f in range(4))]
    if not crowd:
        return own
    row_at += size
    return own + [sq[row_at], cross[row_at], picks[pick_at + 4 * size], picks[pick_at + 5 * size]]


def _before_matrix(head):
    """Per group of tiles (rows of ``head``: its tiles' head flags), the 0/1
    matrix giving each tile the sum of the carry (column 0: for the tiles
    before the group's first head) and of the earlier tiles of its segment
    (columns 1+). Groups of at most 32 tiles keep its product with the totals
    (32 x 33 times 33 x 201) under OpenBLAS's single-thread size."""
    n_chunks, tiles = head.shape
    group = np.cumsum(head, axis=1)  # 0: the segment the previous chunk carries in
    m = np.zeros((n_chunks, tiles, tiles + 1))
    m[:, :, 0] = group == 0
    earlier = np.arange(tiles)[None, :] < np.arange(tiles)[:, None]
    m[:, :, 1:] = earlier & (group[:, :, None] == group[:, None, :])
    return m


def crps_from_parts(q, tail, const):
    """CRPS from Q, T and the constant of ``row_parts`` (any mixture: Q of
    the mixture, T the mean of its members' T)."""
    return (q - 2.0 * tail) / GRID + const


def quantiles(rows, p, lo, hi):
    """Q(p) = inf {x : F(x) >= p} of each row (p in (0, 1), per row or scalar):
    lo when F_0 >= p, hi when F_200 < p (the mass above hi sits at hi), else
    inverted linearly inside the first cell whose right end reaches p."""
    n = rows.shape[0]
    p = np.broadcast_to(np.asarray(p, dtype=np.float64), (n,))
    k = np.count_nonzero(rows < p[:, None], axis=1)  # first k with F_k >= p
    r = np.arange(n)
    inside = (k >= 1) & (k <= GRID)
    kk = np.clip(k, 1, GRID)
    a = rows[r, kk - 1].astype(np.float64)
    b = rows[r, kk].astype(np.float64)
    frac = np.divide(p - a, b - a, out=np.ones(n), where=b > a)
    width = hi - lo
    x = lo + (kk - 1) * width / GRID + frac * width / GRID
    return np.where(k == 0, lo, np.where(inside, x, hi))
