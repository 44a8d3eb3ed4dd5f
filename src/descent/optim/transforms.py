"""Building blocks: small gradient transformations that named optimizers chain together.

Each block rescales the incoming updates in one way (a constant factor, a running
average, a per-coordinate normaliser) and keeps whatever it needs in a NamedTuple
state. Only ``scale_by_learning_rate`` adds the minus sign that turns a direction into
a descent step.

All maths is written for one array and applied leaf by leaf with ``tree_map`` (which
goes straight to the maths for a lone ndarray). Hyperparameters are plain Python
floats so that float32 arrays stay float32.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from descent import checks as _validate
from descent.optim._tree import PyTree, full_like_float, tree_map, zeros_like_float
from descent.optim.base import EmptyState, GradientTransformation
from descent.optim.schedules import Schedule

# --- constant factors -------------------------------------------------------------------


def scale(factor: float) -> GradientTransformation:
    """Multiply updates by a constant ``factor``.

    Args:
        factor: any finite number (negative flips the direction).

    Returns:
        A GradientTransformation with an empty state.

    >>> opt = scale(2.0)
    >>> opt.update(np.array([1.0, -3.0]), opt.init(None))[0]
    array([ 2., -6.])
    """
    factor = _validate.finite("factor", factor)

    def init(params: PyTree) -> EmptyState:
        return EmptyState()

    def update(grads: PyTree, state: EmptyState, params: PyTree = None):
        return tree_map(lambda g: g * factor, grads), state

    return GradientTransformation(init, update)


class ScaleByLearningRateState(NamedTuple):
    """State of :func:`scale_by_learning_rate`.

    Attributes:
        count: number of updates taken so far (the schedule's ``step`` argument).
    """

    count: int


def scale_by_learning_rate(learning_rate: float | Schedule) -> GradientTransformation:
    """Multiply updates by ``-learning_rate``, turning a direction into a descent step.

    Args:
        learning_rate: a positive finite number, or a schedule ``step -> float`` called
            with the number of updates taken so far (0 on the first call).

    Returns:
        A GradientTransformation whose state counts the steps taken.

    Raises:
        ValueError: if a numeric learning rate is not a positive finite number.

    >>> opt = scale_by_learning_rate(0.1)
    >>> updates, state = opt.update(np.array([1.0, 2.0]), opt.init(None))
    >>> updates, state.count
    (array([-0.1, -0.2]), 1)
    """
    if callable(learning_rate):
        schedule, negative_lr = learning_rate, 0.0
    else:
        # Validate a fixed rate once, here; precompute -lr so the hot path is one multiply.
        schedule, negative_lr = None, -_validate.positive_finite("learning_rate", learning_rate)

    def init(params: PyTree) -> ScaleByLearningRateState:
        return ScaleByLearningRateState(count=0)

    def update(grads: PyTree, state: ScaleByLearningRateState, params: PyTree = None):
        # float(): a schedule returning np.float64 must not upcast float32 updates.
        factor = negative_lr if schedule is None else -float(schedule(state.count))
        updates = tree_map(lambda g: g * factor, grads)
        return updates, ScaleByLearningRateState(count=state.count + 1)

    return GradientTransformation(init, update)


# --- momentum ---------------------------------------------------------------------------


class TraceState(NamedTuple):
    """State of :func:`trace`.

    Attributes:
        velocity: running sum ``v <- decay * v + g``, shaped like the params.
    """

    velocity: PyTree


def trace(decay: float = 0.9, nesterov: bool = False) -> GradientTransformation:
    """Heavy-ball momentum: accumulate ``v <- decay * v + g`` and pass ``v`` on.

    With ``nesterov=True`` the output is ``g + decay * v`` instead: the gradient plus a
    look-ahead along the new velocity (the usual rewrite of Nesterov's method that needs
    gradients at the current point only).

    Args:
        decay: momentum coefficient in [0, 1); 0 gives plain gradients.
        nesterov: use Nesterov's look-ahead form.

    Returns:
        A GradientTransformation with :class:`TraceState`.

    >>> opt = trace(decay=0.5)
    >>> state = opt.init(np.zeros(1))
    >>> updates, state = opt.update(np.array([1.0]), state)
    >>> opt.update(np.array([1.0]), state)[0]
    array([1.5])
    """
    decay = _validate.in_unit_interval("decay", decay)
    nesterov = bool(nesterov)

    def init(params: PyTree) -> TraceState:
        return TraceState(velocity=tree_map(zeros_like_float, params))

    def update(grads: PyTree, state: TraceState, params: PyTree = None):
        velocity = tree_map(lambda g, v: decay * v + g, grads, state.velocity)
        if nesterov:
            updates = tree_map(lambda g, v: g + decay * v, grads, velocity)
        else:
            # Shares memory with the new state; fine because no stage modifies its
            # inputs in place (and named optimizers end with a scaling that copies).
            updates = velocity
        return updates, TraceState(velocity=velocity)

    return GradientTransformation(init, update)


# --- per-coordinate step sizes ----------------------------------------------------------


class AdagradState(NamedTuple):
    """State of :func:`scale_by_adagrad`.

    Attributes:
        grad_sq_sum: running sum of squared gradients (plus the initial accumulator).
    """

    grad_sq_sum: PyTree


def scale_by_adagrad(
    eps: float = 1e-10, initial_accumulator: float = 0.1
) -> GradientTransformation:
    """AdaGrad: divide each coordinate by the root of its summed squared gradients.

    ``s <- s + g**2``, output ``g / (sqrt(s) + eps)``. Coordinates that have seen large
    gradients take ever smaller steps.

    Args:
        eps: added to the denominator to avoid division by zero.
        initial_accumulator: starting value of ``s``; a positive value keeps the first
            steps from being full-size sign steps.

    Returns:
        A GradientTransformation with :class:`AdagradState`.

    >>> opt = scale_by_adagrad(eps=0.0, initial_accumulator=0.0)
    >>> opt.update(np.array([3.0, -4.0]), opt.init(np.zeros(2)))[0]
    array([ 1., -1.])
    """
    eps = _validate.non_negative_finite("eps", eps)
    initial_accumulator = _validate.non_negative_finite("initial_accumulator", initial_accumulator)

    def init(params: PyTree) -> AdagradState:
        return AdagradState(
            grad_sq_sum=tree_map(lambda p: full_like_float(p, initial_accumulator), params)
        )

    def update(grads: PyTree, state: AdagradState, params: PyTree = None):
        grad_sq_sum = tree_map(lambda g, s: s + g * g, grads, state.grad_sq_sum)
        updates = tree_map(lambda g, s: g / (np.sqrt(s) + eps), grads, grad_sq_sum)
        return updates, AdagradState(grad_sq_sum=grad_sq_sum)

    return GradientTransformation(init, update)


class RmsState(NamedTuple):
    """State of :func:`scale_by_rms`.

    Attributes:
        grad_sq_avg: exponential moving average of squared gradients.
    """

    grad_sq_avg: PyTree


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp: divide by the root of a moving average of squared gradients.

    ``a <- decay * a + (1 - decay) * g**2``, output ``g / (sqrt(a) + eps)``. Unlike
    AdaGrad the average forgets old gradients, so steps do not shrink for ever.

    Args:
        decay: forgetting factor in [0, 1).
        eps: added to the denominator to avoid division by zero.

    Returns:
        A GradientTransformation with :class:`RmsState`.

    >>> opt = scale_by_rms(decay=0.75, eps=0.0)
    >>> opt.update(np.array([2.0]), opt.init(np.zeros(1)))[0]  # 2 / sqrt(0.25 * 4)
    array([2.])
    """
    decay = _validate.in_unit_interval("decay", decay)
    eps = _validate.non_negative_finite("eps", eps)
    keep_new = 1.0 - decay

    def init(params: PyTree) -> RmsState:
        return RmsState(grad_sq_avg=tree_map(zeros_like_float, params))

    def update(grads: PyTree, state: RmsState, params: PyTree = None):
        grad_sq_avg = tree_map(
            lambda g, a: decay * a + keep_new * (g * g), grads, state.grad_sq_avg
        )
        updates = tree_map(lambda g, a: g / (np.sqrt(a) + eps), grads, grad_sq_avg)
        return updates, RmsState(grad_sq_avg=grad_sq_avg)

    return GradientTransformation(init, update)


class AdamState(NamedTuple):
    """State of :func:`scale_by_adam`.

    Attributes:
        count: number of updates taken so far (for bias correction).
        grad_avg: moving average of gradients (first moment).
        grad_sq_avg: moving average of squared gradients (second moment).
    """

    count: int
    grad_avg: PyTree
    grad_sq_avg: PyTree


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam: momentum on the gradient, divided by the root of a moving average of its square.

    ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g**2`` and, after bias correction
    ``m_hat = m / (1 - b1**t)``, ``v_hat = v / (1 - b2**t)``, the output is
    ``m_hat / (sqrt(v_hat) + eps)``. The correction undoes the pull towards the zero
    initial averages during the first steps.

    Args:
        b1: decay of the first moment, in [0, 1).
        b2: decay of the second moment, in [0, 1).
        eps: added to the denominator to avoid division by zero.

    Returns:
        A GradientTransformation with :class:`AdamState`.

    >>> opt = scale_by_adam(eps=0.0)
    >>> opt.update(np.array([0.5, -2.0]), opt.init(np.zeros(2)))[0]  # first step: sign(g)
    array([ 1., -1.])
    """
    b1 = _validate.in_unit_interval("b1", b1)
    b2 = _validate.in_unit_interval("b2", b2)
    eps = _validate.non_negative_finite("eps", eps)
    keep_new1, keep_new2 = 1.0 - b1, 1.0 - b2

    def init(params: PyTree) -> AdamState:
        return AdamState(
            count=0,
            grad_avg=tree_map(zeros_like_float, params),
            grad_sq_avg=tree_map(zeros_like_float, params),
        )

    def update(grads: PyTree, state: AdamState, params: PyTree = None):
        count = state.count + 1
        # Python floats (not numpy scalars), so float32 stays float32.
        correction1 = 1.0 / (1.0 - b1**count)
        root_correction2 = (1.0 / (1.0 - b2**count)) ** 0.5
        grad_avg = tree_map(lambda g, m: b1 * m + keep_new1 * g, grads, state.grad_avg)
        grad_sq_avg = tree_map(lambda g, v: b2 * v + keep_new2 * (g * g), grads, state.grad_sq_avg)
        updates = tree_map(
            lambda m, v: (m * correction1) / (np.sqrt(v) * root_correction2 + eps),
            grad_avg,
            grad_sq_avg,
        )
        return updates, AdamState(count=count, grad_avg=grad_avg, grad_sq_avg=grad_sq_avg)

    return GradientTransformation(init, update)
