"""Sorting inside contiguous segments (e.g. the forecasts of one question).

One global sort of ten million keys is bound by cache misses; sorting each
question's few hundred keys is not. Segments are grouped by their length
rounded up to a power of two, each group is laid out as a padded matrix and
sorted row by row (``np.sort(axis=1)``), in row chunks that bound memory.
The loop runs over length classes and chunks, never over segments.
"""

from __future__ import annotations

import numpy as np

from ._kernels import pow2_ceil

_CHUNK_CELLS = 1 << 22  # matrix cells per chunk: bounds the padded copies


def _row_blocks(starts, lengths):
    """Yield (row starts, row lengths, width) blocks covering the segments."""
    keep = lengths > 1  # a segment of length 0 or 1 is already sorted
    starts, lengths = starts[keep], lengths[keep]
    widths = pow2_ceil(lengths)
    for width in np.unique(widths):
        rows = np.flatnonzero(widths == width)
        step = max(1, _CHUNK_CELLS // int(width))
        for lo in range(0, rows.size, step):
            sel = rows[lo:lo + step]
            yield starts[sel], lengths[sel], int(width)


def _cells(row_starts, row_lengths, width):
    """Cells of a (rows, width) matrix holding the segments, in row-major
    order, and the row and source position of each."""
    cells = np.flatnonzero(np.arange(width) < row_lengths[:, None])
    row = cells >> (width.bit_length() - 1)  # width is a power of two
    return cells, row, row_starts[row] + (cells & (width - 1))


def segment_argsort(values, starts, lengths, *, pad, stable=False, out=None):
    """Positions that sort ``values`` within each segment (global indices).

    ``pad`` must sort after every value (or ``stable`` must be true). Positions
    outside the given segments are left as in ``out`` (default: identity).
    """
    if out is None:
        out = np.arange(values.size)
    kind = "stable" if stable else None
    for row_starts, row_lengths, width in _row_blocks(starts, lengths):
        cells, row, source = _cells(row_starts, row_lengths, width)
        matrix = np.full(row_starts.size * width, pad, dtype=values.dtype)
        matrix[cells] = values[source]
        order = np.argsort(matrix.reshape(-1, width), axis=1, kind=kind).ravel()
        out[source] = row_starts[row] + order[cells]
    return out


def segment_sort(values, starts, lengths, *, pad):
    """``values`` sorted within each segment (segments must tile the array)."""
    out = values.copy()
    for row_starts, row_lengths, width in _row_blocks(starts, lengths):
        cells, _, source = _cells(row_starts, row_lengths, width)
        matrix = np.full(row_starts.size * width, pad, dtype=values.dtype)
        matrix[cells] = values[source]
        matrix.reshape(-1, width).sort(axis=1)
        out[source] = matrix[cells]
    return out
