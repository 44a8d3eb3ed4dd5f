"""Tiny pytree helpers: map a function over the arrays inside lists, tuples and dicts.

Models hand the optimizers either one array or a small container of arrays
(``[coef, intercept]``, a list of layer weights, a dict of named tensors). These
helpers let every transform write its maths once, for a single array, and have it
applied leaf by leaf. Anything that is not a list, tuple or dict is a leaf: numpy
arrays, numpy scalars and plain Python numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

PyTree = Any


def tree_map(fn: Callable[..., Any], tree: PyTree, *rest: PyTree) -> PyTree:
    """Apply ``fn`` to matching leaves of ``tree`` and ``rest``, keeping the structure.

    Args:
        fn: called as ``fn(leaf, *matching_leaves_of_rest)``.
        tree: an array/number, or a list, tuple or dict nesting them.
        *rest: trees with the same structure as ``tree``.

    Returns:
        A tree with the structure of ``tree`` holding ``fn``'s results.

    Raises:
        ValueError: if a list/tuple in ``rest`` has a different length.
        KeyError: if a dict in ``rest`` lacks one of ``tree``'s keys.

    >>> tree_map(lambda a, b: a + b, [1.0, {"w": 2.0}], [10.0, {"w": 20.0}])
    [11.0, {'w': 22.0}]
    """
    # Fast path first: a lone ndarray is by far the most common case in training loops.
    if isinstance(tree, np.ndarray):
        return fn(tree, *rest)
    if isinstance(tree, dict):
        return {key: tree_map(fn, value, *(r[key] for r in rest)) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        children = [tree_map(fn, *leaves) for leaves in zip(tree, *rest, strict=True)]
        if isinstance(tree, list):
            return children
        if hasattr(tree, "_fields"):  # a NamedTuple: rebuild the same type
            return type(tree)(*children)
        return tuple(children)
    return fn(tree, *rest)


def zeros_like_float(leaf: Any) -> np.ndarray:
    """A zero array shaped like ``leaf``, in its float dtype (float64 for ints and Python numbers).

    Why: optimizer state (velocities, averages) must be floating point even when a
    parameter happens to be an integer array, and must stay float32 for float32 params.

    >>> zeros_like_float(np.ones(2, dtype=np.float32)).dtype
    dtype('float32')
    """
    array = np.asarray(leaf)
    dtype = array.dtype if np.issubdtype(array.dtype, np.inexact) else np.float64
    return np.zeros(array.shape, dtype=dtype)


def full_like_float(leaf: Any, value: float) -> np.ndarray:
    """Like :func:`zeros_like_float` but filled with ``value``.

    >>> full_like_float(np.zeros(2), 0.5)
    array([0.5, 0.5])
    """
    out = zeros_like_float(leaf)
    out.fill(value)
    return out
