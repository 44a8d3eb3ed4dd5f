"""When a descent has blown up, and what to tell the user: one rule for every loop."""

from __future__ import annotations

import math

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
