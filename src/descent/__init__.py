"""descent: gradient descent you can watch, check and scale.

The public API lives here; submodules hold the pieces:
``descent.autodiff`` (the computation-graph engine), ``descent.optim``
(optimizers as (init, update) pairs) and ``descent.minimize``.
"""

from importlib import metadata as _metadata

from . import optim
from .autodiff import (
    Tensor,
    abs,
    check_grad,
    cos,
    exp,
    grad,
    log,
    log_loss_with_logits,
    log_sigmoid,
    log_softmax,
    logsumexp,
    maximum,
    mean,
    minimum,
    numerical_grad,
    relu,
    show_graph,
    sigmoid,
    sin,
    softmax,
    softplus,
    sqrt,
    sum,
    tanh,
    to_dot,
    value_and_grad,
    where,
)
from .minimize import MinimizeResult, Run, StartError, minimize
from .model_io import ModelFileError, load
from .models import (
    DivergenceError,
    FitInterruptedWarning,
    History,
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    LRFindResult,
    MLPClassifier,
    MLPRegressor,
    Perceptron,
    lr_find,
)

try:
    __version__ = _metadata.version("descent")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = [
    "Tensor", "grad", "value_and_grad", "numerical_grad", "check_grad", "show_graph", "to_dot",
    "exp", "log", "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "softplus",
    "maximum", "minimum", "where", "sum", "mean", "logsumexp", "softmax", "log_softmax",
    "log_sigmoid", "log_loss_with_logits", "optim", "minimize", "MinimizeResult", "Run",
    "LinearRegression", "Perceptron", "LogisticRegression", "LinearSVC", "MLPClassifier",
    "MLPRegressor", "History", "LRFindResult", "lr_find", "load", "ModelFileError",
    "DivergenceError", "FitInterruptedWarning", "StartError",
]
