"""The compiled swap loop of ``descent.kernels.order`` (imports Numba: load it lazily)."""

from __future__ import annotations

import numpy as np

from ._jit import jit


@jit()
def shuffle_by(order, draws):
    """Fisher-Yates on ``order`` in place: for i = n-1 .. 1, swap i with floor(draws[i] (i+1)).

    ``draws`` are uniform on [0, 1); j is capped at i for a product that rounds up to i+1.
    """
    for i in range(order.shape[0] - 1, 0, -1):
        j = min(np.int64(draws[i] * (i + 1)), i)
        held = order[i]
        order[i] = order[j]
        order[j] = held


def probe() -> None:
    """Compile (or load from the disk cache) the loop once, on a tiny problem."""
    order = np.arange(3, dtype=np.int64)
    shuffle_by(order, np.array([0.0, 0.9, 0.1]))
    if sorted(order.tolist()) != [0, 1, 2]:
        raise RuntimeError("the compiled shuffle lost an element")
