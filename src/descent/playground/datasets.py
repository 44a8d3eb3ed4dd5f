"""The model lab's data: small seeded 2-D data sets in one box, and their train/test split.

Every set lies in the square ``[-BOX, BOX]^2`` (BOX = 3). The lab trains on the raw
features (``standardize=False``) so that the weights it draws are the weights the model
uses; in this box the features are well scaled for the default rate: x1 and x2 have a
spread of about 1.7, x1^2 and x1*x2 stay below 9, and sin(x1) sweeps about one period.

Each set is reproducible: the same name, size, noise and seed give the same points,
drawn from ``numpy.random.default_rng(seed)``; ``split`` shuffles with its own stream of
the same seed.

Example:
    >>> X, y = make_dataset("xor", n_points=8, seed=1)
    >>> X.shape, sorted(set(y.tolist()))
    ((8, 2), [0, 1])
    >>> bool((abs(X) <= BOX).all())
    True
"""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .formulas import parse_formula

BOX = 3.0
"""The data's square is [-BOX, BOX] on both axes; the heatmap covers the same square."""

#: name -> (label, task) for the built-in sets, in the order the page lists them.
DATASETS = {
    "circle": ("Circle", "classification"),
    "xor": ("Exclusive or", "classification"),
    "gaussians": ("Two Gaussians", "classification"),
    "spiral": ("Spiral", "classification"),
    "linear": ("Linearly separable", "classification"),
    "plane": ("Plane (regression)", "regression"),
    "curve": ("Above / below a curve", "classification"),
}

DEFAULT_CURVE = "sin(3*x)"
MAX_CURVE_LENGTH = 200


class DatasetError(InputError):
    """A data set cannot be made from these settings (422); ``field`` is the setting at
    fault."""


def make_dataset(name: str, n_points: int = 200, noise: float = 0.1, seed: int = 0,
                 curve: str = DEFAULT_CURVE) -> tuple[np.ndarray, np.ndarray]:
    """``n_points`` points of the set ``name``: X (n, 2) in the box and y.

    Classification sets have labels 0 and 1 (about half of each); ``plane`` has a
    numeric target. ``noise`` (0 to 1) moves each classification point by a normal step of
    that standard deviation (clipped to the box), or adds half that much to the plane's
    target. ``curve`` is ``f`` for the set ``curve``: points above ``y = f(x)`` are 1.

    Raises:
        DatasetError: an unknown name, or a curve that is not a function of x or leaves
            every point on one side.

    Example:
        >>> X, y = make_dataset("plane", n_points=5, noise=0.0, seed=0)
        >>> bool(np.allclose(y, (X[:, 0] + 2 * X[:, 1]) / 9))
        True
        >>> a, _ = make_dataset("circle", n_points=5, seed=3)
        >>> b, _ = make_dataset("circle", n_points=5, seed=3)
        >>> bool((a == b).all())
        True
    """
    if name not in DATASETS or name == "upload":
        raise DatasetError("dataset", f"unknown data set {name!r}; choose one of "
                           f"{', '.join(DATASETS)}")
    rng = np.random.default_rng(seed)
    if name == "plane":
        X = rng.uniform(-BOX, BOX, size=(n_points, 2))
        y = (X[:, 0] + 2 * X[:, 1]) / (3 * BOX) + rng.normal(0, noise / 2, size=n_points)
        return X, y
    if name == "curve":
        X, y = _curve(rng, n_points, curve)
    else:
        X, y = _MAKERS[name](rng, n_points)
    if noise > 0:
        X = np.clip(X + rng.normal(0, noise, size=X.shape), -BOX, BOX)
    return X, y


def split(X: np.ndarray, y: np.ndarray, train_ratio: float = 0.5, seed: int = 0):
    """(X_train, X_test, y_train, y_test): a seeded shuffle cut at ``train_ratio``.

    Both parts keep at least one point.

    Example:
        >>> X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
        >>> parts = split(X, y, train_ratio=0.7, seed=0)
        >>> [len(p) for p in parts]
        [7, 3, 7, 3]
    """
    n = len(X)
    order = np.random.default_rng([seed, 1]).permutation(n)
    cut = min(max(int(round(train_ratio * n)), 1), n - 1)
    train, test = order[:cut], order[cut:]
    return X[train], X[test], y[train], y[test]


# ----- the shapes --------------------------------------------------------------------------
def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _on_rings(rng, n: int, low: float, high: float) -> np.ndarray:
    radius = rng.uniform(low, high, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _circle(rng, n):
    inner, outer = _halves(n)
    X = np.vstack([_on_rings(rng, inner, 0, 0.45 * BOX), _on_rings(rng, outer, 0.65 * BOX,
                                                                    0.95 * BOX)])
    return X, np.repeat([1, 0], [inner, outer])


def _xor(rng, n):
    X = rng.uniform(-0.95 * BOX, 0.95 * BOX, size=(n, 2))
    X += np.where(X > 0, 0.1, -0.1) * BOX / 3  # a gap along the axes, as in the classic set
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.int64)


def _gaussians(rng, n):
    first, second = _halves(n)
    centre = 0.4 * BOX
    X = np.vstack([rng.normal(-centre, 0.2 * BOX, size=(first, 2)),
                   rng.normal(centre, 0.2 * BOX, size=(second, 2))])
    return np.clip(X, -BOX, BOX), np.repeat([0, 1], [first, second])


def _spiral(rng, n):
    first, second = _halves(n)
    parts = []
    for arm, count in enumerate((first, second)):
        u = rng.uniform(0, 1, size=count)
        radius, angle = 0.93 * BOX * u, 1.75 * 2 * np.pi * u + arm * np.pi
        parts.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
    return np.vstack(parts), np.repeat([0, 1], [first, second])


def _linear(rng, n):
    angle = rng.uniform(0, 2 * np.pi)
    normal, offset = np.array([np.cos(angle), np.sin(angle)]), rng.uniform(-0.2, 0.2) * BOX
    kept = np.empty((0, 2))
    while len(kept) < n:  # keep a margin around the line: separable until noise blurs it
        X = rng.uniform(-BOX, BOX, size=(2 * n, 2))
        kept = np.vstack([kept, X[np.abs(X @ normal + offset) > 0.1 * BOX]])
    X = kept[:n]
    return X, (X @ normal + offset > 0).astype(np.int64)


def _curve(rng, n, text):
    if not isinstance(text, str) or not text.strip():
        raise DatasetError("curve", "the curve is empty; type y = f(x), e.g. sin(3*x)")
    expression = parse_formula(text, "curve", MAX_CURVE_LENGTH, DatasetError)
    if set(expression.variables) - {"x"}:
        others = ", ".join(v for v in expression.variables if v != "x")
        raise DatasetError("curve", f"the curve is y = f(x) and may use only x, not {others}")
    X = rng.uniform(-BOX, BOX, size=(n, 2))
    with np.errstate(all="ignore"):
        values = {"x": X[:, 0]} if expression.variables else {}
        f = np.broadcast_to(expression.evaluate(values).numpy(), (n,))
    y = (X[:, 1] > f).astype(np.int64)  # where f is not finite, the point counts as below
    if n >= 2 and len(np.unique(y)) < 2:
        raise DatasetError("curve", f"every point lies {'above' if y[0] else 'below'} "
                           f"y = {text.strip()[:60]} in the box [-{BOX:g}, {BOX:g}]; choose "
                           "a curve that crosses it")
    return X, y


_MAKERS = {"circle": _circle, "xor": _xor, "gaussians": _gaussians, "spiral": _spiral,
           "linear": _linear}
