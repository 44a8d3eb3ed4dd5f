"""Ops with a hand-written joint VJP, where composing primitives would lose speed.

Composed from primitives, the mean log loss from scores would take the exponential
of the scores three times (softplus forward, sigmoid backward) and keep four
intermediate arrays; fused, it takes it twice and keeps one.
"""

from __future__ import annotations

import numpy as np

from .. import numerics
from .tensor import Tensor, lift


def log_loss_with_logits(z, y) -> Tensor:
    """Mean log loss of sigmoid(z) against 0/1 labels ``y``, from the scores ``z``.

    Per point the loss is -y log(p) - (1 - y) log(1 - p) with p = sigmoid(z); written as
    softplus(z) - y z it stays finite for any score, and its gradient in z is p - y.

    Example:
        >>> round(float(log_loss_with_logits(Tensor([0.0]), [1.0]).data), 4)
        0.6931
    """
    z = lift(z)
    labels = np.asarray(y.data if isinstance(y, Tensor) else y, dtype=z.dtype)
    loss, residual = numerics.mean_log_loss_and_residual(z.data, labels)
    count = max(residual.size, 1)

    def vjp(g):
        return residual * (g / count)

    return Tensor._result(np.asarray(loss, dtype=z.dtype), "log_loss", (z,), (vjp,))
