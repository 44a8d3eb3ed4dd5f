"""The optimizer contract: a pair of pure functions, plus ``chain`` and ``apply_updates``.

An optimizer is data, not an object with hidden state::

    state = opt.init(params)
    updates, state = opt.update(grads, state, params)
    params = apply_updates(params, updates)

Because ``update`` is pure and the state is plain numpy data, a training run can be
recorded, plotted, or replayed from any step. Updates are *added* to the params, so
descent steps carry their own minus sign (plain gradient descent gives ``-lr * grad``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from descent.optim._tree import PyTree, tree_map

OptState = Any
InitFn = Callable[[PyTree], OptState]
UpdateFn = Callable[..., tuple[PyTree, OptState]]


class GradientTransformation(NamedTuple):
    """An optimizer (or one stage of one) as an ``(init, update)`` pair of pure functions.

    Attributes:
        init: ``init(params) -> state``.
        update: ``update(grads, state, params=None) -> (updates, new_state)``; never
            modifies ``grads`` or ``state`` in place.
    """

    init: InitFn
    update: UpdateFn


class EmptyState(NamedTuple):
    """State of a transform that remembers nothing between steps."""


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Compose transforms: each one's updates are the next one's input.

    Args:
        *transforms: applied left to right.

    Returns:
        A GradientTransformation whose state is a tuple holding each transform's state.

    >>> from descent.optim.transforms import scale, scale_by_learning_rate
    >>> opt = chain(scale(2.0), scale_by_learning_rate(0.1))
    >>> updates, _ = opt.update(np.array([1.0]), opt.init(np.array([0.0])))
    >>> updates
    array([-0.2])
    """
    transforms = tuple(transforms)
    for position, transform in enumerate(transforms):
        if not isinstance(transform, GradientTransformation):
            raise TypeError(
                f"chain() expects GradientTransformation arguments, "
                f"got {transform!r} at position {position}"
            )
    inits = tuple(t.init for t in transforms)
    updates_fns = tuple(t.update for t in transforms)

    def init(params: PyTree) -> tuple:
        return tuple(init_fn(params) for init_fn in inits)

    def update(grads: PyTree, state: tuple, params: PyTree = None) -> tuple[PyTree, tuple]:
        if len(state) != len(updates_fns):
            raise ValueError(
                f"chain of {len(updates_fns)} transforms got a state of length {len(state)}"
            )
        updates = grads
        new_state = []
        for update_fn, stage_state in zip(updates_fns, state, strict=True):
            updates, stage_state = update_fn(updates, stage_state, params)
            new_state.append(stage_state)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def _add_keeping_dtype(param: Any, update: Any) -> Any:
    new = param + update
    # Why: a float64 update must not silently turn float32 params into float64.
    if (
        isinstance(param, np.ndarray)
        and new.dtype != param.dtype
        and np.issubdtype(param.dtype, np.inexact)
    ):
        new = new.astype(param.dtype)
    return new


def apply_updates(params: PyTree, updates: PyTree) -> PyTree:
    """Return ``params + updates``, leaf by leaf, as new arrays in the params' dtype.

    Args:
        params: an array, number, or list/tuple/dict of them.
        updates: the same structure, as returned by ``update``.

    Returns:
        The new params; the inputs are not modified.

    >>> apply_updates([np.array([1.0]), 2.0], [np.array([-0.5]), 0.25])
    [array([0.5]), 2.25]
    """
    return tree_map(_add_keeping_dtype, params, updates)
