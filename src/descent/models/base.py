"""What every gradient-descent estimator shares: fit, partial_fit, scaling, history.

A subclass says how to encode targets, how to start its parameters, which
objective to descend, and how to turn internal parameters into fitted attributes.
Everything else, from input checks to early stopping, lives here once.
"""

from __future__ import annotations

import logging
import time
import warnings
from contextlib import contextmanager

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import optim
from ..divergence import DivergenceError, bounced, smaller_rate
from ..kernels.stats import check_finite, column_stats
from ..penalties import check_penalty
from ._validation import (
    FitInterruptedWarning,
    _as_list,
    already_valid,
    check_common_params,
    check_finite_target,
    resolve_batch_size,
    sample_weights,
)
from .history import History
from .interrupt import first_ctrl_c_stops
from .training import train

logger = logging.getLogger("descent")


@contextmanager
def _all_or_kept(estimator):
    """A fit either completes, or leaves the estimator as it was before it, unless the
    training kept a consistent state on its way out (``err.descent_kept``: a divergence's
    last finite parameters, or the epochs done before a second Ctrl-C).

    Nothing is copied: the attributes are rebound by a fit, never changed in place, but
    for the history a continued fit appends to, which the training loop rewinds itself.
    """
    before = dict(estimator.__dict__)
    try:
        yield
    except BaseException as err:
        if not getattr(err, "descent_kept", False):
            estimator.__dict__.clear()
            estimator.__dict__.update(before)
        raise


def store_init_args(estimator, arguments: dict) -> None:
    """Store each ``__init__`` argument under its own name, as scikit-learn expects.

    Called as ``store_init_args(self, locals())`` so the long shared parameter lists are
    written once per signature and never again in the body.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


#: Integer labels whose range (max - min) is below this, or below 2 n, are counted with
#: ``np.bincount`` instead of sorted or hashed by ``np.unique``: 10-20x faster.
COUNT_RANGE = 1 << 16


def unique_labels(y: np.ndarray) -> np.ndarray:
    """The sorted distinct values of the 1-D array y, as ``np.unique(y)`` gives them.

    Integer and boolean labels spanning a small range are counted (``np.bincount``), a
    pass that costs a few milliseconds on a million labels; anything else goes to
    ``np.unique``.

    Example:
        >>> unique_labels(np.array([3, 1, 3, 2])).tolist()
        [1, 2, 3]
        >>> unique_labels(np.array(["b", "a", "b"])).tolist()
        ['a', 'b']
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.size == 0 or y.dtype.kind not in "iub":
        return np.unique(y)
    codes = y.view(np.uint8) if y.dtype.kind == "b" else y
    low, high = int(codes.min()), int(codes.max())
    if high - low >= max(COUNT_RANGE, 2 * y.size) or max(high, -low) >= 2**62:
        return np.unique(y)
    shifted = codes.astype(np.intp, copy=False) - np.intp(low)
    found = np.flatnonzero(np.bincount(shifted)) + low
    return found.astype(np.uint8).view(np.bool_) if y.dtype.kind == "b" else found.astype(y.dtype)


class GradientDescentEstimator(BaseEstimator):
    """Base of the descent estimators; not used directly.

    Subclasses implement ``_encode_targets``, ``_init_params``, ``_objective`` and
    ``_set_fitted``. Internally the model is trained on standardized features (and,
    for regressors, a standardized target) when ``standardize=True``; the scaling is
    folded into the objective, so X is never copied, and back into ``coef_`` and
    ``intercept_``.
    """

    _is_classifier = False

    # ----- the fitting orchestration -------------------------------------------------
    def fit(self, X, y, sample_weight=None):
        """Train from the start (or from the current fit when ``warm_start=True``).

        Args:
            X: array of shape (n_samples, n_features).
            y: targets of shape (n_samples,).
            sample_weight: optional non-negative weight per sample.

        Returns:
            self
        """
        with _all_or_kept(self):
            self._check_params()
            warm = self.warm_start and hasattr(self, "_params")
            X, y = self._validate(X, y, reset=not warm)
            sw = sample_weights(sample_weight, X)
            if self._is_classifier:
                self._set_classes(y, classes=self.classes_ if warm else None)
            Y = self._encode_targets(y)
            sw = self._apply_class_weight(y, sw)
            if warm:
                self._check_finite(X)
            else:
                self._start(X, Y, sw)
            return self._run(X, Y, sw, epochs=self.epochs, allow_validation=True, fresh=not warm)

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """One pass over the given data, continuing from the current state.

        The optimizer's state and the learning-rate schedule carry over between calls.
        Classifiers need ``classes=`` (all labels) on the first call.

        Returns:
            self
        """
        with _all_or_kept(self):
            self._check_params()
            first = not hasattr(self, "_params")
            X, y = self._validate(X, y, reset=first)
            sw = sample_weights(sample_weight, X)
            if self._is_classifier:
                classes = kwargs.get("classes")
                if first and classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit")
                self._set_classes(y, classes=classes if first else self.classes_)
            Y = self._encode_targets(y)
            sw = self._apply_class_weight(y, sw)
            if first:
                self._start(X, Y, sw)
            else:
                self._check_finite(X)
            return self._run(X, Y, sw, epochs=1, allow_validation=False)

    def _validate(self, X, y, *, reset: bool):
        """scikit-learn's checks of X and y, but for X's NaN and infinity.

        That check (a sum over X) is left to the set-up pass, which reads X anyway:
        ``_start`` computes the scaling and checks X in one pass, and a fit that does not
        standardize, or continues, calls ``_check_finite``. Either raises a ValueError
        naming the first bad entry.
        """
        from sklearn import get_config

        if not get_config()["assume_finite"]:
            check_finite_target(y, type(self).__name__)
        clean = None if reset else already_valid(self, X, y, numeric_y=not self._is_classifier)
        if clean is not None:
            return clean
        return validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32],
                             y_numeric=not self._is_classifier, ensure_all_finite=False)

    def _check_finite(self, X) -> None:
        """Raise a ValueError naming X's first NaN or infinity (skipped under scikit-learn's
        ``assume_finite`` setting, as its own check is)."""
        from sklearn import get_config

        if not get_config()["assume_finite"]:
            check_finite(X, "X", type(self).__name__)

    def _check_params(self) -> None:
        check_common_params(self)
        penalty, alpha, l1_ratio = self._penalty_args(1)
        check_penalty(penalty, alpha, l1_ratio)

    def _penalty_args(self, n_samples: int) -> tuple[str | None, float, float]:
        return self.penalty, self.alpha, self.l1_ratio

    def _start(self, X: np.ndarray, Y: np.ndarray, sw: np.ndarray) -> None:
        """Fresh state: scaling, parameters, optimizer, history."""
        self._rng = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
        if self.standardize:  # one pass: the scaling, and X's check for NaN and infinity
            self._x_mean, self._x_scale, self._x_constant = column_stats(
                X, sw, who=type(self).__name__, return_constant=True)
        else:
            self._check_finite(X)
            self._x_mean = self._x_scale = self._x_constant = None
        if self.standardize and not self._is_classifier:
            # in X's dtype, so a float32 fit's coefficients stay float32 once unscaled
            self._y_mean, self._y_scale = (
                a.astype(X.dtype) for a in column_stats(Y, sw, name="y", who=type(self).__name__))
        else:
            self._y_mean = self._y_scale = None
        self._params = self._init_params(X.shape[1], Y.shape[1], X.dtype, self._rng)
        self._steps = 0
        if self._x_constant is not None:
            self._params[0][self._x_constant] = 0  # they stay there: see _fold_scale
        self._opt_state = None
        self.history_ = History()
        self.n_iter_ = 0

    def _learning_rate_at(self):
        schedule = self._schedule_name()
        if callable(schedule):
            return schedule
        kwargs = {}
        if schedule == "cosine":
            kwargs["total_steps"] = max(self.epochs * self._steps_per_epoch, 1)
        return optim.get_schedule(schedule, self.learning_rate, **kwargs)

    def _schedule_name(self):
        """The schedule in force: the user's, or for ``schedule=None`` the default one.

        Adam and RMSprop take steps of about ``learning_rate`` whatever the gradient's size,
        so at a constant rate they never settle at the optimum; by default their rate
        decays as ``learning_rate / (step + 1) ** 0.25``. The textbook optimizers take
        steps that shrink with the gradient and keep a constant rate.
        """
        if self.schedule is not None:
            return self.schedule
        return "inverse_scaling" if self.optimizer.lower() in ("adam", "rmsprop") else "constant"

    def _run(self, X, Y, sw, *, epochs: int, allow_validation: bool, fresh: bool = False):
        Y = self._scale_targets(Y).astype(X.dtype, copy=False)
        validation = rows = None
        if allow_validation and self.early_stopping:
            rows, validation = self._split_validation(X, Y, sw)
        # Whether this run trains on exactly the rows and weights the scaling was taken
        # from (a fresh fit, nothing held out): then standardized X and y have mean zero
        # there, which a model may use (see _LinearModel._intercept_is_centred).
        self._same_rows_as_scaling = fresh and rows is None
        n = X.shape[0] if rows is None else len(rows)
        batch_size = resolve_batch_size(self.batch_size, n)  # "auto": rows per step for n
        size = n if batch_size is None else min(batch_size, n)
        self._steps_per_epoch = -(-n // size)
        lr_at = self._learning_rate_at()
        opt = optim.get_optimizer(self.optimizer, lr_at)
        if self._opt_state is None:
            self._opt_state = opt.init(self._params)
        objective = self._objective(n)
        if self.record_path and not self.history_.path:
            self.history_.path.append(self._user_params(self._params))
        recorder = (lambda p: self.history_.path.append(self._user_params(p))) \
            if self.record_path else None
        # equal weights (on the rows trained on): take the unweighted path
        uniform = sw if np.ptp(sw if rows is None else sw[rows]) > 0 else None
        try:
            with first_ctrl_c_stops() as stop:
                run = train(
                    objective, self._params, X, Y, uniform, optimizer=opt,
                    opt_state=self._opt_state, learning_rate_at=lr_at, epochs=epochs,
                    batch_size=batch_size, shuffle=self.shuffle, rng=self._rng,
                    tol=self.tol if allow_validation else None,
                    n_iter_no_change=self.n_iter_no_change, history=self.history_,
                    validation=validation, callbacks=_as_list(self.callbacks), estimator=self,
                    record_path=recorder, step_offset=self._steps,
                    started=time.perf_counter() - (self.history_.time[-1] if self.history_.time
                                                   else 0.0),
                    rows=rows, stop=stop,
                )
        except DivergenceError as err:
            self._params = err.params
            self._set_fitted(self._params)
            self.n_iter_ = (self.n_iter_ if not allow_validation else 0) + err.epochs
            self.history_.stopped = "diverged"
            err.descent_kept = True
            raise
        except BaseException as err:  # a second Ctrl-C: keep the last complete epoch, if any
            kept = getattr(err, "kept", None)
            if kept is not None and kept.epochs > 0:
                self._accept(kept, allow_validation)
                err.descent_kept = True
            raise
        self._accept(run, allow_validation)
        if run.stopped == "interrupted":
            self._warn_interrupted(run)
        elif allow_validation and self._judge_bounces:
            self._warn_if_bounced(self.history_.loss[len(self.history_.loss) - run.epochs:],
                                  lr_at(0))
        return self

    #: Whether a fit whose loss bounced warns (see ``_warn_if_bounced``).
    _judge_bounces = True

    def _warn_if_bounced(self, losses, learning_rate) -> None:
        """A ``ConvergenceWarning`` when this fit's losses bounced (``divergence.bounced``):
        a learning rate too large for the loss to settle, which ``DivergenceError`` only
        catches once the loss overflows or grows 1e10-fold. Same advice as that error."""
        reason = bounced(losses)
        if reason is None:
            return
        from sklearn.exceptions import ConvergenceWarning

        warnings.warn(
            f"{type(self).__name__}: the loss did not settle in {len(losses)} epochs at "
            f"learning_rate={learning_rate:g} ({reason}): the steps overshoot the minimum; "
            f"try a smaller learning rate, e.g. {smaller_rate(learning_rate)}",
            ConvergenceWarning, stacklevel=4)

    def _accept(self, run, allow_validation: bool) -> None:
        """Make a run's end the estimator's state: parameters, counts, fitted attributes."""
        self._params, self._opt_state, self._steps = run.params, run.opt_state, run.steps
        self.n_iter_ = self.n_iter_ + run.epochs if not allow_validation else run.epochs
        self.history_.stopped = run.stopped
        self._set_fitted(self._params)

    def _warn_interrupted(self, run) -> None:
        """Say what a fit stopped by Ctrl-C kept (``FitInterruptedWarning``)."""
        partial = (f" and {run.partial_steps} step(s) of the next" if run.partial_steps
                   else "")
        best = " (the best on the validation data)" if self.early_stopping and \
            self.history_.val_loss else ""
        warnings.warn(
            f"{type(self).__name__}: training interrupted (Ctrl-C) after {self.n_iter_} "
            f"complete epoch(s){partial}; kept the parameters reached{best}, with n_iter_ "
            f"and history_ up to there. Fit again with warm_start=True to continue.",
            FitInterruptedWarning, stacklevel=4)

    def _split_validation(self, X, Y, sw):
        """(training rows, (X, Y, weights) held out): the training rows are row numbers,
        read in place by the loops; only the held-out rows are copied."""
        stratify = Y.argmax(1) if self._is_classifier and Y.shape[1] > 1 else (
            Y[:, 0] if self._is_classifier else None)
        try:
            train_rows, held_out = train_test_split(
                np.arange(len(X)), test_size=self.validation_fraction, stratify=stratify,
                random_state=self._rng.integers(2**31),
            )
        except ValueError as err:
            raise ValueError(
                f"early_stopping could not hold out validation_fraction="
                f"{self.validation_fraction} of {len(X)} samples ({err}); use more data, "
                "a larger validation_fraction, or early_stopping=False"
            ) from err
        sv = sw[held_out]
        return train_rows, (X[held_out], Y[held_out], sv if np.ptp(sv) > 0 else None)

    # ----- scaling -----------------------------------------------------------------------
    def _fold_scale(self) -> np.ndarray | None:
        """The feature scales the objective folds into the first weights: ``_x_scale``, but
        infinite for a constant column, whose weight then takes no part in the scores
        and has a gradient of exactly 0, so it stays at the 0 it starts from.

        A constant column, centred, is 0; its gradient, folded from raw sums, is rounding
        noise instead, which Adam and RMSprop turn into steps of the learning rate's size:
        coef_ then held noise, offset in the intercept, which at a scale of 1e150 swamped
        every other score. The scale kept (and saved) stays 1.
        """
        constant = getattr(self, "_x_constant", None)
        if self._x_scale is None or constant is None or not constant.any():
            return self._x_scale
        return np.where(constant, np.array(np.inf, self._x_scale.dtype), self._x_scale)

    def _scale_targets(self, Y: np.ndarray) -> np.ndarray:
        if self._y_mean is None:
            return Y
        return (Y - self._y_mean) / self._y_scale

    # ----- classes and weights ------------------------------------------------------------
    def _set_classes(self, y, classes=None):
        from sklearn.utils.multiclass import check_classification_targets

        if y.dtype.kind not in "iub":  # integer labels are always binary or multiclass
            check_classification_targets(y)
        found = unique_labels(y)
        if classes is not None:
            classes = np.unique(np.asarray(classes))
            unknown = np.setdiff1d(found, classes)
            if unknown.size:
                raise ValueError(f"labels {unknown.tolist()} are not in classes {classes.tolist()}")
            self.classes_ = classes
        else:
            if found.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                    f"but the data contain only one class: {found.tolist()[0]!r}"
                )
            self.classes_ = found

    def _apply_class_weight(self, y, sw):
        class_weight = getattr(self, "class_weight", None)
        if class_weight is None:
            return sw
        from sklearn.utils.class_weight import compute_class_weight

        present = unique_labels(y)
        weights = compute_class_weight(class_weight, classes=present, y=y)
        return sw * weights.astype(sw.dtype)[np.searchsorted(present, y)]

    def _fitted_check(self):
        check_is_fitted(self, "_params")

    # ----- model files --------------------------------------------------------------------
    def save(self, path):
        """Write the fitted model to one file; ``descent.load(path)`` reads it back.

        The file holds the parameters, fitted attributes, ``history_`` and the training
        state (see ``descent.model_io`` for the format); it is replaced atomically.

        Args:
            path: the file to write; any name, ``.descent`` is suggested.

        Returns:
            The path written, as a ``pathlib.Path``.

        Raises:
            NotFittedError: before ``fit``.
            descent.model_io.ModelFileError: a parameter is code (a callable schedule,
                callbacks ...); the message names it and how to save anyway.
        """
        from ..model_io import save  # here, not at the top: model_io imports the models

        return save(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags

    # ----- subclass hooks -----------------------------------------------------------------
    def _encode_targets(self, y) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _init_params(self, n_features, n_outputs, dtype, rng) -> list[np.ndarray]:
        raise NotImplementedError  # pragma: no cover

    def _objective(self, n_samples: int):
        raise NotImplementedError  # pragma: no cover

    def _user_params(self, params):
        raise NotImplementedError  # pragma: no cover

    def _set_fitted(self, params) -> None:
        raise NotImplementedError  # pragma: no cover
