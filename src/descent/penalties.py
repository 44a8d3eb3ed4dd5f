"""L1, L2 and elastic-net regularization, with scikit-learn SGD's conventions.

The objective is mean loss + alpha * R(W), where W is the coefficient matrix only (the
intercept is never penalized) and

- ``"l2"``:         R(W) = 1/2 ||W||^2
- ``"l1"``:         R(W) = ||W||_1
- ``"elasticnet"``: R(W) = l1_ratio ||W||_1 + (1 - l1_ratio) 1/2 ||W||^2
- ``None``:         R(W) = 0

The gradient of ||W||_1 is taken as sign(W), with sign(0) = 0.
"""

from __future__ import annotations

import numpy as np

from . import autodiff as ad
from .autodiff import Tensor
from .checks import in_unit_interval, non_negative_finite

PENALTIES = ("l2", "l1", "elasticnet")
_HAS_L1 = ("l1", "elasticnet")


def check_penalty(penalty, alpha, l1_ratio=0.15) -> None:
    """Raise ValueError unless ``penalty`` is known, ``alpha`` >= 0 finite, ``l1_ratio`` in [0, 1].

    Example:
        >>> check_penalty("elasticnet", 0.01, 0.5)
        >>> check_penalty("l3", 0.01)
        Traceback (most recent call last):
        ...
        ValueError: unknown penalty 'l3'; valid penalties are 'l2', 'l1', 'elasticnet' or None
    """
    if penalty is not None and penalty not in PENALTIES:
        valid = ", ".join(repr(p) for p in PENALTIES)
        raise ValueError(f"unknown penalty {penalty!r}; valid penalties are {valid} or None")
    non_negative_finite("alpha", alpha)
    in_unit_interval("l1_ratio", l1_ratio, include_one=True)


def _l1_share(penalty, l1_ratio) -> float:
    """The weight of ||W||_1 in R; the L2 term gets 1 minus it."""
    return {"l2": 0.0, "l1": 1.0}.get(penalty, float(l1_ratio))


def penalty_value(W, penalty, alpha, l1_ratio=0.15) -> float:
    """alpha * R(W), the penalty's contribution to the objective.

    Example:
        >>> W = np.array([[3.0], [-4.0]])
        >>> penalty_value(W, "l2", 0.5), penalty_value(W, "l1", 0.5)
        (6.25, 3.5)
    """
    check_penalty(penalty, alpha, l1_ratio)
    if penalty is None or alpha == 0:
        return 0.0
    W = np.asarray(W)
    l1 = _l1_share(penalty, l1_ratio)
    value = 0.0
    if l1 > 0:
        value += l1 * float(np.abs(W).sum())
    if l1 < 1:
        value += (1 - l1) * 0.5 * float(np.vdot(W, W))
    return float(alpha) * value


def penalty_gradient(W, penalty, alpha, l1_ratio=0.15, loss_grad=None) -> np.ndarray | None:
    """The gradient of alpha * R(W) in W, or None when there is no penalty to apply.

    None (for ``penalty=None`` or ``alpha == 0``) lets the training loop skip the work.
    The result keeps W's dtype. Given the loss's gradient ``loss_grad``, the L1 slope at
    a coefficient that is exactly 0 is the one in [-alpha l1, alpha l1] that best cancels
    it: the coefficient then rests at zero while the loss pulls on it less than the
    penalty holds it, instead of hopping off zero and back every step.

    Example:
        >>> W = np.array([2.0, -3.0, 0.0])
        >>> penalty_gradient(W, "l2", 0.5).tolist(), penalty_gradient(W, "l1", 0.5).tolist()
        ([1.0, -1.5, 0.0], [0.5, -0.5, 0.0])
        >>> penalty_gradient(W, None, 0.1) is None
        True
    """
    check_penalty(penalty, alpha, l1_ratio)
    if penalty is None or alpha == 0:
        return None
    W = np.asarray(W)
    # Python floats are "weak" in NumPy, so float32 coefficients stay float32.
    alpha = float(alpha)
    l1 = _l1_share(penalty, l1_ratio)
    if l1 == 0:
        return alpha * W
    grad = np.sign(W)
    grad *= alpha * l1
    if loss_grad is not None:
        zero = W == 0
        if zero.any():
            grad[zero] = -np.clip(loss_grad[zero], -alpha * l1, alpha * l1)
    if l1 < 1:
        grad += (alpha * (1 - l1)) * W
    return grad


def clip_l1_crossings(W_before, W_after, penalty) -> np.ndarray:
    """Set to zero each coefficient that changed sign during a step, for L1 penalties.

    L1 shrinks every coefficient towards zero by a fixed amount a step; near zero that
    amount overshoots, so a coefficient that was nonzero and now has the opposite sign
    stops at exactly zero instead. From zero, sign(0) = 0 means the penalty no longer
    pushes, and the loss alone can move the coefficient on in a later step. A no-op for
    ``"l2"`` and None. ``W_after`` is changed in place and returned.

    Example:
        >>> before, after = np.array([0.001, 0.5, -0.2]), np.array([-0.009, 0.49, -0.19])
        >>> clip_l1_crossings(before, after, "l1").tolist()
        [0.0, 0.49, -0.19]
    """
    if penalty is not None and penalty not in PENALTIES:
        check_penalty(penalty, 0.0)  # raises, naming the valid penalties
    if penalty in _HAS_L1:
        # A product below zero means both were nonzero and the signs differ.
        crossed = np.multiply(W_before, W_after) < 0
        W_after[crossed] = 0
    return W_after


def engine_penalty(W, penalty, alpha, l1_ratio=0.15) -> Tensor:
    """alpha * R(W) composed from engine ops, a scalar Tensor (to prove the closed forms).

    With no penalty it is 0 * sum(W), so ``backward()`` still works and gives zeros.

    Example:
        >>> W = Tensor([3.0, -4.0])
        >>> engine_penalty(W, "elasticnet", 1.0, 0.5).backward()
        >>> W.grad.tolist()
        [2.0, -2.5]
    """
    check_penalty(penalty, alpha, l1_ratio)
    W = W if isinstance(W, Tensor) else Tensor(W, requires_grad=False)
    if penalty is None or alpha == 0:
        return 0.0 * ad.sum(W)
    l1 = _l1_share(penalty, l1_ratio)
    lasso = ad.sum(ad.abs(W))
    ridge = 0.5 * ad.sum(W * W)
    return float(alpha) * (l1 * lasso + (1 - l1) * ridge)
