"""The learning-rate finder: a short fit at each rate on a log grid, and a suggestion.

Too small a rate barely lowers the loss in a few epochs; too large a rate overshoots or
diverges. Between them lies a band of rates that all reach nearly the best loss; the
finder suggests the smallest rate in that band, the safe end of what works.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from ..divergence import DivergenceError
from ._validation import FitInterruptedWarning

#: A rate counts as "as good as the best" within this share of the spread of final losses.
GOOD_ENOUGH = 0.05


@dataclass
class LRFindResult:
    """What ``lr_find`` measured.

    Attributes:
        rates: the learning rates tried, increasing.
        losses: the training loss after ``epochs`` epochs at each rate (inf where it diverged).
        diverged: True where training blew up.
        suggested: the suggested learning rate.
        epochs: how many epochs each rate was trained for.
    """

    rates: np.ndarray
    losses: np.ndarray
    diverged: np.ndarray
    suggested: float
    epochs: int


def lr_find(estimator, X, y, *, rates=None, epochs: int = 5) -> LRFindResult:
    """Train a copy of ``estimator`` briefly at each learning rate and suggest one.

    Every copy starts from the same parameters (the estimator's ``random_state``) and runs
    ``epochs`` epochs with early stopping off. The suggestion is the smallest rate whose
    final loss is within 5% of the spread of final losses from the best one.

    Args:
        estimator: an unfitted descent estimator (its other settings are kept).
        X, y: training data.
        rates: learning rates to try; default 25 rates from 1e-5 to 10 on a log grid.
        epochs: epochs per rate.

    Returns:
        LRFindResult

    Example:
        >>> import numpy as np
        >>> from descent import LinearRegression
        >>> X = np.linspace(0, 1, 50)[:, None]; y = 3 * X[:, 0] + 1
        >>> found = lr_find(LinearRegression(optimizer="gd", random_state=0), X, y,
        ...                 rates=[1e-4, 1e-2, 0.3, 100.0], epochs=3)
        >>> found.diverged.tolist(), bool(found.suggested == 0.3)
        ([False, False, False, True], True)
    """
    rates = np.logspace(-5, 1, 25) if rates is None else np.asarray(rates, dtype=np.float64)
    if rates.ndim != 1 or rates.size == 0 or not np.all(np.isfinite(rates) & (rates > 0)):
        raise ValueError("rates must be a non-empty list of positive, finite learning rates")
    rates = np.sort(rates)
    losses = np.full(rates.size, np.inf)
    for i, rate in enumerate(rates):
        model = clone(estimator).set_params(
            learning_rate=float(rate), epochs=epochs, tol=None, early_stopping=False,
            callbacks=None,
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                warnings.simplefilter("ignore", ConvergenceWarning)  # bouncing: on purpose
                warnings.simplefilter("ignore", FitInterruptedWarning)  # raised below
                model.fit(X, y)
        except DivergenceError:
            continue
        if model.history_.stopped == "interrupted":  # Ctrl-C ends the search, not one rate
            raise KeyboardInterrupt
        last = model.history_.loss[-1] if model.history_.loss else np.inf
        losses[i] = last if np.isfinite(last) else np.inf
    diverged = ~np.isfinite(losses)
    if diverged.all():
        raise DivergenceError(
            f"training diverged at every learning rate from {rates[0]:g} to {rates[-1]:g}; "
            "check the data for extreme values or try smaller rates"
        )
    finite = losses[~diverged]
    best, worst = finite.min(), finite.max()
    good = ~diverged & (losses <= best + GOOD_ENOUGH * (worst - best))
    suggested = float(rates[np.argmax(good)])
    return LRFindResult(rates=rates, losses=losses, diverged=diverged, suggested=suggested,
                        epochs=epochs)
