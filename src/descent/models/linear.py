"""Linear models: one objective, four estimators that differ only in loss and encoding.

Scores are S = X W + b. The loss table gives the mean loss and dL/dS in closed form
(the seeds' gradients); the chain rule through S = X W + b is one matrix product.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from ..kernels.rates import Rates, schedule_rates
from ..losses import Loss, get_loss, mean_loss_and_gradient
from ..penalties import penalty_gradient, penalty_value
from ._validation import rows_to_predict
from .base import GradientDescentEstimator, store_init_args
from .outputs import LabelOutputs


@dataclass
class LinearObjective:
    """Mean loss of S = X W + b plus alpha * R(W), with gradients for [W, b].

    W and b live in standardized units when ``x_scale`` is given: the raw-unit
    coefficients are W / scale and b - mean . (W / scale), and the gradient is
    mapped back through the same affine change, so X itself is never rescaled.
    """

    point_loss: Loss
    penalty: str | None
    alpha: float
    l1_ratio: float
    x_mean: np.ndarray | None
    x_scale: np.ndarray | None
    fit_intercept: bool
    penalized: tuple[bool, ...] = (True, False)
    # The named optimizer and the schedule as arrays, from the estimator, so that the
    # compiled loops (descent.kernels) can take the same steps; None keeps NumPy.
    optimizer: str | None = None
    rates: Rates | None = None

    def raw(self, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.x_scale is None:
            return W, b
        Wr = W / self.x_scale[:, None]
        return Wr, b - self.x_mean @ Wr

    def scores(self, params, X):
        Wr, br = self.raw(*params)
        S = X @ Wr
        S += br
        return S

    def loss_and_grads(self, params, X, Y, sw):
        value, dS = mean_loss_and_gradient(self.point_loss, self.scores(params, X), Y, sw)
        return self.finish(params[0], value, X.T @ dS, dS.sum(axis=0))

    def finish(self, W, value, gW, gb):
        """From the mean loss and its raw-unit gradient to the objective's value and [gW, gb].

        The data's part ends here (NumPy above, or a compiled pass): what is left maps the
        gradient into standardized units and adds the penalty. ``gW`` is changed in place.
        """
        if self.x_scale is not None:
            gW -= np.outer(self.x_mean, gb)
            gW /= self.x_scale[:, None]
        if not self.fit_intercept:
            gb = np.zeros_like(gb)
        pg = penalty_gradient(W, self.penalty, self.alpha, self.l1_ratio, loss_grad=gW)
        if pg is not None:
            gW += pg
            value += penalty_value(W, self.penalty, self.alpha, self.l1_ratio)
        return value, [gW, gb]

    def loss(self, params, X, Y, sw):
        """The objective on (X, Y): the early-stopping validation loss, once an epoch.

        Where the compiled loops train this fit, a compiled pass computes it too: a BLAS
        product here would leave BLAS's threads spinning on the cores the next epoch
        needs (measured 1.5x slower). Both ways agree to rounding.
        """
        value = self._compiled_loss(params, X, Y, sw)
        if value is None:
            value, _ = mean_loss_and_gradient(self.point_loss, self.scores(params, X), Y, sw)
        return value + penalty_value(params[0], self.penalty, self.alpha, self.l1_ratio)

    def _compiled_loss(self, params, X, Y, sw) -> float | None:
        """The mean loss from ``descent.kernels.runner.data_pass``, or None to use NumPy."""
        if self.optimizer is None or Y.ndim != 2 or Y.shape[1] != 1:
            return None
        from ..kernels.runner import LOSS_CODES, data_kernels, data_pass

        if self.point_loss.name not in LOSS_CODES or X.shape[0] == 0:
            return None
        kernels = data_kernels(X, sw)
        if kernels is None:
            return None
        Wr, br = self.raw(*params)
        y = np.ascontiguousarray(Y[:, 0], dtype=X.dtype)
        weights = (np.empty(0, dtype=X.dtype) if sw is None
                   else np.ascontiguousarray(sw, dtype=X.dtype))
        value, _, _, _ = data_pass(kernels, X, y, weights, np.empty(0, dtype=np.int64), 0,
                                   X.shape[0], np.ascontiguousarray(Wr[:, 0], dtype=X.dtype),
                                   float(br[0]), LOSS_CODES[self.point_loss.name])
        return value

    def compiled(self, params, X, Y, sw, batch_size, opt_state):
        """A runner of the compiled loops for this fit, or None where NumPy must run it."""
        if self.optimizer is None or Y.shape[1] != 1:
            return None
        from ..kernels.runner import LinearRunner

        return LinearRunner.create(self, params, X, Y, sw, batch_size, opt_state)


class _LinearModel(GradientDescentEstimator):
    """Shared pieces of the linear estimators."""

    _loss_name: str = ""

    def _loss(self) -> Loss:
        return get_loss(self._loss_name)

    def _start(self, X, Y, sw):
        super()._start(X, Y, sw)
        if not self.fit_intercept and self._x_mean is not None:
            self._x_mean = np.zeros_like(self._x_mean)  # scale only: no implied intercept
            self._x_constant = None  # uncentred, a constant column is the intercept: trained
            if self._y_mean is not None:
                self._y_mean = np.zeros_like(self._y_mean)

    def _init_params(self, n_features, n_outputs, dtype, rng):
        if self.init == "random":
            W = rng.normal(scale=0.01, size=(n_features, n_outputs)).astype(dtype)
        else:
            W = np.zeros((n_features, n_outputs), dtype=dtype)
        return [W, np.zeros(n_outputs, dtype=dtype)]

    def _intercept_is_centred(self) -> bool:
        """True when centring alone gives the best intercept: it is not descended on.

        For the squared error on features and target centred (``standardize=True``) on
        the very rows and weights a fit trains on, the best intercept in standardized
        units is exactly 0 whatever the coefficients (the mean residual is
        b + mean(Xs) W - mean(Y) = b), so the intercept in the user's units is
        ``y_mean - x_mean . coef_``, as scikit-learn's least-squares models compute it.
        Descending on it instead means descending on a gradient that is rounding noise,
        which Adam and RMSprop, whose steps do not shrink with the gradient, turn into
        steps of the learning rate's size: the intercept ends off by that much, and
        differently on the NumPy and compiled paths.
        """
        return (self.fit_intercept and self._y_mean is not None and self._x_mean is not None
                and getattr(self._loss(), "name", "") == "squared_error"
                and getattr(self, "_same_rows_as_scaling", False))

    def _objective(self, n_samples: int) -> LinearObjective:
        penalty, alpha, l1_ratio = self._penalty_args(n_samples)
        total_steps = max(self.epochs * self._steps_per_epoch, 1)  # as _learning_rate_at
        return LinearObjective(
            point_loss=self._loss(), penalty=penalty, alpha=alpha, l1_ratio=l1_ratio,
            x_mean=self._x_mean, x_scale=self._fold_scale(),
            fit_intercept=self.fit_intercept and not self._intercept_is_centred(),
            optimizer=self.optimizer, rates=schedule_rates(
                self.schedule, self.learning_rate, self._learning_rate_at(), total_steps),
        )

    def _raw_params(self, params) -> tuple[np.ndarray, np.ndarray]:
        """coef (n_outputs, n_features) and intercept (n_outputs,) in the user's units."""
        W, b = params
        if self._x_scale is not None:
            W = W / self._x_scale[:, None]
            b = b - self._x_mean @ W
        if self._y_scale is not None:
            W = W * self._y_scale
            b = b * self._y_scale + self._y_mean
        return W.T, b

    def _user_params(self, params):
        coef, intercept = self._raw_params(params)
        return coef.copy(), intercept.copy()

    def _set_fitted(self, params) -> None:
        self.coef_, self.intercept_ = self._user_params(params)

    def _decision(self, X) -> np.ndarray:
        """The scores X @ coef_.T + intercept_ (one column per output, squeezed if one)."""
        self._fitted_check()
        X = rows_to_predict(self, X)
        S = X @ np.atleast_2d(self.coef_).T + self.intercept_
        return S[:, 0] if S.shape[1] == 1 else S


class _LinearClassifier(LabelOutputs, ClassifierMixin, _LinearModel):
    """Linear scores, read as labels."""


_COMMON_DOC = """
    Parameters shared by every descent estimator:
        learning_rate: step size (default chosen per estimator, see below).
        epochs: passes over the data.
        batch_size: None for full batch, an int for mini-batches, 1 for stochastic descent,
            or "auto": 32 rows, or for large data the largest power of two up to 256 that
            leaves at least 500 steps an epoch (64 rows from 32,000 samples, 128 from
            64,000, 256 from 128,000): fewer, less noisy and cheaper steps where there are
            rows enough.
        shuffle: reshuffle the rows before each epoch of mini-batches.
        optimizer: "gd" (the seeds' step), "momentum", "nesterov", "adagrad", "rmsprop", "adam".
        schedule: "constant", "step", "exponential", "inverse_scaling", "cosine", a
            callable step -> learning rate, or None (the default): "inverse_scaling"
            (learning_rate / (step + 1) ** 0.25) for "adam" and "rmsprop", whose steps keep
            their size near the optimum, and "constant" for the textbook optimizers.
"""
_PENALTY_DOC = """        penalty, alpha, l1_ratio: the objective adds alpha * R(w) with
            R = 1/2 ||w||^2 ("l2"), ||w||_1 ("l1") or
            l1_ratio ||w||_1 + (1 - l1_ratio) 1/2 ||w||^2 ("elasticnet");
            the intercept is never penalized. L1 steps stop at zero instead of crossing it.
"""
_COMMON_DOC += _PENALTY_DOC + """        fit_intercept: learn b (else b = 0).
        init: "zeros" or "random" (small normal values) for the starting weights.
        tol, n_iter_no_change: stop when the monitored loss has not improved by tol for
            n_iter_no_change epochs (tol=None runs every epoch).
        early_stopping, validation_fraction: monitor a held-out split instead of the
            training loss, and keep the best parameters seen.
        warm_start: fit() continues from the previous fit.
        callbacks: callables (estimator, epoch, logs) -> True to stop.
        verbose: log each epoch on the "descent" logger (INFO).
        random_state: seed for shuffling, splits and random init; same seed, same bits.
        standardize: train on standardized features (and target, for regressors) and fold
            the scaling back into coef_ and intercept_; False descends on raw features
            exactly as the seeds do.
        record_path: keep (coef, intercept) after every step in history_.path.

    Attributes:
        coef_, intercept_: the fitted model in the user's units.
        n_features_in_: number of features seen in fit.
        n_iter_: epochs run.
        history_: a descent.models.History: per-epoch loss, validation loss, gradient
            norm, learning rate and time (and the path when record_path=True).
"""


class LinearRegression(RegressorMixin, _LinearModel):
    __doc__ = """Linear regression trained by gradient descent on square or absolute error.

    The objective is the mean over points of 1/2 (y - yhat)^2 ("squared_error") or
    |y - yhat| ("absolute_error") plus the penalty. At batch size 1 a plain "gd" step
    is the seeds' square trick w += lr (y - yhat) x, or absolute trick
    w += lr sign(y - yhat) x.

    Defaults: Adam at learning_rate=0.01 in mini-batches of 32 rows (batch_size="auto":
    up to 256 for large data), up to 1000 epochs on standardized data, which fits
    features and targets of any scale without tuning.
    """ + _COMMON_DOC + """
    Example:
        >>> import numpy as np
        >>> X = np.array([[1.0], [2.0], [3.0], [5.0], [6.0], [7.0]])
        >>> y = np.array([155.0, 197.0, 244.0, 356.0, 407.0, 448.0])
        >>> model = LinearRegression(optimizer="gd", learning_rate=0.1, batch_size=None,
        ...                          epochs=2000, tol=None).fit(X, y)
        >>> model.coef_.round(2), round(float(model.intercept_), 2)
        (array([50.39]), 99.6)
    """

    def __init__(
        self, loss="squared_error", *, learning_rate=0.01, epochs=1000, batch_size="auto",
        shuffle=True, optimizer="adam", schedule=None, penalty=None, alpha=0.0001,
        l1_ratio=0.15, fit_intercept=True, init="zeros", tol=1e-5, early_stopping=False,
        validation_fraction=0.1, n_iter_no_change=10, warm_start=False, callbacks=None,
        verbose=0, random_state=None, standardize=True, record_path=False,
    ):
        store_init_args(self, locals())

    def _check_params(self):
        if self.loss not in ("squared_error", "absolute_error"):
            raise ValueError(
                f"LinearRegression: loss must be 'squared_error' or 'absolute_error', "
                f"got {self.loss!r}"
            )
        super()._check_params()

    def _loss(self) -> Loss:
        return get_loss(self.loss)

    def _encode_targets(self, y) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)[:, None]

    def _set_fitted(self, params) -> None:
        coef, intercept = self._user_params(params)
        self.coef_, self.intercept_ = coef[0], float(intercept[0])

    def predict(self, X) -> np.ndarray:
        """Predictions X @ coef_ + intercept_."""
        return self._decision(X)
