"""One pass over rows of a linear model with one output: losses, slopes and the gradient.

For each row, s = x . w + b, then the loss and its slope at s (``pointwise``), then
g += c slope x. Rows go in blocks of about 16 KB, so a block read for its scores is
still in the L1 cache when it is read again for the gradient:

1. the block's row numbers, weights and targets;
2. its scores, 4 dot products at a time (independent sums for the CPU to overlap);
3. its losses and slopes, in one vectorised loop per loss;
4. the gradient, 4 rows per pass over g, while the next block's rows are prefetched
   (LLVM's prefetch: the memory works while the arithmetic does).

``chunks_pass`` runs this over chunks of a large batch, one thread per range of chunks
(``runner.data_pass``); ``linear.epoch`` runs it per mini-batch. Rows are indexed in X
directly: a row view would cost a reference count per row.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_inline, prefetch, zero_of
from .pointwise import (
    absolute_error,
    hinge,
    log_loss,
    loss_and_slope,
    perceptron,
    squared_error,
)


@jit_inline
def _prefetch_rows(X, idx, first, count, line):
    """Start loading rows first .. first + count - 1 of the pass (those that exist)."""
    p = X.shape[1]
    if idx.shape[0] > 0:
        for i in range(first, min(first + count, idx.shape[0])):
            for j in range(0, p, line):
                prefetch(X, idx[i] * p + j)
    else:
        stop = min(first + count, X.shape[0]) * p
        for k in range(first * p, stop, line):
            prefetch(X, k)


@jit_inline
def _block(X, y, sw, idx, start, m, scale, rows, work):
    """Row numbers (``rows``), weights c_i (work[1]) and targets (work[2]) of a block."""
    if idx.shape[0] > 0:
        for i in range(m):
            rows[i] = idx[start + i]
    else:
        for i in range(m):
            rows[i] = start + i
    if sw.shape[0] > 0:
        for i in range(m):
            work[1, i] = scale * sw[rows[i]]
    else:
        for i in range(m):
            work[1, i] = scale
    for i in range(m):
        work[2, i] = y[rows[i]]


@jit_inline
def _scores(X, w, b, rows, m, work):
    """work[0, i] = x_i . w + b, four rows at a time (four independent sums in flight)."""
    p = X.shape[1]
    # Sums start from a zero of X's dtype at element 0: whole vectors from the start, and
    # float32 data summed in float32 (a 0.0 literal would make every sum float64).
    zero = zero_of(X)
    i = 0
    while i + 4 <= m:
        r0, r1, r2, r3 = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
        s0, s1, s2, s3 = zero, zero, zero, zero
        for j in range(p):
            wj = w[j]
            s0 += X[r0, j] * wj
            s1 += X[r1, j] * wj
            s2 += X[r2, j] * wj
            s3 += X[r3, j] * wj
        work[0, i], work[0, i + 1], work[0, i + 2], work[0, i + 3] = s0 + b, s1 + b, s2 + b, s3 + b
        i += 4
    while i < m:
        r0 = rows[i]
        s0 = zero
        for j in range(p):
            s0 += X[r0, j] * w[j]
        work[0, i] = s0 + b
        i += 1


@jit_inline
def _slopes_of(point, work, m, slopes):
    """Losses and slopes of the block for one loss function ``point`` (a loop per loss,
    which the compiler vectorises)."""
    value = 0.0
    gb = 0.0
    for i in range(m):
        c = work[1, i]
        loss, slope = point(work[0, i], work[2, i])
        value += c * loss
        slope *= c
        gb += slope
        slopes[i] = slope
    return value, gb


@jit_inline
def _slopes(loss, work, m, slopes):
    if loss == 0:
        return _slopes_of(squared_error, work, m, slopes)
    if loss == 1:
        return _slopes_of(absolute_error, work, m, slopes)
    if loss == 2:
        return _slopes_of(perceptron, work, m, slopes)
    if loss == 3:
        return _slopes_of(log_loss, work, m, slopes)
    return _slopes_of(hinge, work, m, slopes)


@jit_inline
def _accumulate(X, rows, m, slopes, g, idx, next_row, line):
    """g += sum_i slope_i x_i, four rows per pass over g, prefetching the next block."""
    p = X.shape[1]
    i = 0
    while i + 4 <= m:
        _prefetch_rows(X, idx, next_row + i, 4, line)
        r0, r1, r2, r3 = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
        d0, d1, d2, d3 = slopes[i], slopes[i + 1], slopes[i + 2], slopes[i + 3]
        for j in range(p):
            g[j] += d0 * X[r0, j] + d1 * X[r1, j] + d2 * X[r2, j] + d3 * X[r3, j]
        i += 4
    while i < m:
        _prefetch_rows(X, idx, next_row + i, 1, line)
        r0 = rows[i]
        d0 = slopes[i]
        for j in range(p):
            g[j] += d0 * X[r0, j]
        i += 1


def _rows_pass(X, y, sw, idx, lo, hi, w, b, loss, scale, g, rows, work, slopes):
    """Add sum_i c_i slope_i x_i over rows lo..hi to ``g``; return (sum c_i L_i, sum c_i slope_i).

    c_i = scale, times sw[i] when ``sw`` is not empty; row i is idx[i], or i itself when
    ``idx`` is empty. ``rows`` (int64), ``work`` (float64, 3 rows) and ``slopes`` (X's
    dtype) are scratch space as long as a block.
    """
    line = max(64 // X.itemsize, 1)
    # A block's rows must stay in the 48 KB L1 cache between reading them for the scores
    # and again for the gradient: about 16 KB of rows, a multiple of 4, at most the scratch.
    block = min(rows.shape[0], max(16384 // (X.shape[1] * X.itemsize) // 4 * 4, 4))
    value = 0.0
    gb = 0.0
    for start in range(lo, hi, block):
        m = min(block, hi - start)
        _block(X, y, sw, idx, start, m, scale, rows, work)
        _scores(X, w, b, rows, m, work)
        v, s = _slopes(loss, work, m, slopes)
        value += v
        gb += s
        # prefetch the next block, or for tiny batches the row 8 steps ahead
        _accumulate(X, rows, m, slopes, g, idx, start + max(m, 8), line)
    return value, gb


rows_pass = jit()(_rows_pass)


def _weight_total(sw, idx, lo, hi):
    """The sum of the batch's sample weights (the number of rows when there are none)."""
    if sw.shape[0] == 0:
        return float(hi - lo)
    total = 0.0
    if idx.shape[0] > 0:
        for i in range(lo, hi):
            total += sw[idx[i]]
    else:
        for i in range(lo, hi):
            total += sw[i]
    return total


weight_total = jit()(_weight_total)
_weight_total = jit_inline(_weight_total)


def scratch(p: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Working space for one thread's loop: (rows, work, vectors).

    The loops allocate nothing (they are compiled without Numba's reference counting,
    whose atomic updates cost more than a stochastic step), so the caller hands them this.
    """
    return (np.empty(64, dtype=np.int64), np.empty((3, 64)),
            np.empty((3, max(p, 64)), dtype=dtype))


@jit()
def chunks_pass(X, y, sw, idx, lo, hi, w, b, loss, scale, chunk, first, last, parts, values,
                slopes, rows, work, vectors):
    """Chunks first .. last - 1 (of ``chunk`` rows each) of the rows lo..hi, one per slot.

    Chunk c adds its gradient into parts[c], its sum c_i L_i into values[c] and its sum
    c_i slope_i into slopes[c]. Each thread of a parallel pass runs this on its own
    range of chunks, without the GIL; the caller adds the slots up in order, so the
    result has the same bits on any number of threads.
    """
    for c in range(first, last):
        start = lo + c * chunk
        for j in range(X.shape[1]):
            parts[c, j] = 0.0
        value, slope = rows_pass(X, y, sw, idx, start, min(start + chunk, hi), w, b, loss,
                                 scale, parts[c], rows, work, vectors[2])
        values[c] = value
        slopes[c] = slope


@jit_inline
def _row_loss(X, y, idx, i, w, b, loss, line):
    """A batch of one row (stochastic descent): (loss, slope, row number).

    The weight of a lone row cancels in the weighted mean, so weights play no part. The
    row 8 steps ahead is prefetched: rows come in random order, and memory is slow.
    """
    r = idx[i] if idx.shape[0] > 0 else i
    _prefetch_rows(X, idx, i + 8, 1, line)
    s = X[r, 0] * w[0]
    for j in range(1, X.shape[1]):
        s += X[r, j] * w[j]
    point, slope = loss_and_slope(loss, s + b, float(y[r]))
    return point, slope, r
