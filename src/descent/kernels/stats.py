"""The fit's set-up pass over X: column means and scales, and the check for NaN and infinity.

A fit reads X once before training: ``column_stats`` gives the (weighted) mean and
standard deviation of every column for ``standardize=True`` and, from the same sums,
whether X holds a NaN or an infinity; ``check_finite`` is the check alone, for fits
that do not standardize. Both use the compiled loops of ``stats_loops`` on all cores
where Numba runs (``DESCENT_JIT`` as for the other kernels), and NumPy otherwise, with
the same results to rounding. Neither copies X: NumPy takes a block of rows at a time
into one reused buffer, the compiled loops read rows in place.

Bad input gets a ``ValueError`` that names the first bad entry and the fix, e.g.
``Input X contains NaN (first at row 1, column 0) ...``.
"""

from __future__ import annotations

import numpy as np

from . import compiled

#: Rows per block of the NumPy path: small enough to stay in cache (~400 kB at 100
#: features, measured fastest here), and never a copy of X.
BLOCK_ROWS = 512
#: At most this many chunks (slots of partial sums): rows per chunk grow with n beyond it.
MAX_CHUNKS = 256
#: The least rows per chunk: the unit of work of one thread.
MIN_CHUNK = 4096
#: Below this many values one thread does the whole pass: a thread hand-over costs more.
PARALLEL_VALUES = 1 << 18


def _loops(dtype):
    """The compiled loops (``stats_loops``) for ``dtype``; None where they cannot run."""
    return compiled("stats_loops", dtype)


def _compiled(A):
    """The loops for A, or None when A is not C-ordered float data they were built for."""
    if A.ndim != 2 or A.dtype not in (np.float32, np.float64) or not A.flags.c_contiguous:
        return None
    return _loops(A.dtype)


def _chunking(n: int) -> tuple[int, int]:
    """(rows per chunk, chunks): a function of n only, so the sums' order is too."""
    chunk = max(MIN_CHUNK, -(-n // MAX_CHUNKS))
    return chunk, -(-n // chunk)


def _run_chunks(loop, A, count, head, tail, workers=None):
    """``loop(*head, first, last, *tail)`` over runs of the ``count`` chunks of A's rows,
    on all cores (``runner.run_chunks``) when A is large enough for threads to pay."""
    from .runner import run_chunks, threads

    workers = threads() if workers is None else workers
    if A.size < PARALLEL_VALUES:
        workers = 1
    run_chunks(count, workers, lambda first, last: loop(*head, first, last, *tail))


def nonfinite_error(A, name: str = "X", who: str = "descent") -> ValueError | None:
    """The error for A's first NaN or infinity (None when A is finite after all).

    Used once a fast pass has seen a non-finite sum: it finds the entry, a block of rows
    at a time, so the message can name it.

    Example:
        >>> print(nonfinite_error(np.array([[1.0, 2.0], [np.inf, 0.0]])))  # doctest: +ELLIPSIS
        Input X contains infinity (first at row 1, column 0); descent needs finite numbers...
    """
    A = np.asarray(A)
    if A.dtype.kind not in "fc":
        return None
    rows = A.reshape(A.shape[0], -1) if A.ndim != 2 else A
    for start in range(0, rows.shape[0], BLOCK_ROWS):
        bad = ~np.isfinite(rows[start:start + BLOCK_ROWS])
        if bad.any():
            i, j = np.argwhere(bad)[0]
            value = rows[start + i, j]
            where = f"first at row {start + i}, column {j}"
            if np.isnan(value):
                return ValueError(
                    f"Input {name} contains NaN ({where}); {who} needs finite numbers: "
                    "drop the rows with missing values or fill them in (e.g. with "
                    "sklearn.impute.SimpleImputer) before fitting")
            return ValueError(
                f"Input {name} contains infinity ({where}); {who} needs finite numbers: "
                "replace or clip the infinite values (e.g. with np.nan_to_num or "
                "np.clip) before fitting")
    return None


def check_finite(A, name: str = "X", who: str = "descent", *, workers=None) -> None:
    """Raise a ValueError naming A's first NaN or infinity; one fast pass over A.

    Args:
        A: a 2-D float array (other dtypes hold no NaN and pass at once).
        name: how the message calls A.
        who: who needs finite numbers (the estimator's name), for the message.
        workers: threads for the compiled pass (default: the cores available).

    Example:
        >>> check_finite(np.ones((3, 2)))  # finite: returns None
        >>> check_finite(np.array([[1.0, np.nan]]))
        Traceback (most recent call last):
        ...
        ValueError: Input X contains NaN (first at row 0, column 1); descent needs ...
    """
    A = np.asarray(A)
    if A.dtype.kind not in "fc" or A.size == 0:
        return
    loops = _compiled(A)
    if loops is None:
        with np.errstate(over="ignore", invalid="ignore"):
            finite = bool(np.isfinite(A.sum()))  # an overflow is checked entry by entry
    else:
        chunk, count = _chunking(A.shape[0])
        sums = np.zeros(count)
        _run_chunks(loops.finite_sums, A, count, (A, chunk), (sums,), workers=workers)
        finite = bool(np.isfinite(sums).all())
    if not finite:
        error = nonfinite_error(A, name, who)
        if error is not None:
            raise error


def _moments_numpy(A, w, shift, factor=None):
    """(first, second): ``stats_loops.moments``'s sums, a block of rows at a time into one
    buffer (``factor`` None: ones)."""
    first = np.zeros(A.shape[1])
    second = np.zeros(A.shape[1])
    buffer = np.empty((min(BLOCK_ROWS, A.shape[0]), A.shape[1]))
    ones = np.ones(len(buffer))  # a product with ones is BLAS's fastest column sum
    for start in range(0, A.shape[0], BLOCK_ROWS):
        rows = A[start:start + BLOCK_ROWS]
        block = buffer[: len(rows)]
        if factor is None:
            np.subtract(rows, shift, out=block)
        else:
            np.multiply(rows, factor, out=block)
            block -= shift
        weights = ones[: len(rows)] if w is None else w[start:start + BLOCK_ROWS]
        first += weights @ block
        np.square(block, out=block)
        second += weights @ block
    return first, second


def _moments_compiled(loops, A, w, shift, factor, workers):
    chunk, count = _chunking(A.shape[0])
    firsts = np.empty((count, A.shape[1]))
    seconds = np.empty((count, A.shape[1]))
    weights = np.empty(0) if w is None else np.ascontiguousarray(w, dtype=np.float64)
    factor = np.ones(A.shape[1]) if factor is None else factor
    _run_chunks(loops.moments, A, count, (A, weights, shift, factor, chunk), (firsts, seconds),
                workers=workers)
    return firsts.sum(axis=0), seconds.sum(axis=0)


#: A column whose mean square about the first row is beyond 2**±(2 SAFE_EXPONENT) is
#: summed again brought near 1 (by a power of two, which rounds nothing): its squares
#: overflowed, or underflowed into the subnormal numbers, where they lose their digits.
SAFE_EXPONENT = 450


def _rescaling(A, first, second) -> np.ndarray | None:
    """Powers of two that bring the largest |value| of each column of extreme scale into
    [0.5, 1) (1 for the others), from the first pass's mean sums; None when all are safe.

    A tiny column shows as a tiny mean square, or as one that underflowed to 0 while the
    mean difference did not; only such columns are read again, for their largest value.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        huge = ~np.isfinite(second) | (second > 2.0**(2 * SAFE_EXPONENT))
        tiny = (second < 2.0**(-2 * SAFE_EXPONENT)) & ((second > 0) | (first != 0))
    unsafe = np.flatnonzero(huge | tiny)
    if unsafe.size == 0:
        return None
    factor = np.ones(A.shape[1])
    for j in unsafe:
        _, exponent = np.frexp(np.max(np.abs(A[:, j])))
        factor[j] = np.ldexp(1.0, -int(exponent))
    return factor


def is_constant(mean: np.ndarray, scale: np.ndarray, dtype) -> np.ndarray:
    """Columns to leave unscaled: no spread, none against their size (1e-12 of |mean|, the
    rounding of the sums), or a spread below the dtype's smallest normal number, whose
    inverse would overflow. A column's spread is judged against itself, never against 1,
    so data of any scale is standardized.

    Example:
        >>> is_constant(np.array([5.0, 1e-160, 1.0]), np.array([0.0, 1e-160, 1e-14]),
        ...             np.float64).tolist()
        [True, False, True]
    """
    return ~(scale > 1e-12 * np.abs(mean)) | (scale < np.finfo(dtype).tiny)


def column_stats(A, sample_weight=None, *, name: str = "X", who: str = "descent",
                 workers=None, compiled: bool | None = None, return_constant: bool = False):
    """Weighted column means and standard deviations of A (1 where a column is constant).

    One pass over A, which also checks it: a NaN or an infinity raises a ValueError that
    names the first one and the fix. The sums are taken about the first row (the
    "shifted data" formula), so a column whose mean is large against its spread loses no
    precision; they are float64 whatever A's dtype, and the results have A's dtype. A
    column of extreme scale (largest |value| beyond 2**±450, e.g. 1e-160 or 1e300) takes
    a second pass, brought near 1 by a power of two before squaring, so its squares
    neither overflow nor underflow. A column without spread against its size (see
    ``is_constant``) gets scale 1.

    Args:
        A: a 2-D float array of shape (n, p), n >= 1.
        sample_weight: None (equal weights) or n non-negative weights, not all zero.
        name, who: how the error message calls A and who needs it finite.
        workers: threads for the compiled pass (default: the cores available).
        compiled: None to use the compiled pass where it runs, False for NumPy's; True
            insists on the compiled pass and raises RuntimeError where it cannot run.
        return_constant: also return which columns were found constant.

    Returns:
        (mean, scale), each of shape (p,); with ``return_constant``, (mean, scale,
        constant), ``constant`` a boolean mask.

    Example:
        >>> A = np.array([[1.0, 5.0], [3.0, 5.0]])
        >>> mean, scale = column_stats(A)
        >>> mean.tolist(), scale.tolist()
        ([2.0, 5.0], [1.0, 1.0])
    """
    A = np.asarray(A)
    if A.ndim != 2 or A.shape[0] == 0:
        raise ValueError(f"column_stats needs a 2-D array with at least one row, got shape "
                         f"{A.shape}")
    w = None
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=np.float64)
        if np.ptp(sw) > 0:  # equal weights: the unweighted sums, divided by n
            w = sw / sw.sum()
    loops = _compiled(A) if compiled is not False else None
    if compiled and loops is None:
        raise RuntimeError("the compiled set-up pass cannot run here (DESCENT_JIT=0, no "
                           "Numba, or A is not C-ordered float32/float64 data)")
    def moments(shift, factor=None):
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if loops is None:
                first, second = _moments_numpy(A, w, shift, factor)
            else:
                first, second = _moments_compiled(loops, A, w, shift, factor, workers)
            if w is None:
                first /= A.shape[0]
                second /= A.shape[0]
        return first, second

    shift = A[0].astype(np.float64)
    first, second = moments(shift)
    if not (np.isfinite(first).all() and np.isfinite(second).all()):
        error = nonfinite_error(A, name, who)  # else only squares overflowed
        if error is not None:
            raise error
    factor = _rescaling(A, first, second)
    if factor is not None:  # columns of extreme scale: a second pass, brought near 1
        shift = shift * factor
        first, second = moments(shift, factor)
    else:
        factor = np.ones(A.shape[1])
    mean = (shift + first) / factor
    scale = np.sqrt(np.maximum(second - first**2, 0.0)) / factor
    constant = is_constant(mean, scale, A.dtype)
    scale[constant] = 1.0
    if return_constant:
        return mean.astype(A.dtype), scale.astype(A.dtype), constant
    return mean.astype(A.dtype), scale.astype(A.dtype)
