"""Argument checks shared across descent (optimizers, schedules, penalties, minimize).

Each check returns the value as a plain Python ``float``/``int``, or raises ValueError
naming the argument and the offending value (non-numbers included, so callers catch
one exception type). Why plain Python numbers:
numpy treats Python scalars as "weak", so ``0.9 * float32_array`` stays float32,
whereas a ``np.float64`` hyperparameter would silently upcast the whole update.
"""

from __future__ import annotations

import math
import numbers


def _as_real(value: object) -> float | None:
    """``value`` as a float, or None if it is not a real number.

    Why: bool is an int subclass, but ``learning_rate=True`` is surely a mistake.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def positive_finite(name: str, value: object) -> float:
    """``value`` as a float, or ValueError unless it is a positive finite number.

    >>> positive_finite("learning_rate", 0.1)
    0.1
    """
    number = _as_real(value)
    if number is None or not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return number


def non_negative_finite(name: str, value: object) -> float:
    """``value`` as a float, or ValueError unless it is finite and >= 0.

    >>> non_negative_finite("eps", 0)
    0.0
    """
    number = _as_real(value)
    if number is None or not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return number


def finite(name: str, value: object) -> float:
    """``value`` as a float, or ValueError unless it is finite.

    >>> finite("factor", -2)
    -2.0
    """
    number = _as_real(value)
    if number is None or not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def in_unit_interval(name: str, value: object, *, include_one: bool = False) -> float:
    """``value`` as a float, or ValueError unless ``0 <= value < 1`` (``<= 1`` if include_one).

    >>> in_unit_interval("beta", 0.9)
    0.9
    """
    number = _as_real(value)
    if number is None or not (0 <= number and (number <= 1 if include_one else number < 1)):
        interval = "[0, 1]" if include_one else "[0, 1)"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return number


def positive_int(name: str, value: object) -> int:
    """``value`` as an int, or ValueError unless it is a whole number >= 1.

    >>> positive_int("every", 100)
    100
    """
    number = _as_real(value)
    # Whole floats such as 100.0 are accepted: they often come from config files.
    if number is None or not (math.isfinite(number) and number.is_integer() and number >= 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(number)
