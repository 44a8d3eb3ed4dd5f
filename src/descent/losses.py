"""The loss table: each seed's error function, its closed-form gradient, and its engine twin.

Scores ``S`` and encoded targets ``Y`` are both (n, k): n points, k outputs or classes.
Every loss but the multinomial one treats the k columns as independent one-vs-rest
problems, so a point's loss is the sum over its columns.

Each ``Loss`` carries the per-point loss and gradient in plain NumPy (the readable
table), the same loss composed from engine ops (to prove the closed forms), and a
fused kernel that ``mean_loss_and_gradient`` runs in the training loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import autodiff as ad
from . import numerics
from .autodiff import Tensor
from .autodiff.tensor import as_float_array

ArrayPair = Callable[[np.ndarray, np.ndarray], np.ndarray]
# fast(S, Y, w) -> (sum_i w_i L_i, dL/dS per point); w is None for all ones.
FastKernel = Callable[[np.ndarray, np.ndarray, np.ndarray | None], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class Loss:
    """One row of the loss table.

    Attributes:
        name: the key in ``LOSSES``.
        point_values: ``(S, Y) -> (n,)`` loss of each point.
        point_gradient: ``(S, Y) -> (n, k)`` dL_i/dS_i for each point, not divided by n.
        engine: ``(S: Tensor, Y) -> Tensor (n,)``, the same loss from engine ops.
        kind: ``"regression"`` or ``"classification"``.
        fast: optional fused kernel ``(S, Y, w) -> (sum_i w_i L_i, gradient per point)``
            with ``w`` None meaning all ones; without it the two functions above are used.

    Example:
        >>> loss = LOSSES["squared_error"]
        >>> loss.point_values(np.array([[3.0]]), np.array([[1.0]])).tolist()
        [2.0]
    """

    name: str
    point_values: ArrayPair
    point_gradient: ArrayPair
    engine: Callable[[Tensor, np.ndarray], Tensor]
    kind: str
    fast: FastKernel | None = None


# ----- reductions shared by the fused kernels -----------------------------------------
def _weighted_sum(A: np.ndarray, w: np.ndarray | None) -> float:
    """sum_i w_i sum_k A_ik (all weights 1 when w is None)."""
    if w is None:
        return float(A.sum())
    return float((w @ A).sum())  # a matrix-vector product: BLAS, no (n, k) temporary


def _weighted_dot(A: np.ndarray, B: np.ndarray, w: np.ndarray | None) -> float:
    """sum_i w_i sum_k A_ik B_ik, without forming A * B."""
    if w is None:
        return float(np.vdot(A, B))
    return float(np.einsum("ik,ik,i->", A, B, w))


# ----- squared error: 1/2 (y - s)^2 ---------------------------------------------------
# The 1/2 makes a batch-size-1 step the textbook square trick: w += lr (y - yhat) x.
def _squared_values(S, Y):
    return 0.5 * np.sum((S - Y) ** 2, axis=1)


def _squared_gradient(S, Y):
    return S - Y


def _squared_engine(S, Y):
    residual = S - Y
    return 0.5 * ad.sum(residual * residual, axis=1)


def _squared_fast(S, Y, w):
    residual = S - Y  # becomes the gradient
    return 0.5 * _weighted_dot(residual, residual, w), residual


# ----- absolute error: |y - s| ----------------------------------------------------------
# Its gradient sign(s - y) gives the absolute trick: w += lr sign(y - yhat) x.
def _absolute_values(S, Y):
    return np.sum(np.abs(S - Y), axis=1)


def _absolute_gradient(S, Y):
    return np.sign(S - Y)


def _absolute_engine(S, Y):
    return ad.sum(ad.abs(S - Y), axis=1)


def _absolute_fast(S, Y, w):
    residual = S - Y
    sign = np.sign(residual)
    return _weighted_dot(sign, residual, w), sign  # |r| = sign(r) r


# ----- perceptron: |s| when misclassified, else 0 ----------------------------------------
# The prediction is step(s) = 1 if s >= 0, so s == 0 predicts 1: a y = 0 point sitting
# on the boundary is a mistake (gradient +1), a y = 1 point there is not (gradient 0).
# In one line: the gradient is step(s) - y, and the loss is (step(s) - y) s.
def _perceptron_gradient(S, Y):
    mistake = np.greater_equal(S, 0, out=np.empty_like(S))  # step(s) as 0.0 / 1.0
    mistake -= Y
    return mistake


def _perceptron_values(S, Y):
    return np.sum(_perceptron_gradient(S, Y) * S, axis=1)


def _perceptron_engine(S, Y):
    # Composed from the textbook cases, not from the one-line formula above:
    # y = 1 costs relu(-s); y = 0 costs s on the predicted-1 side s >= 0.
    return ad.sum(ad.where(Y > 0.5, ad.relu(-S), ad.where(S >= 0, S, 0.0)), axis=1)


def _perceptron_fast(S, Y, w):
    mistake = _perceptron_gradient(S, Y)
    return _weighted_dot(mistake, S, w), mistake


# ----- log loss: -y log p - (1 - y) log(1 - p), p = sigmoid(s) ---------------------------
# Written as softplus(s) - y s it is finite for any score; its gradient is p - y
# (the log-loss gradient lesson).
def _log_values(S, Y):
    return np.sum(numerics.softplus(S) - Y * S, axis=1)


def _log_gradient(S, Y):
    residual = numerics.sigmoid(S)
    residual -= Y
    return residual


def _log_engine(S, Y):
    return ad.sum(ad.softplus(S) - Y * S, axis=1)


def _log_fast(S, Y, w):
    if w is None:
        mean, residual = numerics.mean_log_loss_and_residual(S, Y)
        return mean * S.size, residual
    # The weighted twin of numerics.mean_log_loss_and_residual, in the same two buffers:
    # softplus(s) = log1p(exp(-|s|)) + (s + |s|) / 2 and
    # sigmoid(s) = exp(min(s, 0)) / (1 + exp(-|s|)) share the one exp(-|s|).
    e = np.abs(S, out=np.empty_like(S))
    total = 0.5 * (_weighted_sum(e, w) + _weighted_sum(S, w)) - _weighted_dot(Y, S, w)
    np.negative(e, out=e)
    np.exp(e, out=e)
    buf = np.log1p(e)
    total += _weighted_sum(buf, w)
    residual = np.minimum(S, 0, out=buf)
    np.exp(residual, out=residual)
    e += 1
    residual /= e
    residual -= Y
    return total, residual


# ----- multinomial log loss: softmax cross-entropy --------------------------------------
# Per point logsumexp(s) - y . s with one-hot y; the gradient is softmax(s) - y.
def _row_max(S):
    """Each row's maximum, shape (n, 1): shifting by it, exp never sees a positive number."""
    # NumPy reduces a short last axis slowly (40 ns a row for k = 3); for a few columns,
    # folding them together with np.maximum is ten times faster.
    if S.shape[1] > 8:
        return S.max(axis=1, keepdims=True)
    peak = S[:, :1].copy()
    for j in range(1, S.shape[1]):
        np.maximum(peak, S[:, j : j + 1], out=peak)
    return peak


def _row_sum(A):
    """Each row's sum, shape (n, 1), as a matrix-vector product (BLAS beats sum(axis=1))."""
    return (A @ np.ones(A.shape[1], dtype=A.dtype))[:, None]


def _multinomial_values(S, Y):
    peak = _row_max(S)
    lse = peak[:, 0] + np.log(np.sum(np.exp(S - peak), axis=1))
    return lse - np.sum(Y * S, axis=1)


def _multinomial_gradient(S, Y):
    probs = np.exp(S - _row_max(S))
    probs /= probs.sum(axis=1, keepdims=True)
    probs -= Y
    return probs


def _multinomial_engine(S, Y):
    return ad.logsumexp(S, axis=1) - ad.sum(Y * S, axis=1)


def _multinomial_fast(S, Y, w):
    peak = _row_max(S)
    probs = np.subtract(S, peak, out=np.empty_like(S))
    np.exp(probs, out=probs)
    norm = _row_sum(probs)
    lse = np.log(norm)
    lse += peak
    total = _weighted_sum(lse, w) - _weighted_dot(Y, S, w)
    probs /= norm
    probs -= Y
    return total, probs


# ----- hinge: max(0, 1 - t s) with t = 2y - 1 -------------------------------------------
# The gradient is -t inside the margin (t s < 1) and 0 outside it, the boundary included.
def _signed_targets(Y):
    t = np.multiply(Y, 2, out=np.empty_like(Y))
    t -= 1
    return t


def _hinge_values(S, Y):
    return np.sum(np.maximum(0, 1 - _signed_targets(Y) * S), axis=1)


def _hinge_gradient(S, Y):
    t = _signed_targets(Y)
    return np.where(t * S < 1, -t, 0.0).astype(S.dtype, copy=False)


def _hinge_engine(S, Y):
    return ad.sum(ad.relu(1 - _signed_targets(Y) * S), axis=1)


def _hinge_fast(S, Y, w):
    grad = _signed_targets(Y)
    slack = np.multiply(grad, S)
    np.subtract(1, slack, out=slack)  # 1 - t s
    np.negative(grad, out=grad)
    np.copyto(grad, 0, where=slack <= 0)  # outside the margin; copyto leaves no -0.0 behind
    np.maximum(slack, 0, out=slack)
    return _weighted_sum(slack, w), grad


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("squared_error", _squared_values, _squared_gradient, _squared_engine,
             "regression", _squared_fast),
        Loss("absolute_error", _absolute_values, _absolute_gradient, _absolute_engine,
             "regression", _absolute_fast),
        Loss("perceptron", _perceptron_values, _perceptron_gradient, _perceptron_engine,
             "classification", _perceptron_fast),
        Loss("log_loss", _log_values, _log_gradient, _log_engine,
             "classification", _log_fast),
        Loss("multinomial_log_loss", _multinomial_values, _multinomial_gradient,
             _multinomial_engine, "classification", _multinomial_fast),
        Loss("hinge", _hinge_values, _hinge_gradient, _hinge_engine,
             "classification", _hinge_fast),
    )
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``, or ValueError listing the valid names.

    Example:
        >>> get_loss("hinge").kind
        'classification'
    """
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(n) for n in LOSSES)
        raise ValueError(f"unknown loss {name!r}; valid losses are {valid}") from None


def _normalised_weights(sample_weight, n: int, dtype) -> np.ndarray:
    w = np.asarray(sample_weight, dtype=dtype)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), one weight a point; got {w.shape}")
    total = float(w.sum())
    if not total > 0:
        raise ValueError(
            f"sample_weight must sum to a positive number, got a total of {total}; "
            "at least one point needs a positive weight"
        )
    return w / total


def mean_loss_and_gradient(loss: Loss, S, Y, sample_weight=None) -> tuple[float, np.ndarray]:
    """The (weighted) mean loss over the points and its gradient with respect to ``S``.

    The mean is sum_i w_i L_i / sum_i w_i (a plain mean when ``sample_weight`` is None);
    the gradient (n, k) is already divided by the weight total. ``Y`` is cast to the dtype
    of ``S``, so float32 scores give a float32 gradient. Neither input is modified.

    Example:
        >>> S, Y = np.array([[3.0], [1.0]]), np.array([[1.0], [1.0]])
        >>> value, dS = mean_loss_and_gradient(LOSSES["squared_error"], S, Y)
        >>> value, dS.tolist()
        (1.0, [[1.0], [0.0]])
    """
    S = as_float_array(S)  # float32 and float64 kept, anything else float64
    Y = np.asarray(Y, dtype=S.dtype)
    if S.ndim != 2 or S.shape != Y.shape:
        raise ValueError(
            f"scores and targets must both have shape (n, k); got {S.shape} and {Y.shape}"
        )
    n = S.shape[0]
    w = None if sample_weight is None else _normalised_weights(sample_weight, n, S.dtype)
    if loss.fast is not None:
        total, grad = loss.fast(S, Y, w)
    else:
        values, grad = loss.point_values(S, Y), loss.point_gradient(S, Y).astype(S.dtype)
        total = float(values.sum() if w is None else values @ w)
    if w is None:
        grad /= max(n, 1)
        return total / max(n, 1), grad
    grad *= w[:, None]
    return float(total), grad
