"""The order of the rows in each epoch of shuffled mini-batches.

``Generator.permutation(n)`` costs about 16 ns a row here (a bounded integer drawn per
row), a fifth of a compiled stochastic step. ``shuffled_order`` takes the randomness as
one vectorized ``rng.random(n)`` (about 2 ns a row) and runs the Fisher-Yates swaps it
drives compiled where Numba runs, or in Python otherwise: the same order either way, so
the NumPy and compiled training paths see the same batches.
"""

from __future__ import annotations

import numpy as np

from . import compiled


def _compiled_loop():
    """``order_loop.shuffle_by``, or None where Numba cannot run it."""
    module = compiled("order_loop")
    return None if module is None else module.shuffle_by


def _python_shuffle_by(order: np.ndarray, draws: np.ndarray) -> None:
    """The swaps of ``order_loop.shuffle_by`` in Python, on lists (faster than array items)."""
    n = order.shape[0]
    picks = np.minimum((draws * np.arange(1, n + 1)).astype(np.int64), np.arange(n)).tolist()
    items = order.tolist()
    for i in range(n - 1, 0, -1):
        j = picks[i]
        items[i], items[j] = items[j], items[i]
    order[:] = items


def shuffled_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """A uniformly random permutation of ``range(n)`` (int64), drawn from ``rng``.

    One ``rng.random(n)`` call feeds a Fisher-Yates shuffle, so a seeded generator gives
    the same order with or without the compiled kernels.

    Example:
        >>> order = shuffled_order(np.random.default_rng(0), 5)
        >>> sorted(order.tolist())
        [0, 1, 2, 3, 4]
        >>> bool((order == shuffled_order(np.random.default_rng(0), 5)).all())
        True
    """
    draws = rng.random(n)
    order = np.arange(n, dtype=np.int64)
    loop = _compiled_loop()
    if loop is None:
        _python_shuffle_by(order, draws)
    else:
        loop(order, draws)
    return order
