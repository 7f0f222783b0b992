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
_TILE = 16  # rows per tile of ``scan_rows``


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


def quad(rows):
    """int F^2 over [0, 200] in grid units of each row of an (n, 201) array."""
    rows = np.asarray(rows)
    acc = np.float64
    sq = np.einsum("ij,ij->i", rows, rows, dtype=acc)
    cross = np.einsum("ij,ij->i", rows[:, :-1], rows[:, 1:], dtype=acc)
    first = rows[:, 0].astype(acc)
    last = rows[:, -1].astype(acc)
    return (2.0 * sq - first * first - last * last + cross) / 3.0


def row_parts(rows, y, lo, hi):
    """Per row of an (n, 201) CDF array against outcome y: Q = int F^2, T =
    int_u^200 F (grid units), the bucket probability p_b, the PIT value F(y)
    and the CRPS's constant (200 - u) / 200 + dist / (hi - lo).

    p_b = F_{j+1} - F_j inside the range, F_0 below lo, 1 - F_200 above hi.
    PIT: 0 below lo, 1 above hi, else the linear interpolation F(z).
    """
    n = rows.shape[0]
    j, t, u, dist = grid_position(y, lo, hi)
    r = np.arange(n)
    a = rows[r, j].astype(np.float64)
    b = rows[r, j + 1].astype(np.float64)
    f0 = rows[:, 0].astype(np.float64)
    f200 = rows[:, GRID].astype(np.float64)
    # R = sum_{i > j} F_i: one reduceat over (row start, j + 1) boundaries gives
    # the sums left of and right of each row's split.
    flat = rows.reshape(-1)
    bounds = np.empty(2 * n, dtype=np.int64)
    bounds[0::2] = r * (GRID + 1)
    bounds[1::2] = r * (GRID + 1) + j + 1
    sums = np.add.reduceat(flat, bounds, dtype=np.float64) if n else np.zeros(0)
    right = sums[1::2]
    tail = (1.0 - t) * a + (b - a) * (1.0 - t * t) / 2.0 + right - (b + f200) / 2.0
    below, above = y < lo, y > hi
    p_b = np.where(below, f0, np.where(above, 1.0 - f200, b - a))
    pit = np.where(below, 0.0, np.where(above, 1.0, a + (b - a) * t))
    const = (GRID - u) / GRID + dist / (hi - lo)
    return quad(rows), tail, p_b, pit, const


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



def tile_order(m):
    """Layout of ``scan_tiled``: for m rows padded to T tiles of ``_TILE``,
    the row at each position (-1 for padding) and the position of each row.
    Row e = tau * _TILE + i (slot i of tile tau) sits at position i * T + tau,
    so that every slot of all tiles is one contiguous run."""
    tiles = max(1, -(-m // _TILE))
    rows = np.arange(tiles * _TILE).reshape(tiles, _TILE).T.ravel()
    position = (np.arange(m) % _TILE) * tiles + np.arange(m) // _TILE
    return np.where(rows < m, rows, -1), position


def scan_tiled(x):
    """In-place inclusive prefix sums along the rows of a float64 array laid
    out by ``tile_order`` (positions, not rows; padding rows must be zero).

    ``np.cumsum(axis=0)`` runs several times slower than an elementwise add
    (and adds between interleaved rows of one array copy their operands), so
    in the tile layout slot i of every tile adds slot i - 1 as one add of two
    contiguous runs; the tile totals (the last slot) are scanned the same way,
    recursively, and every tile then adds the total of the tiles before it.
    The loops run over slots and levels, not rows.
    """
    n, c = x.shape
    tiles = n // _TILE
    slots = x.reshape(_TILE, tiles, c)
    for i in range(1, _TILE):
        slots[i] += slots[i - 1]
    if tiles > 1:
        order, position = tile_order(tiles)
        totals = np.zeros((order.size, c))
        totals[position] = slots[-1]
        before = scan_tiled(totals)[position]  # inclusive, tile order
        slots[:, 1:] += before[None, :-1]
    return x
