"""The classic optimizers, each a building block followed by ``scale_by_learning_rate``.

Every named optimizer has the state layout ``(block_state, ScaleByLearningRateState)``
(gd has no block: ``(ScaleByLearningRateState,)``), so ``state[-1].count`` is always
the number of steps taken.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from descent.optim.base import GradientTransformation, chain
from descent.optim.schedules import Schedule
from descent.optim.transforms import (
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_rms,
    trace,
)

LearningRate = float | Schedule


def gd(learning_rate: LearningRate) -> GradientTransformation:
    """Plain gradient descent: ``x <- x - lr * grad``.

    Args:
        learning_rate: a positive number or a schedule ``step -> float``.

    Returns:
        The optimizer.

    >>> import numpy as np
    >>> opt = gd(0.1)
    >>> opt.update(np.array([1.0, -2.0]), opt.init(np.zeros(2)))[0]
    array([-0.1,  0.2])
    """
    return chain(scale_by_learning_rate(learning_rate))


def momentum(learning_rate: LearningRate, beta: float = 0.9) -> GradientTransformation:
    """Heavy-ball momentum: ``v <- beta v + grad``, ``x <- x - lr v``.

    Args:
        learning_rate: a positive number or a schedule ``step -> float``.
        beta: momentum coefficient in [0, 1).

    Returns:
        The optimizer.

    >>> import numpy as np
    >>> opt = momentum(0.1, beta=0.5)
    >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0]
    array([-0.1])
    """
    return chain(trace(decay=beta), scale_by_learning_rate(learning_rate))


def nesterov(learning_rate: LearningRate, beta: float = 0.9) -> GradientTransformation:
    """Nesterov momentum: ``v <- beta v + grad``, ``x <- x - lr (grad + beta v)``.

    Args:
        learning_rate: a positive number or a schedule ``step -> float``.
        beta: momentum coefficient in [0, 1).

    Returns:
        The optimizer.

    >>> import numpy as np
    >>> opt = nesterov(0.1, beta=0.5)
    >>> opt.update(np.array([1.0]), opt.init(np.zeros(1)))[0]  # -0.1 * (1 + 0.5 * 1)
    array([-0.15])
    """
    return chain(trace(decay=beta, nesterov=True), scale_by_learning_rate(learning_rate))


def adagrad(
    learning_rate: LearningRate, eps: float = 1e-10, initial_accumulator: float = 0.1
) -> GradientTransformation:
    """AdaGrad: ``s <- s + grad**2``, ``x <- x - lr grad / (sqrt(s) + eps)``.

    Args:
        learning_rate: a positive number or a schedule ``step -> float``.
        eps: added to the denominator to avoid division by zero.
        initial_accumulator: starting value of ``s``.

    Returns:
        The optimizer.

    >>> import numpy as np
    >>> opt = adagrad(1.0, eps=0.0, initial_accumulator=0.0)
    >>> opt.update(np.array([3.0]), opt.init(np.zeros(1)))[0]
    array([-1.])
    """
    return chain(scale_by_adagrad(eps, initial_accumulator), scale_by_learning_rate(learning_rate))


def rmsprop(
    learning_rate: LearningRate, decay: float = 0.9, eps: float = 1e-8
) -> GradientTransformation:
    """RMSProp: ``a <- decay a + (1-decay) grad**2``, ``x <- x - lr grad / (sqrt(a) + eps)``.

    Args:
        learning_rate: a positive number or a schedule ``step -> float``.
        decay: forgetting factor of the squared-gradient average, in [0, 1).
        eps: added to the denominator to avoid division by zero.

    Returns:
        The optimizer.

    >>> import numpy as np
    >>> opt = rmsprop(0.1, decay=0.75, eps=0.0)
    >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]
    array([-0.2])
    """
    return chain(scale_by_rms(decay, eps), scale_by_learning_rate(learning_rate))


def adam(
    learning_rate: LearningRate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam: bias-corrected momentum divided by the root of the squared-gradient average.

    Args:
        learning_rate: a positive number or a schedule ``step -> float``.
        b1: decay of the gradient average, in [0, 1).
        b2: decay of the squared-gradient average, in [0, 1).
        eps: added to the denominator to avoid division by zero.

    Returns:
        The optimizer.

    >>> import numpy as np
    >>> opt = adam(0.1, eps=0.0)
    >>> opt.update(np.array([5.0]), opt.init(np.zeros(1)))[0]  # first step: -lr * sign(g)
    array([-0.1])
    """
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))


OPTIMIZERS: dict[str, Callable[..., GradientTransformation]] = {
    "gd": gd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


def get_optimizer(
    optimizer: str | GradientTransformation, learning_rate: LearningRate, **hyperparams: Any
) -> GradientTransformation:
    """Build a named optimizer, or return a given GradientTransformation unchanged.

    Args:
        optimizer: one of ``"gd"``, ``"momentum"``, ``"nesterov"``, ``"adagrad"``,
            ``"rmsprop"``, ``"adam"`` (case-insensitive), or a GradientTransformation.
        learning_rate: a positive finite number or a schedule ``step -> float``; ignored
            when ``optimizer`` is already a GradientTransformation.
        **hyperparams: the named optimizer's other arguments, e.g. ``beta=0.5``.

    Returns:
        The optimizer.

    Raises:
        ValueError: for an unknown name, a learning rate that is not a positive finite
            number, hyperparameters given with a GradientTransformation, or a bad
            hyperparameter value.

    >>> get_optimizer("Adam", 0.01) is not None
    True
    """
    if isinstance(optimizer, GradientTransformation):
        if hyperparams:
            raise ValueError(
                f"hyperparameters {sorted(hyperparams)} only apply to an optimizer name, "
                f"not to a ready-made GradientTransformation"
            )
        return optimizer
    key = optimizer.strip().lower() if isinstance(optimizer, str) else None
    if key not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {list(OPTIMIZERS)} "
            f"or a GradientTransformation"
        )
    return OPTIMIZERS[key](learning_rate, **hyperparams)
