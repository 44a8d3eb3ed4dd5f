"""Neural networks: layers of weights and activations trained by backpropagation.

Grokking Machine Learning (appendix B) works out the backward pass for one hidden
sigmoid layer and one point;
this module does it for any number of layers and a whole batch at once. The
backward pass is written by hand (fused, in ``backprop``, its elementwise passes compiled
where Numba runs: ``descent.kernels.network``) for speed, and whole epochs run with Adam
fused in place (``network_epoch``); ``backprop="engine"`` runs the same network through
the computation-graph engine instead, and the tests hold them equal.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from .. import autodiff as ad
from ..losses import Loss, get_loss, mean_loss_and_gradient
from ..penalties import engine_penalty, penalty_value
from ._validation import rows_to_predict
from .backprop import ACTIVATIONS, Workspace
from .base import GradientDescentEstimator, store_init_args
from .linear import _COMMON_DOC
from .network_epoch import EpochRunner
from .outputs import LabelOutputs, LogisticOutputs


@dataclass
class NetworkObjective:
    """Mean loss of the network's output scores plus alpha * R(all weight matrices).

    params = [W1, b1, ..., WL, bL]; the first layer sees standardized features through
    the same folded affine change as the linear models (X itself is never rescaled).
    With ``optimizer`` (the estimator's) and ``learning_rate`` (its schedule) set, the
    training loop runs whole epochs through ``compiled`` (see ``network_epoch``).
    """

    point_loss: Loss
    activation: str
    penalty: str | None
    alpha: float
    l1_ratio: float
    x_mean: np.ndarray | None
    x_scale: np.ndarray | None
    n_layers: int
    backprop: str = "fused"
    optimizer: object = None
    learning_rate: object = None
    _workspace: Workspace | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def penalized(self) -> tuple[bool, ...]:
        """Weights are penalized, biases are not."""
        return tuple(i % 2 == 0 for i in range(2 * self.n_layers))

    def scores(self, params, X):
        act = ACTIVATIONS[self.activation].forward
        n_layers = len(params) // 2
        a = X
        for layer in range(n_layers):
            W, b = params[2 * layer], params[2 * layer + 1]
            if layer == 0 and self.x_scale is not None:
                W = W / self.x_scale[:, None]
                b = b - self.x_mean @ W
            a = a @ W + b
            if layer < n_layers - 1:
                a = act(a)
        return a

    def _penalty_value(self, params):
        return sum(penalty_value(W, self.penalty, self.alpha, self.l1_ratio) for W in params[0::2])

    def workspace(self, shapes, rows: int, dtype) -> Workspace:
        """Buffers for the backward pass on up to ``rows`` rows, kept while they fit."""
        if self._workspace is None or not self._workspace.fits(shapes, rows, dtype):
            self._workspace = Workspace(self, shapes, rows, dtype)
        return self._workspace

    def loss_and_grads(self, params, X, Y, sw):
        if self.backprop == "engine":
            return self._engine_loss_and_grads(params, X, Y, sw)
        dtype = np.result_type(X, *params)
        ws = self.workspace([p.shape for p in params], X.shape[0], dtype)
        value = ws.loss_and_grads(params, X, Y, sw)
        return value, [g.copy() for g in ws.grads]

    def compiled(self, params, X, Y, sw, batch_size, opt_state):
        """Whole epochs for the training loop, or None where its own steps must run."""
        return EpochRunner.create(self, params, X, Y, sw, batch_size, opt_state)

    def _engine_loss_and_grads(self, params, X, Y, sw):
        tensors = [ad.Tensor(p) for p in params]
        act = ACTIVATIONS[self.activation].engine
        a = X
        n_layers = len(params) // 2
        for layer in range(n_layers):
            W, b = tensors[2 * layer], tensors[2 * layer + 1]
            if layer == 0 and self.x_scale is not None:
                W = W / self.x_scale[:, None]
                b = b - ad.Tensor(self.x_mean, requires_grad=False) @ W
            a = a @ W + b
            if layer < n_layers - 1:
                a = act(a)
        points = self.point_loss.engine(a, Y)
        total = ad.mean(points) if sw is None else ad.sum(points * (sw / sw.sum()))
        if self.penalty is not None:
            for W in tensors[0::2]:
                total = total + engine_penalty(W, self.penalty, self.alpha, self.l1_ratio)
        total.backward()
        return total.item(), [t.grad for t in tensors]

    def loss(self, params, X, Y, sw):
        value, _ = mean_loss_and_gradient(self.point_loss, self.scores(params, X), Y, sw)
        return value + (self._penalty_value(params) if self.penalty is not None else 0.0)


class _Network(GradientDescentEstimator):
    """Shared pieces of the two networks."""

    def _check_params(self):
        sizes = self.hidden_layer_sizes
        sizes = (sizes,) if isinstance(sizes, numbers.Integral) else sizes
        if not all(isinstance(s, numbers.Integral) and s >= 1 for s in sizes):
            raise ValueError(
                f"{type(self).__name__}: hidden_layer_sizes must be positive integers, "
                f"got {self.hidden_layer_sizes!r}"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"{type(self).__name__}: activation must be one of {list(ACTIVATIONS)}, "
                f"got {self.activation!r}"
            )
        if self.backprop not in ("fused", "engine"):
            raise ValueError(f"backprop must be 'fused' or 'engine', got {self.backprop!r}")
        super()._check_params()

    def _sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        return (sizes,) if isinstance(sizes, numbers.Integral) else tuple(sizes)

    def _init_params(self, n_features, n_outputs, dtype, rng):
        widths = (n_features, *self._sizes(), n_outputs)
        params = []
        for fan_in, fan_out in zip(widths[:-1], widths[1:], strict=True):
            if self.init == "random":
                # Glorot's uniform range keeps the activations' spread similar layer to layer.
                bound = np.sqrt(6.0 / (fan_in + fan_out))
                W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
            else:
                W = np.zeros((fan_in, fan_out))
            params += [W.astype(dtype), np.zeros(fan_out, dtype=dtype)]
        return params

    def _objective(self, n_samples: int) -> NetworkObjective:
        return NetworkObjective(
            point_loss=self._loss(), activation=self.activation, penalty=self.penalty,
            alpha=self.alpha, l1_ratio=self.l1_ratio, x_mean=self._x_mean,
            x_scale=self._fold_scale(), n_layers=len(self._sizes()) + 1, backprop=self.backprop,
            optimizer=self.optimizer, learning_rate=self._learning_rate_at(),
        )

    def _user_params(self, params):
        """Weights and biases per layer with the scalings folded in (the user's units)."""
        coefs, intercepts = [p.copy() for p in params[0::2]], [p.copy() for p in params[1::2]]
        if self._x_scale is not None:
            W = coefs[0] / self._x_scale[:, None]
            intercepts[0] = intercepts[0] - self._x_mean @ W
            coefs[0] = W
        if self._y_scale is not None:
            coefs[-1] = coefs[-1] * self._y_scale
            intercepts[-1] = intercepts[-1] * self._y_scale + self._y_mean
        return coefs, intercepts

    def _set_fitted(self, params) -> None:
        self.coefs_, self.intercepts_ = self._user_params(params)

    def _decision(self, X) -> np.ndarray:
        self._fitted_check()
        X = rows_to_predict(self, X)
        act = ACTIVATIONS[self.activation].forward
        a = X
        for layer, (W, b) in enumerate(zip(self.coefs_, self.intercepts_, strict=True)):
            a = a @ W + b
            if layer < len(self.coefs_) - 1:
                a = act(a)
        return a[:, 0] if a.shape[1] == 1 else a


_NETWORK_DOC = """
        hidden_layer_sizes: the width of each hidden layer, e.g. (64,) or (32, 16).
        activation: "sigmoid" (the seeds'), "tanh", "relu" or "identity".
        backprop: "fused" (the hand-written backward pass) or "engine" (the same network
            through descent's computation graph; slower, for checking).

    Attributes (besides those above):
        coefs_, intercepts_: weight matrix and bias vector of each layer, in the user's units.
"""


class MLPClassifier(LogisticOutputs, LabelOutputs, ClassifierMixin, _Network):
    __doc__ = """A neural network classifier trained by backpropagation on the log loss.

    Two classes: one sigmoid output and the log loss (the network of Grokking Machine
    Learning, appendix B, with any
    number of hidden layers and mini-batches); more classes: softmax outputs and the
    multinomial log loss.

    Defaults: one hidden layer of 100 ReLU units, Glorot-uniform random start, Adam at
    learning_rate=0.01 in mini-batches of 32 rows (batch_size="auto":
    up to 256 for large data), a light L2 penalty, standardized inputs.
    """ + _COMMON_DOC + _NETWORK_DOC + """
    Example:
        >>> import numpy as np
        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 10, dtype=float)
        >>> y = np.array([0, 1, 1, 0] * 10)  # XOR: no line separates it
        >>> net = MLPClassifier((8,), activation="tanh", random_state=0).fit(X, y)
        >>> net.score(X, y)
        1.0
    """

    def __init__(
        self, hidden_layer_sizes=(100,), activation="relu", *, learning_rate=0.01, epochs=1000,
        batch_size="auto", shuffle=True, optimizer="adam", schedule=None, penalty="l2",
        alpha=0.0001, l1_ratio=0.15, init="random", tol=1e-5,
        early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, warm_start=False,
        callbacks=None, verbose=0, random_state=None, standardize=True, record_path=False,
        class_weight=None, backprop="fused",
    ):
        store_init_args(self, locals())

    def _loss(self) -> Loss:
        return get_loss("log_loss" if len(self.classes_) == 2 else "multinomial_log_loss")


class MLPRegressor(RegressorMixin, _Network):
    __doc__ = """A neural network regressor trained by backpropagation on the square error.

    Defaults: one hidden layer of 100 ReLU units, Adam at learning_rate=0.01 in
    mini-batches of 32 rows (batch_size="auto": up to 256 for large data), standardized
    inputs and target.
    """ + _COMMON_DOC + _NETWORK_DOC + """
    Example:
        >>> import numpy as np
        >>> X = np.linspace(-2, 2, 80)[:, None]
        >>> net = MLPRegressor((32,), activation="tanh", random_state=0).fit(X, X[:, 0] ** 2)
        >>> net.score(X, X[:, 0] ** 2) > 0.95
        True
    """

    def __init__(
        self, hidden_layer_sizes=(100,), activation="relu", *, learning_rate=0.01, epochs=1000,
        batch_size="auto", shuffle=True, optimizer="adam", schedule=None, penalty="l2",
        alpha=0.0001, l1_ratio=0.15, init="random", tol=1e-5,
        early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, warm_start=False,
        callbacks=None, verbose=0, random_state=None, standardize=True, record_path=False,
        backprop="fused",
    ):
        store_init_args(self, locals())

    def _loss(self) -> Loss:
        return get_loss("squared_error")

    def _encode_targets(self, y) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)[:, None]

    def predict(self, X) -> np.ndarray:
        """The network's output for each row."""
        return self._decision(X)
