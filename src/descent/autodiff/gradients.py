"""Derivatives of scalar functions: by the chain rule (the engine) and by nudging."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .tensor import Tensor, as_float_array


def _scalar_output(out, where: str) -> Tensor | float:
    """Check that ``f`` returned one number; say how to fix it when it did not."""
    value = out.data if isinstance(out, Tensor) else np.asarray(out)
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{where}: f must return a number or a Tensor, got {type(out).__name__}")
    if value.size != 1:
        raise ValueError(
            f"{where}: f must return a scalar, but it returned shape {value.shape}; "
            "reduce it inside f, e.g. with .sum() or .mean()."
        )
    return out


def value_and_grad(f: Callable) -> Callable:
    """Return a function giving ``(f(x), gradient of f at x)`` from one forward pass.

    Example:
        >>> value, slope = value_and_grad(lambda x: x ** 2)(3.0)
        >>> value, slope
        (9.0, 6.0)
    """

    def evaluate(x):
        if isinstance(x, Tensor):
            x = x.data
        scalar_input = np.ndim(x) == 0 and not isinstance(x, np.ndarray)
        t = Tensor(as_float_array(x).copy(), name="x")
        out = _scalar_output(f(t), "grad")
        if isinstance(out, Tensor) and out.requires_grad:
            out.backward()
        g = t.grad if t.grad is not None else np.zeros_like(t.data)
        value = float(np.asarray(out.data if isinstance(out, Tensor) else out).reshape(()))
        return value, (float(g) if scalar_input else g)

    return evaluate


def grad(f: Callable) -> Callable:
    """Return the function x -> gradient of the scalar function ``f`` at ``x``.

    ``f`` receives a Tensor with the shape of ``x`` and may index it.

    Example:
        >>> g = grad(lambda x: x[0] ** 2 + 3 * x[1])
        >>> g(np.array([2.0, 5.0]))
        array([4., 3.])
    """
    evaluate = value_and_grad(f)

    def gradient(x):
        return evaluate(x)[1]

    return gradient


def _evaluate_const(f: Callable, x: np.ndarray) -> float:
    out = _scalar_output(f(Tensor(x, requires_grad=False)), "numerical_grad")
    return float(np.asarray(out.data if isinstance(out, Tensor) else out).reshape(()))


def numerical_grad(f: Callable, x, eps: float = 1e-6) -> np.ndarray:
    """Derivatives by nudging: central differences (f(x + eps) - f(x - eps)) / (2 eps).

    Works for any ``f`` that ``grad`` accepts; always computed in float64.

    Example:
        >>> numerical_grad(lambda x: x[0] * x[1], np.array([3.0, 2.0])).round(6)
        array([2., 3.])
    """
    if not eps > 0:
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    base = np.array(x, dtype=np.float64)
    out = np.empty_like(base)
    flat, gflat = base.reshape(-1), out.reshape(-1)
    for i in range(flat.size):
        kept = flat[i]
        flat[i] = kept + eps
        up = _evaluate_const(f, base)
        flat[i] = kept - eps
        down = _evaluate_const(f, base)
        flat[i] = kept
        gflat[i] = (up - down) / (2 * eps)
    return out


def check_grad(f: Callable, x, eps: float = 1e-6) -> float:
    """Largest difference between the engine's gradient and the nudged one.

    Each difference is divided by max(|engine|, |nudged|, 1): relative for
    gradients larger than 1, absolute for smaller ones, where rounding in the
    nudge dominates.

    Example:
        >>> check_grad(lambda x: (x ** 3).sum(), np.array([1.0, -2.0])) < 1e-6
        True
    """
    exact = np.asarray(grad(f)(np.asarray(x, dtype=np.float64)), dtype=np.float64)
    nudged = numerical_grad(f, x, eps)
    scale = np.maximum(np.maximum(np.abs(exact), np.abs(nudged)), 1.0)
    return float(np.max(np.abs(exact - nudged) / scale)) if exact.size else 0.0
