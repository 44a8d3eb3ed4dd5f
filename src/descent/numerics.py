"""Stable elementwise kernels on plain arrays, shared by the engine and the losses.

Each one avoids overflow by only ever exponentiating non-positive numbers, and
writes into buffers it owns rather than chaining NumPy temporaries: on arrays of
100,000 points a fresh temporary costs as much as the arithmetic.
"""

from __future__ import annotations

import numpy as np


def _exp_minus_abs(z: np.ndarray) -> np.ndarray:
    """exp(-|z|) in a new buffer: always in (0, 1], never overflows."""
    out = np.abs(z, out=np.empty_like(z))
    np.negative(out, out=out)
    return np.exp(out, out=out)


def sigmoid(z) -> np.ndarray:
    """1 / (1 + exp(-z)) as exp(min(z, 0)) / (1 + exp(-|z|)): exact to the last bits anywhere.

    Example:
        >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
        [0.0, 0.5, 1.0]
    """
    z = np.asarray(z)
    num = np.minimum(z, 0, out=np.empty_like(z))
    np.exp(num, out=num)
    den = _exp_minus_abs(z)
    den += 1
    num /= den
    return num


def softplus(z) -> np.ndarray:
    """log(1 + exp(z)) as max(z, 0) + log1p(exp(-|z|)): finite for any z.

    Example:
        >>> softplus(np.array([-1000.0, 0.0, 1000.0])).round(6).tolist()
        [0.0, 0.693147, 1000.0]
    """
    z = np.asarray(z)
    out = np.log1p(_exp_minus_abs(z))
    out += np.maximum(z, 0)
    return out


def mean_log_loss_and_residual(z, y) -> tuple[float, np.ndarray]:
    """Mean log loss of sigmoid(z) against 0/1 labels y, and the residual sigmoid(z) - y.

    Per point the loss is -y log(p) - (1 - y) log(1 - p) = softplus(z) - y z, and its
    derivative in z is the residual p - y (the log-loss gradient lesson). Both come from
    one exp(-|z|), in
    two buffers: on 100,000 points a fresh temporary costs as much as the arithmetic.

    Example:
        >>> loss, r = mean_log_loss_and_residual(np.array([0.0, 1000.0]), np.array([1.0, 0.0]))
        >>> round(loss, 4), r.tolist()
        (500.3466, [-0.5, 1.0])
    """
    z = np.asarray(z)
    y = np.asarray(y)
    e = np.abs(z, out=np.empty_like(z))
    # softplus(z) = log1p(exp(-|z|)) + max(z, 0), and max(z, 0) = (z + |z|) / 2.
    total = 0.5 * (float(e.sum()) + float(z.sum())) - float(np.dot(y.ravel(), z.ravel()))
    np.negative(e, out=e)
    np.exp(e, out=e)
    buf = np.log1p(e)
    total += float(buf.sum())
    residual = np.minimum(z, 0, out=buf)
    np.exp(residual, out=residual)
    e += 1
    residual /= e
    residual -= y
    return total / max(z.size, 1), residual
