"""Functions composed from the primitives: their gradients come for free."""

from __future__ import annotations

from . import ops
from .tensor import Tensor, lift


def softmax(x, axis: int = -1) -> Tensor:
    """exp(x) normalised along ``axis``; computed as exp(x - logsumexp(x)) so it never overflows.

    Example:
        >>> softmax(Tensor([1000.0, 1000.0])).data
        array([0.5, 0.5])
    """
    x = lift(x)
    return ops.exp(x - ops.logsumexp(x, axis=axis, keepdims=True))


def log_softmax(x, axis: int = -1) -> Tensor:
    """log(softmax(x)) without taking the log of a number that underflowed to 0.

    Example:
        >>> log_softmax(Tensor([0.0, 1000.0])).data
        array([-1000.,     0.])
    """
    x = lift(x)
    return x - ops.logsumexp(x, axis=axis, keepdims=True)


def log_sigmoid(x) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite even for x = -1000.

    Example:
        >>> float(log_sigmoid(Tensor(-1000.0)).data)
        -1000.0
    """
    return -ops.softplus(-lift(x))
