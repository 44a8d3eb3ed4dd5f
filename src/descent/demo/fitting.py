"""How the examples train their linear models and read the weights back."""

from __future__ import annotations

import numpy as np

# The seeds' tricks: plain gradient steps on one point at a time, in the data's own units,
# for every epoch asked (no early stop). Each example adds its rate, epochs and order.
ONE_POINT_STEPS = dict(optimizer="gd", batch_size=1, standardize=False, tol=None)


def _weights(model) -> tuple[np.ndarray, float]:
    """A fitted linear model's weights, as one flat array, and its intercept."""
    return np.ravel(model.coef_), float(np.ravel(model.intercept_)[0])


def _weights_at(model, step: int) -> tuple[np.ndarray, float]:
    """The weights and intercept after ``step`` steps, from a model fitted with record_path."""
    coef, intercept = model.history_.path[step]
    return np.ravel(coef), float(np.ravel(intercept)[0])
