"""When a descent has blown up, and what to tell the user: one rule for every loop."""

from __future__ import annotations

import math


class DivergenceError(ArithmeticError):
    """Training stopped because the loss became non-finite or exploded (``has_diverged``).

    The estimator keeps the last finite parameters; the message names the learning
    rate and suggests a smaller one (``smaller_rate``).

    Example:
        >>> import numpy as np, descent
        >>> X = np.array([[1.0], [2.0], [3.0]]); y = np.array([1.0, 2.0, 3.0])
        >>> try:
        ...     descent.LinearRegression(optimizer="gd", learning_rate=10.0, batch_size=None,
        ...                              standardize=False).fit(X, y)
        ... except descent.DivergenceError as err:
        ...     print(str(err).split(":")[0])
        training diverged at epoch 4
    """


# A loss this many times larger than where the run started (plus one) counts as exploded.
EXPLOSION_FACTOR = 1e10


def has_diverged(value: float, start: float) -> bool:
    """True when ``value`` is not finite or has grown far beyond the starting loss.

    Example:
        >>> has_diverged(float("nan"), 1.0), has_diverged(5.0, 1.0), has_diverged(1e12, 1.0)
        (True, False, True)
    """
    return not math.isfinite(value) or value - start > EXPLOSION_FACTOR * (1 + abs(start))


def smaller_rate(learning_rate) -> str:
    """The advice that ends every divergence message: a rate ten times smaller.

    Example:
        >>> smaller_rate(1.5)
        'learning_rate=0.15'
    """
    if isinstance(learning_rate, int | float):
        return f"learning_rate={learning_rate / 10:g}"
    return "a smaller learning rate"


# A finished run whose last loss has given back more than this share of the fall from its
# first loss to its best one has bounced (next to has_diverged: the other way a learning
# rate shows it is too large). Healthy runs keep well under it: the noise of mini-batches
# near a minimum is a few percent of the fall.
BOUNCE_SHARE = 0.5


def bounced(losses) -> str | None:
    """Why the per-epoch ``losses`` of a finished run look bounced, or None when they do not.

    A run bounced when its final loss is no better than its first (it never got anywhere,
    or climbed back), or when it fell and then climbed back more than half the way: with
    a learning rate too large, steps overshoot the minimum and the loss goes up and down
    instead of settling. One epoch, a loss that never moved, or a non-finite loss
    (``has_diverged``'s case) is not judged.

    Example:
        >>> bounced([1.0, 0.5, 0.3, 0.31]) is None
        True
        >>> bounced([1.0, 0.2, 0.9])
        'its loss fell from 1 to 0.2, then climbed back to 0.9'
        >>> bounced([1.0, 3.0, 2.0])
        'its final loss 2 is no better than its first, 1'
    """
    losses = [float(value) for value in losses]
    if len(losses) < 2 or not all(math.isfinite(value) for value in losses):
        return None
    first, best, last = losses[0], min(losses), losses[-1]
    if last >= first and last > best:  # (a loss that never moved is not judged)
        return f"its final loss {last:.4g} is no better than its first, {first:.4g}"
    if last - best > BOUNCE_SHARE * (first - best):
        return f"its loss fell from {first:.4g} to {best:.4g}, then climbed back to {last:.4g}"
    return None
