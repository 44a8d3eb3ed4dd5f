"""Input checks shared by the estimators: clear errors that say what to fix."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.utils.validation import _check_sample_weight

OPTIMIZER_NAMES = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SCHEDULE_NAMES = ("constant", "step", "exponential", "inverse_scaling", "cosine")


class FitInterruptedWarning(UserWarning):
    """A fit stopped at Ctrl-C; the estimator keeps the training done so far.

    ``n_iter_`` and ``history_`` hold the epochs completed, ``history_.stopped`` is
    ``"interrupted"``, and ``fit`` with ``warm_start=True`` goes on from there.
    """


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_common_params(est) -> None:
    """Validate the parameters every gradient-descent estimator shares."""

    def bad(name, value, expected):
        raise ValueError(f"{type(est).__name__}: {name} must be {expected}, got {value!r}")

    if not (_is_number(est.learning_rate) and np.isfinite(est.learning_rate)
            and est.learning_rate > 0):
        bad("learning_rate", est.learning_rate, "a positive number")
    if not (isinstance(est.epochs, numbers.Integral) and est.epochs >= 1):
        bad("epochs", est.epochs, "a positive integer")
    if est.batch_size is not None and not (
        (isinstance(est.batch_size, numbers.Integral) and not isinstance(est.batch_size, bool)
         and est.batch_size >= 1) or (isinstance(est.batch_size, str) and est.batch_size == AUTO)
    ):
        bad("batch_size", est.batch_size,
            "None (full batch), a positive integer or 'auto' (32 rows, more for large data)")
    if not (isinstance(est.optimizer, str) and est.optimizer.lower() in OPTIMIZER_NAMES):
        bad("optimizer", est.optimizer, f"one of {list(OPTIMIZER_NAMES)}")
    if est.schedule is not None and not callable(est.schedule) and not (
        isinstance(est.schedule, str) and est.schedule in SCHEDULE_NAMES
    ):
        bad("schedule", est.schedule, f"None, a callable or one of {list(SCHEDULE_NAMES)}")
    if est.tol is not None and not (_is_number(est.tol) and est.tol >= 0):
        bad("tol", est.tol, "None or a non-negative number")
    if not (isinstance(est.n_iter_no_change, numbers.Integral) and est.n_iter_no_change >= 1):
        bad("n_iter_no_change", est.n_iter_no_change, "a positive integer")
    if not (_is_number(est.validation_fraction) and 0 < est.validation_fraction < 1):
        bad("validation_fraction", est.validation_fraction, "a number strictly between 0 and 1")
    if est.init not in ("zeros", "random"):
        bad("init", est.init, "'zeros' or 'random'")
    if est.callbacks is not None and not all(callable(c) for c in _as_list(est.callbacks)):
        bad("callbacks", est.callbacks, "None or a list of callables")


#: ``batch_size="auto"``: mini-batches of AUTO_MIN rows, doubled with every doubling of the
#: data beyond AUTO_MIN * AUTO_STEPS rows, up to AUTO_MAX, so an epoch keeps at least
#: AUTO_STEPS steps.
AUTO = "auto"
AUTO_MIN, AUTO_MAX, AUTO_STEPS = 32, 256, 500


def auto_batch_size(n_samples: int) -> int:
    """The rows per step ``batch_size="auto"`` takes on ``n_samples`` training rows.

    32 rows, or for large data the largest power of two up to 256 that still leaves at
    least 500 steps an epoch: 64 from 32,000 rows, 128 from 64,000, 256 from 128,000.
    Larger batches give less noisy gradients and cost less per row in the compiled loops;
    on a 500,000-row logistic regression, batches of 256 reach within 0.001 of the optimal
    loss in one or two epochs where batches of 32 need three or more. Small data keeps 32.

    Example:
        >>> [auto_batch_size(n) for n in (100, 31_999, 32_000, 64_000, 128_000, 10**7)]
        [32, 32, 64, 128, 256, 256]
    """
    size = AUTO_MIN
    while size < AUTO_MAX and n_samples >= 2 * size * AUTO_STEPS:
        size *= 2
    return size


def resolve_batch_size(batch_size, n_samples: int) -> int | None:
    """The batch size a fit uses: ``"auto"`` becomes ``auto_batch_size(n_samples)``.

    None (full batch) and integers are returned as they are.

    Example:
        >>> resolve_batch_size("auto", 200_000), resolve_batch_size(16, 200_000)
        (256, 16)
    """
    return auto_batch_size(n_samples) if isinstance(batch_size, str) else batch_size


def _as_list(callbacks) -> list:
    if callbacks is None:
        return []
    return list(callbacks) if isinstance(callbacks, list | tuple) else [callbacks]


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _as_reals(values) -> np.ndarray | None:
    """``values`` as float64, or None when they are not real numbers (complex, text, an
    object that is not an array): scikit-learn's own checks say what is wrong then."""
    try:
        array = np.asarray(values)
        if array.ndim == 0 or array.dtype.kind not in "biufO":  # None, a scalar, text ...
            return None
        return array.astype(np.float64)
    except (TypeError, ValueError):
        return None


def check_finite_target(y, who: str) -> None:
    """Raise a ValueError naming y's first NaN or infinity and the fix (numbers only:
    labels of other kinds are the classifiers' to check).

    Example:
        >>> check_finite_target([1.0, float("nan")], "LinearRegression")
        Traceback (most recent call last):
        ...
        ValueError: Input y contains NaN (first at row 1); LinearRegression needs ...
    """
    values = _as_reals(y)
    if values is None or values.size == 0 or np.isfinite(values).all():
        return
    if np.isnan(values).any():
        raise ValueError(
            f"Input y contains NaN (first at row {_first(np.isnan(values))}); {who} needs a "
            "target for every sample: drop the rows whose target is missing before fitting")
    raise ValueError(
        f"Input y contains infinity (first at row {_first(np.isinf(values))}); {who} needs "
        "finite targets: drop, replace or clip the infinite values before fitting")


def sample_weights(sample_weight, X: np.ndarray) -> np.ndarray:
    """Sample weights as a float array of length n (ones when None).

    NaN, infinite and negative weights, and weights that are all zero, are refused with
    a message that names the first bad one and the fix.
    """
    if sample_weight is not None:
        given = _as_reals(sample_weight)  # None: scikit-learn's check below says what is wrong
        if given is not None and given.ndim == 1 and given.size:
            if not np.isfinite(given).all():
                raise ValueError(
                    f"sample_weight contains NaN or infinity (first at row "
                    f"{_first(~np.isfinite(given))}); give every sample a finite weight")
            if (given < 0).any():
                raise ValueError(
                    f"sample_weight must be non-negative; found a negative weight at row "
                    f"{_first(given < 0)}: drop or reweight those samples")
            if not (given > 0).any():
                raise ValueError(
                    "sample_weight sums to zero; give at least one point a positive weight")
    sw = _check_sample_weight(sample_weight, X, dtype=X.dtype)
    if np.any(sw < 0):
        raise ValueError("sample_weight must be non-negative; found negative weights: drop or "
                         "reweight those samples")
    if not np.any(sw > 0):
        raise ValueError("sample_weight sums to zero; give at least one point a positive weight")
    return sw


def already_valid(est, X, y=None, *, numeric_y: bool = False):
    """``(X, y)`` as they are when scikit-learn's ``validate_data(est, X, y, reset=False)``
    would hand them back unchanged, else None (and the caller runs it).

    Checking takes a fraction of a millisecond that matters to a loop of small
    ``partial_fit`` calls or predictions (the playground steps a model on 100 rows 250
    times a second): a plain 2-D float array with the fitted number of columns, from an
    estimator fitted without column names, and a 1-D ``y`` of the same length (numbers for
    regressors) needs no conversion. Non-finite values are the caller's to check.

    Example:
        >>> from descent import LinearRegression
        >>> X = np.arange(6.0).reshape(3, 2)
        >>> model = LinearRegression(epochs=1).fit(X, [1.0, 2.0, 3.0])
        >>> already_valid(model, X)[0] is X, already_valid(model, X.tolist())
        (True, None)
    """
    if not (type(X) is np.ndarray and X.ndim == 2 and X.shape[0] >= 1
            and X.dtype in (np.float64, np.float32)
            and X.shape[1] == getattr(est, "n_features_in_", -1)
            and not hasattr(est, "feature_names_in_")):
        return None
    if y is not None and not (type(y) is np.ndarray and y.ndim == 1 and len(y) == len(X)
                              and (y.dtype.kind in "fiub" or not numeric_y)):
        return None
    return X, y


def rows_to_predict(est, X) -> np.ndarray:
    """X checked as ``validate_data(est, X, reset=False)`` checks it, skipping the
    conversions when ``already_valid`` says none are needed (the finite check stays,
    unless scikit-learn's ``assume_finite`` is set)."""
    from sklearn import get_config
    from sklearn.utils import assert_all_finite
    from sklearn.utils.validation import validate_data

    if already_valid(est, X) is None:
        return validate_data(est, X, reset=False, dtype=[np.float64, np.float32])
    if not get_config()["assume_finite"]:
        assert_all_finite(X, input_name="X", estimator_name=type(est).__name__)
    return X
