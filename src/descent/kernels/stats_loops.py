"""Compiled loops for ``descent.kernels.stats``: column moments and the finite check.

Importing this module imports Numba (through ``_jit``), so only ``stats._loops`` does
it, inside a ``try``. Both loops read X once, row by row, and write one slot per chunk
of rows: the caller runs ranges of chunks on several threads (the loops hold no GIL)
and adds the slots up in order, so the result has the same bits on any number of
threads. Neither allocates: the caller hands them their output arrays.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit()
def moments(A, w, shift, factor, chunk, first, last, firsts, seconds):
    """Chunks first .. last - 1 of A's rows: shifted weighted sums, one row of slots each.

    For chunk c (rows c * chunk up to the next chunk), with d = A[i, j] * factor[j] -
    shift[j], ``firsts[c, j]`` becomes the sum of w_i d and ``seconds[c, j]`` the sum of
    w_i d^2, in float64 whatever A's dtype. ``factor`` holds powers of two (ones, which
    change no bit, but for columns of extreme scale), so a column can be brought near 1
    before squaring without a rounding. ``w`` empty means every weight is 1. A NaN or an
    infinity anywhere in a chunk makes that chunk's sums non-finite (a zero weight
    included: 0 * inf is NaN), which is how the caller finds bad input for free.
    """
    n, p = A.shape
    weighted = w.shape[0] > 0
    for c in range(first, last):
        f = firsts[c]
        s = seconds[c]
        for j in range(p):
            f[j] = 0.0
            s[j] = 0.0
        stop = min((c + 1) * chunk, n)
        for i in range(c * chunk, stop):
            wi = w[i] if weighted else 1.0
            for j in range(p):
                d = A[i, j] * factor[j] - shift[j]
                wd = wi * d
                f[j] += wd
                s[j] += wd * d


@jit()
def finite_sums(A, chunk, first, last, sums):
    """Chunks first .. last - 1 of A's rows: ``sums[c]`` is 0 when chunk c is all finite.

    It adds A[i, j] * 0, which is 0 for a finite number and NaN for NaN or an infinity,
    so unlike a plain sum it cannot overflow into a false alarm. (The JIT's fast-math
    flags leave out "no NaNs" and "no infinities", so the product is not folded to 0.)
    """
    n, p = A.shape
    for c in range(first, last):
        total = 0.0
        stop = min((c + 1) * chunk, n)
        for i in range(c * chunk, stop):
            for j in range(p):
                total += A[i, j] * 0.0
        sums[c] = total


def probe(dtype) -> None:
    """Compile (or load from the cache) both loops for ``dtype`` on a tiny array.

    The argument types match ``stats``'s calls exactly (C-ordered 2-D ``dtype`` data,
    float64 weights, shift and slots, int64 sizes), so a fit never compiles again.
    """
    A = np.ones((3, 2), dtype=dtype)
    slots = np.zeros((1, 2))
    moments(A, np.ones(3), np.zeros(2), np.ones(2), 4096, 0, 1, slots, slots.copy())
    finite_sums(A, 4096, 0, 1, np.zeros(1))
    if not (slots[0, 0] == 3.0 and np.isfinite(slots).all()):
        raise RuntimeError(f"descent.kernels.stats_loops: moments gave {slots} on ones")
