"""A model session as JSON: losses, the heatmap over the box, the network's weights.

Numbers are rounded to about four significant digits (relative to the largest value of
each array), which is all the page can draw and keeps a snapshot near 15 KB; a value
that is not finite (a diverged model) is ``null``.

Example:
    >>> rounded(np.array([0.123456, 1.5, np.inf]))
    [0.123, 1.5, None]
"""

from __future__ import annotations

import json
import math

import numpy as np
import sklearn

from .. import numerics
from ..losses import get_loss
from .model_setup import loss_name


def finite_or_none(values) -> list:
    """``values`` (any shape) as nested lists of floats, None where a value is not finite
    (JSON has no NaN or infinity).

    Example:
        >>> finite_or_none([[1.5, np.nan], [-np.inf, 2]])
        [[1.5, None], [None, 2.0]]
    """
    a = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(a)
    if finite.all():
        return a.tolist()
    shown = a.astype(object)
    shown[~finite] = None
    return shown.tolist()


def checked_finite():
    """A context that skips scikit-learn's NaN and infinity checks (its settings are
    thread-local): a session's matrices are checked once, when it is made."""
    return sklearn.config_context(assume_finite=True)


def rounded(values, digits: int = 4):
    """``values`` (any shape) as nested lists, rounded to ``digits`` significant digits of
    the largest finite magnitude, with None for a value that is not finite."""
    a = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(a)
    top = float(np.abs(a[finite]).max()) if finite.any() else 0.0
    decimals = digits if top == 0 else digits - 1 - math.floor(math.log10(top))
    if decimals > 0:  # (rounding to tens or more would print 1.2889999999999998e+34)
        a = np.round(a, min(decimals, 300)) + 0.0  # + 0.0 turns -0.0 into 0.0
    return finite_or_none(a)


# Every probability the heatmap sends, 0 to 1 in steps of 0.001, as JSON text: a grid is
# rendered by looking its values up here, ten times faster than json.dumps float by float.
_THOUSANDTHS = np.array([repr(round(k / 1000, 3)) for k in range(1001)], dtype=object)
_MARK = "\x00heatmap\x00"


class Rendered(list):
    """A nested list of numbers that carries its own JSON text in ``json``."""

    __slots__ = ("json",)


def thousandths(values: np.ndarray) -> Rendered:
    """Rows of values in [0, 1] rounded to 3 decimals, with their JSON text rendered.

    Example:
        >>> grid = thousandths(np.array([[0.12345, 1.0], [0.0, 0.5]]))
        >>> grid, grid.json
        ([[0.123, 1.0], [0.0, 0.5]], '[[0.123,1.0],[0.0,0.5]]')
    """
    codes = np.rint(values * 1000).astype(np.intp)
    shown = Rendered((codes / 1000).tolist())
    shown.json = "[[" + "],[".join([",".join(row) for row in _THOUSANDTHS[codes].tolist()]) + "]]"
    return shown


def dumps(body: dict) -> str:
    """``body`` as compact JSON, a snapshot's heatmap (``grid.values``, at the top or under
    ``snapshot``) put in as rendered; no NaN or infinity is written.

    Example:
        >>> body = {"grid": {"values": thousandths(np.array([[0.25]]))}, "epoch": 3}
        >>> dumps(body)
        '{"grid":{"values":[[0.25]]},"epoch":3}'
    """
    grid = (body.get("snapshot") or body).get("grid")
    values = grid.get("values") if isinstance(grid, dict) else None
    if not isinstance(values, Rendered):
        return json.dumps(body, separators=(",", ":"), allow_nan=False)
    grid["values"] = _MARK
    try:
        text = json.dumps(body, separators=(",", ":"), allow_nan=False)
    finally:
        grid["values"] = values
    mark = json.dumps(_MARK)
    if text.count(mark) != 1:  # the mark inside the user's own text (a column name): play safe
        return json.dumps(body, separators=(",", ":"), allow_nan=False)
    return text.replace(mark, values.json)


def number(value: float, digits: int = 6) -> float | None:
    """One float to ``digits`` significant digits, or None when it is not finite.

    Example:
        >>> number(2 / 3), number(float("nan"))
        (0.666667, None)
    """
    value = float(value)
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def scores(model, Z: np.ndarray) -> np.ndarray:
    """The model's scores (n,): the decision function, or a regressor's prediction."""
    with np.errstate(all="ignore"):
        if hasattr(model, "decision_function"):
            return np.asarray(model.decision_function(Z), dtype=np.float64)
        return np.asarray(model.predict(Z), dtype=np.float64)


def encoded(y: np.ndarray, classes: list) -> np.ndarray:
    """Targets as the loss table wants them: 0/1 for the second class, or the numbers."""
    if classes:
        return (np.asarray(y) == classes[1]).astype(np.float64)
    return np.asarray(y, dtype=np.float64)


def mean_loss(session, S: np.ndarray, y) -> float:
    """The mean of the estimator's own point loss (descent.losses) for scores S and y."""
    loss = get_loss(loss_name(session.settings["model"], session.data.task))
    with np.errstate(all="ignore"):
        values = loss.point_values(S[:, None], encoded(y, session.data.classes)[:, None])
        return float(np.mean(values))


GRID_KINDS = {"logistic": "probability", "mlp": "probability", "perceptron": "sigmoid_score",
              "svm": "sigmoid_score"}


def grid(session, S: np.ndarray) -> dict:
    """The heatmap from the grid's scores S: P(second class), sigmoid(score) for the
    perceptron and the SVM (0.5 on their boundary: they give no probability), or a
    regressor's prediction."""
    kind = GRID_KINDS.get(session.settings["model"], "probability")
    if session.data.task == "regression":
        kind, values = "prediction", S
    else:
        with np.errstate(all="ignore"):
            values = numerics.sigmoid(S)
    n = len(session.grid_axis)
    low, high = session.data.box
    values = values.reshape(n, n)
    if kind != "prediction" and np.isfinite(values).all():
        shown = thousandths(values)
    else:
        shown = rounded(values, 3 if kind != "prediction" else 4)
    return {"x": [low, high], "y": [low, high], "size": n, "kind": kind, "values": shown}


def network(session, model) -> dict:
    """Layer sizes with the input features' names, and every weight and bias."""
    if hasattr(model, "coefs_"):
        weights, biases = model.coefs_, model.intercepts_
    else:
        coef = np.asarray(model.coef_, dtype=np.float64).reshape(1, -1)
        weights, biases = [coef.T], [np.atleast_1d(model.intercept_)]
    return {"layers": [*session.features, *[w.shape[1] for w in weights]],
            "weights": [rounded(w) for w in weights], "biases": [rounded(b) for b in biases]}


def losses(session, model, S: np.ndarray | None = None) -> tuple[float, float]:
    """(train loss, test loss) of ``model``; S, when given, holds its scores of the train
    and then the test rows."""
    n_train, n_test = len(session.Z_train), len(session.Z_test)
    if S is None:
        S = scores(model, session.Z_all[:n_train + n_test])
    data = session.data
    return (mean_loss(session, S[:n_train], data.y_train),
            mean_loss(session, S[n_train:n_train + n_test], data.y_test))


def snapshot(session) -> dict:
    """The Snapshot of docs/playground.md, with ``status``, ``message`` and ``losses``
    (``[epoch, train_loss, test_loss]`` for every epoch the last call trained, or the
    current epoch alone) besides."""
    model = session.model()
    with checked_finite():
        S = scores(model, session.Z_all)  # train, test and grid rows in one call
    n = len(session.Z_train) + len(session.Z_test)
    train_loss, test_loss = (number(v) for v in losses(session, model, S[:n]))
    return {
        "epoch": session.epoch,
        "train_loss": train_loss,
        "test_loss": test_loss,
        "losses": [[e, number(a), number(b)] for e, a, b in session.recent]
        + [[session.epoch, train_loss, test_loss]],
        "grid": grid(session, S[n:]),
        "network": network(session, model),
        "status": session.status,
        "message": session.message,
    }
