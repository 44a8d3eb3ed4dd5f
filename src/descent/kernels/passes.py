"""One pass over rows of a linear model with one output: losses, slopes and the gradient.

For each row, s = x . w + b, then the loss and its slope at s (``pointwise``), then
g += c slope x. Rows go in blocks of about 16 KB, so a block read for its scores is
still in the L1 cache when it is read again for the gradient:

1. the block's row numbers, weights and targets;
2. its scores, 4 dot products at a time (independent sums for the CPU to overlap);
3. its losses and slopes, in one vectorised loop per loss;
4. the gradient, 4 rows per pass over g.

Prefetches (LLVM's prefetch) keep the memory working while the arithmetic runs. Rows
in turn are one stream: steps 2 and 4 each ask for two rows' worth of lines two blocks
ahead per four rows, into L2. Rows by number (``idx``) get the next block's rows
prefetched during step 4.

``chunks_pass`` runs this over runs of chunks of a large batch, each thread taking runs
in turn (``runner.data_pass``); ``linear.epoch`` runs it per mini-batch. Rows are indexed in X
directly: a row view would cost a reference count per row.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit, jit_inline, prefetch, prefetch_l2, zero_of
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
def _stream(X, ahead, target, limit, line):
    """Prefetch X's elements from ``ahead`` up to ``target`` (flat, below ``limit``) into L2,
    a line at a time; return where the next call starts."""
    stop = min(target, limit)
    while ahead < stop:
        prefetch_l2(X, ahead)
        ahead += line
    return ahead


@jit_inline
def _scores(X, w, b, rows, m, work, ahead, base, lead, limit, line):
    """work[0, i] = x_i . w + b, four rows at a time (four independent sums in flight).

    With ``lead`` > 0 the rows are X's own, in turn, from flat element ``base``: each
    step prefetches two rows' worth of the stream ``lead`` elements ahead (``_stream``),
    and ``_accumulate`` the other two, so the memory gets requests at an even pace.
    """
    p = X.shape[1]
    # Sums start from a zero of X's dtype at element 0: whole vectors from the start, and
    # float32 data summed in float32 (a 0.0 literal would make every sum float64).
    zero = zero_of(X)
    i = 0
    while i + 4 <= m:
        if lead > 0:
            ahead = _stream(X, ahead, base + (i + 4) // 2 * p + lead, limit, line)
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
    return ahead


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
def _accumulate(X, rows, m, slopes, g, idx, next_row, ahead, base, lead, limit, line):
    """g += sum_i slope_i x_i, four rows per pass over g.

    With ``lead`` > 0 it goes on streaming X (see ``_scores``); else it prefetches the
    rows of the next block, from ``next_row`` on.
    """
    p = X.shape[1]
    half = m // 2
    i = 0
    while i + 4 <= m:
        if lead > 0:
            ahead = _stream(X, ahead, base + (half + (i + 4) // 2) * p + lead, limit, line)
        else:
            _prefetch_rows(X, idx, next_row + i, 4, line)
        r0, r1, r2, r3 = rows[i], rows[i + 1], rows[i + 2], rows[i + 3]
        d0, d1, d2, d3 = slopes[i], slopes[i + 1], slopes[i + 2], slopes[i + 3]
        for j in range(p):
            g[j] += d0 * X[r0, j] + d1 * X[r1, j] + d2 * X[r2, j] + d3 * X[r3, j]
        i += 4
    while i < m:
        if lead <= 0:
            _prefetch_rows(X, idx, next_row + i, 1, line)
        r0 = rows[i]
        d0 = slopes[i]
        for j in range(p):
            g[j] += d0 * X[r0, j]
        i += 1
    return ahead


@jit_inline
def _block_rows(X, rows):
    """Rows a block: about 16 KB, so a block read for its scores is still in the 48 KB L1
    cache when the gradient reads it again; a multiple of 4, at most the scratch."""
    return min(rows.shape[0], max(16384 // (X.shape[1] * X.itemsize) // 4 * 4, 4))


@jit_inline
def _pass(X, y, sw, idx, lo, hi, w, b, loss, scale, g, rows, work, slopes, ahead, lead, limit):
    """The blocks of rows lo..hi; (sum c_i L_i, sum c_i slope_i, the stream's cursor)."""
    line = max(64 // X.itemsize, 1)
    p = X.shape[1]
    block = _block_rows(X, rows)
    value = 0.0
    gb = 0.0
    for start in range(lo, hi, block):
        m = min(block, hi - start)
        _block(X, y, sw, idx, start, m, scale, rows, work)
        ahead = _scores(X, w, b, rows, m, work, ahead, start * p, lead, limit, line)
        v, s = _slopes(loss, work, m, slopes)
        value += v
        gb += s
        # without a stream: prefetch the next block, or for tiny batches the row 8 steps ahead
        ahead = _accumulate(X, rows, m, slopes, g, idx, start + max(m, 8), ahead, start * p,
                            lead, limit, line)
    return value, gb, ahead


def _rows_pass(X, y, sw, idx, lo, hi, w, b, loss, scale, g, rows, work, slopes):
    """Add sum_i c_i slope_i x_i over rows lo..hi to ``g``; return (sum c_i L_i, sum c_i slope_i).

    c_i = scale, times sw[i] when ``sw`` is not empty; row i is idx[i], or i itself when
    ``idx`` is empty. ``rows`` (int64), ``work`` (float64, 3 rows) and ``slopes`` (X's
    dtype) are scratch space as long as a block.
    """
    value, gb, _ = _pass(X, y, sw, idx, lo, hi, w, b, loss, scale, g, rows, work, slopes, 0, 0, 0)
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


def _padded(shape, dtype) -> np.ndarray:
    """An empty C-contiguous array that shares no 64-byte cache line with any other:
    each thread of a pass writes its own scratch, and two threads writing one line
    would pass it back and forth between their cores."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    pad = -(-64 // dtype.itemsize)
    buffer = np.empty(size + 3 * pad, dtype=dtype)
    skip = (-buffer.ctypes.data % 64) // dtype.itemsize
    return buffer[pad + skip:pad + skip + size].reshape(shape)


def scratch(p: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Working space for one thread's loop: (rows, work, vectors).

    The loops allocate nothing (they are compiled without Numba's reference counting,
    whose atomic updates cost more than a stochastic step), so the caller hands them this.
    """
    return (_padded(64, np.int64), _padded((3, 64), np.float64),
            _padded((3, max(p, 64)), dtype))


@jit()
def chunks_pass(X, y, sw, idx, lo, hi, w, b, loss, scale, chunk, first, last, parts, values,
                slopes, rows, work, vectors):
    """Chunks first .. last - 1 (of ``chunk`` rows each) of the rows lo..hi, one per slot.

    Chunk c adds its gradient into parts[c], its sum c_i L_i into values[c] and its sum
    c_i slope_i into slopes[c]. The threads of a parallel pass run this on the runs of
    chunks they take, without the GIL; the caller adds the slots up in order, so the
    result has the same bits on any number of threads.

    Rows in turn (``idx`` empty) are one contiguous stream through the run: the
    prefetches run two blocks ahead of the reads, across chunk boundaries, and stop at
    the end of the run (the next one may be another thread's). A chunk's gradient is
    summed in this thread's scratch and written to parts[c] once: neighbouring slots of
    two threads may share a cache line.
    """
    p = X.shape[1]
    g = vectors[0]
    stream = idx.shape[0] == 0
    lead = 2 * _block_rows(X, rows) * p if stream else 0
    ahead = (lo + first * chunk) * p
    limit = min(lo + last * chunk, hi) * p
    for c in range(first, last):
        start = lo + c * chunk
        for j in range(p):
            g[j] = 0.0
        value, slope, ahead = _pass(X, y, sw, idx, start, min(start + chunk, hi), w, b, loss,
                                    scale, g, rows, work, vectors[2], ahead, lead, limit)
        for j in range(p):
            parts[c, j] = g[j]
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
