"""Learning-rate schedules: functions of the step number, ``schedule(step) -> float``.

Each factory below validates its arguments once and returns a closure. ``step`` counts
updates from 0, which is what :func:`~descent.optim.transforms.scale_by_learning_rate`
passes. Pass a schedule anywhere a learning rate is accepted::

    opt = gd(learning_rate=exponential(0.1, decay_rate=0.99))

Values are plain Python floats (computed with ``math``), so they never upcast float32.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from descent import checks as _validate

Schedule = Callable[[int], float]


def constant(value: float) -> Schedule:
    """The same learning rate at every step.

    Args:
        value: the learning rate, a positive finite number.

    Returns:
        ``schedule(step) -> value``.

    >>> constant(0.1)(1000)
    0.1
    """
    value = _validate.positive_finite("value", value)

    def schedule(step: int) -> float:
        return value

    return schedule


def step(value: float, drop: float = 0.5, every: int = 100) -> Schedule:
    """Step decay: multiply the rate by ``drop`` once every ``every`` steps.

    ``value * drop ** (step // every)``.

    Args:
        value: initial learning rate, a positive finite number.
        drop: factor applied at each drop, in (0, 1].
        every: number of steps between drops, a positive integer.

    Returns:
        The schedule.

    >>> schedule = step(1.0, drop=0.5, every=10)
    >>> schedule(9), schedule(10), schedule(25)
    (1.0, 0.5, 0.25)
    """
    value = _validate.positive_finite("value", value)
    drop = _validate.in_unit_interval("drop", drop, include_one=True)
    if drop == 0:
        raise ValueError(f"drop must be in (0, 1], got {drop!r}")
    every = _validate.positive_int("every", every)

    def schedule(step: int) -> float:
        return value * drop ** (step // every)

    return schedule


def exponential(value: float, decay_rate: float, decay_steps: float = 1) -> Schedule:
    """Smooth exponential decay: ``value * decay_rate ** (step / decay_steps)``.

    Args:
        value: initial learning rate, a positive finite number.
        decay_rate: factor lost every ``decay_steps`` steps, in (0, 1].
        decay_steps: number of steps over which the rate is multiplied by
            ``decay_rate``, a positive finite number.

    Returns:
        The schedule.

    >>> exponential(1.0, decay_rate=0.5, decay_steps=2)(4)
    0.25
    """
    value = _validate.positive_finite("value", value)
    decay_rate = _validate.in_unit_interval("decay_rate", decay_rate, include_one=True)
    if decay_rate == 0:
        raise ValueError(f"decay_rate must be in (0, 1], got {decay_rate!r}")
    decay_steps = _validate.positive_finite("decay_steps", decay_steps)

    def schedule(step: int) -> float:
        return value * decay_rate ** (step / decay_steps)

    return schedule


def inverse_scaling(value: float, power: float = 0.25) -> Schedule:
    """Inverse scaling, as scikit-learn's ``'invscaling'``: ``value / (step + 1) ** power``.

    Args:
        value: initial learning rate, a positive finite number.
        power: exponent, a finite number >= 0 (0 gives a constant rate; 1 gives the
            ``1/t`` decay of classic stochastic approximation).

    Returns:
        The schedule.

    >>> inverse_scaling(1.0, power=0.5)(3)
    0.5
    """
    value = _validate.positive_finite("value", value)
    power = _validate.non_negative_finite("power", power)

    def schedule(step: int) -> float:
        return value / (step + 1) ** power

    return schedule


def cosine(value: float, total_steps: int, final_value: float = 0.0) -> Schedule:
    """Cosine annealing from ``value`` to ``final_value`` over ``total_steps``, then flat.

    ``final + (value - final) * (1 + cos(pi * step / total_steps)) / 2`` for
    ``step < total_steps``, and ``final_value`` afterwards.

    Args:
        value: initial learning rate, a positive finite number.
        total_steps: length of the anneal, a positive integer.
        final_value: rate at and after ``total_steps``, a finite number >= 0.

    Returns:
        The schedule.

    >>> schedule = cosine(1.0, total_steps=10, final_value=0.5)
    >>> schedule(0), schedule(5), schedule(10), schedule(99)
    (1.0, 0.75, 0.5, 0.5)
    """
    value = _validate.positive_finite("value", value)
    total_steps = _validate.positive_int("total_steps", total_steps)
    final_value = _validate.non_negative_finite("final_value", final_value)
    span = value - final_value

    def schedule(step: int) -> float:
        if step >= total_steps:
            return final_value
        return final_value + span * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))

    return schedule


SCHEDULES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step": step,
    "exponential": exponential,
    "inverse_scaling": inverse_scaling,
    "cosine": cosine,
}

# Defaults get_schedule fills in for arguments the factories themselves require.
_NAME_DEFAULTS: dict[str, dict[str, Any]] = {"exponential": {"decay_rate": 0.99}}


def get_schedule(schedule: str | Schedule | None, learning_rate: float, **kwargs: Any) -> Schedule:
    """Build a schedule from a name, or return a given schedule callable unchanged.

    Args:
        schedule: one of ``"constant"``, ``"step"``, ``"exponential"``,
            ``"inverse_scaling"``, ``"cosine"`` (case-insensitive); a callable
            ``step -> float`` (returned as is); or None, meaning ``"constant"``.
        learning_rate: the initial rate, the ``value`` of the named schedule.
        **kwargs: the schedule's other arguments, e.g. ``every=50`` for ``"step"``.
            ``"exponential"`` defaults to ``decay_rate=0.99``; ``"cosine"`` needs
            ``total_steps``.

    Returns:
        The schedule.

    Raises:
        ValueError: for an unknown name, a missing ``total_steps`` for ``"cosine"``, or
            invalid argument values.

    >>> get_schedule("step", 0.1, every=2)(2)
    0.05
    """
    if callable(schedule):
        if kwargs:
            raise ValueError(
                f"schedule arguments {sorted(kwargs)} only apply to a schedule name, "
                f"not to the callable {schedule!r}"
            )
        return schedule
    if schedule is None:
        schedule = "constant"
    key = schedule.strip().lower() if isinstance(schedule, str) else None
    if key not in SCHEDULES:
        raise ValueError(
            f"unknown schedule {schedule!r}; expected one of {sorted(SCHEDULES)} "
            f"or a callable step -> learning rate"
        )
    if key == "cosine" and "total_steps" not in kwargs:
        raise ValueError(
            "the 'cosine' schedule needs total_steps (the number of steps to anneal over), "
            "e.g. get_schedule('cosine', 0.1, total_steps=1000)"
        )
    arguments = {**_NAME_DEFAULTS.get(key, {}), **kwargs}
    return SCHEDULES[key](learning_rate, **arguments)
