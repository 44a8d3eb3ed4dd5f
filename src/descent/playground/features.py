"""The model lab's input features: the columns a model sees, computed from (x1, x2).

The page offers these seven, as TensorFlow Playground does; the model's input layer has
one node per chosen feature, in the order of ``FEATURES``.

Example:
    >>> import numpy as np
    >>> transform(np.array([[1.0, 2.0]]), canonical(["x1*x2", "x1"])).tolist()
    [[1.0, 2.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: name -> the column it computes from X (n, 2), in the order the model sees them.
FEATURES = {
    "x1": lambda X: X[:, 0],
    "x2": lambda X: X[:, 1],
    "x1^2": lambda X: X[:, 0] ** 2,
    "x2^2": lambda X: X[:, 1] ** 2,
    "x1*x2": lambda X: X[:, 0] * X[:, 1],
    "sin(x1)": lambda X: np.sin(X[:, 0]),
    "sin(x2)": lambda X: np.sin(X[:, 1]),
}

#: How each feature is written in NumPy, for the exported Python script.
NUMPY_SPELLING = {
    "x1": "X[:, 0]", "x2": "X[:, 1]", "x1^2": "X[:, 0] ** 2", "x2^2": "X[:, 1] ** 2",
    "x1*x2": "X[:, 0] * X[:, 1]", "sin(x1)": "np.sin(X[:, 0])", "sin(x2)": "np.sin(X[:, 1])",
}


def canonical(names: Sequence[str]) -> tuple[str, ...]:
    """The chosen features in the model's order, each once; ValueError for an unknown one.

    Example:
        >>> canonical(["sin(x1)", "x1", "x1"])
        ('x1', 'sin(x1)')
    """
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"unknown feature {unknown[0][:40]!r}; choose from "
                         f"{', '.join(FEATURES)}")
    if not names:
        raise ValueError("choose at least one feature, e.g. x1 and x2")
    return tuple(name for name in FEATURES if name in names)


def transform(X: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """The matrix of the named features of the points X (n, 2), one column each.

    Example:
        >>> transform(np.array([[3.0, -1.0]]), ["x1^2", "x2"]).tolist()
        [[9.0, -1.0]]
    """
    return np.column_stack([FEATURES[name](X) for name in names]).astype(np.float64)
