"""The learning-rate lab's rules: what a learner should be told about a run of
``descent.minimize`` (diverged, bouncing), read off the path it returns.

``descent.minimize`` calls a run diverged only once its value is non-finite or has grown
ten billion times (``descent.divergence.EXPLOSION_FACTOR``): right for a long fit, far too
late for a lab where a rate of 1.05 on x^2 makes |x| grow 10% a step. So the lab adds two
rules, both read off the path minimize returns (never a second copy of its math):

- **diverged (growing)**: the value rose at each of the last ``GROWTH_STEPS`` steps, those
  steps got longer one after another, and the value now stands above the start by more
  than it ever fell below it. The run is cut at the
  step where that first holds, as minimize cuts a run that blows up.
- **bouncing (zigzag)**: each of the last ``ZIGZAG_STEPS`` steps went against the step
  before it (their dot product is negative) and over them the value fell by less than
  ``STALL_SHARE`` of itself: the steps overshoot to and fro without getting anywhere
  (x^2 at rate 1.0 hops between 5 and -5 forever). A finished run is also bouncing when
  ``descent.divergence.bounced`` says so.
- **diverged (overshot)**: one step was longer than ``OVERSHOOT_FACTOR`` times the
  start's size (its largest coordinate, at least 1). Such a step leaves the picture at
  once, and may land where f is flat to the last digit (exp(x) from 700 at rate 1 lands
  at -1e304, where the gradient is 0): minimize then reports "converged", which is no
  minimum at all. The run is cut at that step (the landing point kept). The rule is only
  asked when minimize itself did not call the run diverged, and after the growth rule.

``rate_runs.judge`` asks them in this order: growth first, minimize's own divergence
next, then the overshoot, then (for a run that did not converge) the bouncing rules.
"""

from __future__ import annotations

import numpy as np

GROWTH_STEPS = 5
"""A value that rose at this many steps in a row (and is above the start) is diverging."""

ZIGZAG_STEPS = 4
"""Steps in a row that each reverse the one before: the window of the bouncing rule."""

STALL_SHARE = 0.01
"""Over the zigzag window, a fall of less than this share of the value is no progress."""

OVERSHOOT_FACTOR = 1000.0
"""A step longer than this many times the start's size (at least 1) has overshot."""


def growth_step(path, losses) -> int | None:
    """The first step at which the run is growing away (the lab's divergence rule), or None.

    Growing away: the value rose at each of the last ``GROWTH_STEPS`` steps, those steps got
    longer one after another, and the value is now above the start by more than it ever
    fell below it. (Momentum coasting uphill past a valley also raises the value for a few
    steps, but its steps shorten as it slows, and it comes back.)

    Example:
        >>> xs = [5 * (-1.1) ** k for k in range(10)]  # x^2 at rate 1.05
        >>> growth_step(xs, [x * x for x in xs])
        5
        >>> growth_step(list(range(7)), [25, 1, 2, 3, 4, 5, 6]) is None  # below the start
        True
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size <= GROWTH_STEPS:
        return None
    points = np.asarray(path, dtype=np.float64).reshape(len(losses), -1)
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)  # lengths[i]: step i + 1
    rose = np.diff(losses) > 0  # rose[i]: at step i + 1
    lowest = np.minimum.accumulate(losses)
    for k in range(GROWTH_STEPS, losses.size):
        window = slice(k - GROWTH_STEPS, k)
        if (rose[window].all() and np.all(np.diff(lengths[window]) > 0)
                and losses[k] > losses[0] + (losses[0] - lowest[k])):
            return k
    return None


def zigzag_stalled(path, losses) -> bool:
    """True when the last ``ZIGZAG_STEPS`` steps each reversed the one before and the value
    barely fell over them (the lab's bouncing rule).

    Example:
        >>> zigzag_stalled([5, -5, 5, -5, 5, -5], [25] * 6)  # x^2 at rate 1.0
        True
        >>> zigzag_stalled([5, -4, 3.2, -2.56, 2.05, -1.64], [25, 16, 10, 6.6, 4.2, 2.7])
        False
    """
    points = np.asarray(path, dtype=np.float64).reshape(len(path), -1)
    if len(points) < ZIGZAG_STEPS + 2:
        return False
    steps = np.diff(points[-(ZIGZAG_STEPS + 2):], axis=0)
    reversed_ = np.sum(steps[1:] * steps[:-1], axis=1) < 0
    before, now = float(losses[-ZIGZAG_STEPS - 1]), float(losses[-1])
    return bool(reversed_.all()) and before - now < STALL_SHARE * max(abs(before), 1e-300)


def overshoot_step(path) -> int | None:
    """The first step longer than ``OVERSHOOT_FACTOR`` times the start's size (its largest
    coordinate, at least 1), or None.

    Example:
        >>> overshoot_step([700.0, -1.01e304])  # exp(x) from 700 at rate 1
        1
        >>> overshoot_step([5.0, -5.5, 6.05]) is None  # x^2 at rate 1.05: a zigzag
        True
    """
    points = np.asarray(path, dtype=np.float64).reshape(len(path), -1)
    if len(points) < 2:
        return None
    limit = OVERSHOOT_FACTOR * max(1.0, float(np.abs(points[0]).max()))
    with np.errstate(all="ignore"):  # a step of 1e304 squares to inf: still far
        lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    far = np.flatnonzero(~(lengths <= limit))  # a non-finite length is far too
    return int(far[0]) + 1 if far.size else None
