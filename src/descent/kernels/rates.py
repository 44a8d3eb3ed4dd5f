"""Learning-rate schedules as arrays: the rates of a run of steps, without a call per step.

A compiled epoch takes one learning rate per step. Calling the schedule once a step
costs more than a stochastic step itself, so the named schedules of
``descent.optim.schedules`` are evaluated here with NumPy from the same formulas and
arguments. Each array is checked against the schedule itself at its first, middle
and last step; if they disagree (a formula changed in one place only), or the schedule
is a user's callable, the schedule is simply called for every step.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from functools import cache

import numpy as np

from ..optim import schedules

Rates = Callable[[int, int], np.ndarray]


@cache  # inspect.signature costs milliseconds: once per name, not once per fit
def _defaults(name: str) -> dict:
    """The arguments ``get_schedule(name, lr)`` passes besides the rate: factory defaults."""
    params = inspect.signature(schedules.SCHEDULES[name]).parameters
    found = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    return {**found, **schedules._NAME_DEFAULTS.get(name, {})}


def _formula(name: str, value: float, total_steps: int) -> Callable[[np.ndarray], np.ndarray]:
    a = _defaults(name)
    if name == "constant":
        return lambda s: np.full(s.shape, value)
    if name == "step":
        return lambda s: value * a["drop"] ** (s // a["every"]).astype(float)
    if name == "exponential":
        return lambda s: value * a["decay_rate"] ** (s / a["decay_steps"])
    if name == "inverse_scaling":
        return lambda s: value / (s + 1.0) ** a["power"]
    final = a["final_value"]

    def cosine(s):
        out = final + (value - final) * 0.5 * (1.0 + np.cos(np.pi * s / total_steps))
        out[s >= total_steps] = final
        return out

    return cosine


def schedule_rates(schedule, learning_rate: float, learning_rate_at: Callable[[int], float],
                   total_steps: int) -> Rates:
    """``rates(start, count)``: the rates of steps start .. start + count - 1 as float64.

    Args:
        schedule: the estimator's ``schedule`` (None, a name, or a callable).
        learning_rate: the estimator's ``learning_rate``.
        learning_rate_at: the schedule the optimizer calls (the truth to match).
        total_steps: what ``"cosine"`` anneals over.

    Example:
        >>> from descent.optim import get_schedule
        >>> rates = schedule_rates("step", 1.0, get_schedule("step", 1.0), 0)
        >>> rates(99, 3).tolist()
        [1.0, 0.5, 0.5]
    """
    name = "constant" if schedule is None else schedule
    formula = None
    if isinstance(name, str) and name.strip().lower() in schedules.SCHEDULES:
        formula = _formula(name.strip().lower(), float(learning_rate), total_steps)

    def by_calls(start: int, count: int) -> np.ndarray:
        return np.fromiter(map(learning_rate_at, range(start, start + count)), float, count)

    def rates(start: int, count: int) -> np.ndarray:
        if formula is None or count == 0:
            return by_calls(start, count)
        out = formula(np.arange(start, start + count, dtype=np.int64))
        checks = sorted({0, count // 2, count - 1})
        # math.isclose, not np.allclose: a per-epoch call, and NumPy's costs 20 µs
        if all(math.isclose(out[k], learning_rate_at(start + k), rel_tol=1e-12, abs_tol=0)
               for k in checks):
            return out
        return by_calls(start, count)

    return rates
