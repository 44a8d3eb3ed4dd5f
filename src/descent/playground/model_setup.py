"""Which descent estimator each model of the lab is, and how it is set up.

Every model trains with ``partial_fit``, one epoch per call, on the raw features
(``standardize=False``: the weights drawn are the weights used), with no early stop
(``tol=None``) and the user's optimizer, rate, batch size, penalty and seed. The linear
models start from zero weights (the seeds' start), the networks from Glorot's random ones.

Example:
    >>> model = build_estimator("logistic", "classification", n_train=100, learning_rate=0.1)
    >>> type(model).__name__, model.learning_rate, model.standardize
    ('LogisticRegression', 0.1, False)
"""

from __future__ import annotations

from ..models import (
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    Perceptron,
)
from ..models._validation import OPTIMIZER_NAMES
from ..models.backprop import ACTIVATIONS
from .errors import InputError

#: name -> (label, task: "classification", "regression" or "both").
MODELS = {
    "perceptron": ("Perceptron", "classification"),
    "logistic": ("Logistic regression", "classification"),
    "svm": ("Linear SVM", "classification"),
    "linear": ("Linear regression", "regression"),
    "mlp": ("Neural network (MLP)", "both"),
}

#: The estimator's own loss for each model, from ``descent.losses``: what train_loss and
#: test_loss report (the mean over the points, without the penalty).
LOSS_NAMES = {"perceptron": "perceptron", "logistic": "log_loss", "svm": "hinge",
              "linear": "squared_error", ("mlp", "classification"): "log_loss",
              ("mlp", "regression"): "squared_error"}

ACTIVATION_NAMES = tuple(ACTIVATIONS)
OPTIMIZERS = OPTIMIZER_NAMES


class SetupError(InputError):
    """A model cannot be built from these settings (422); ``field`` is the setting at
    fault."""


def loss_name(model: str, task: str) -> str:
    """The name in ``descent.losses`` of the loss this model trains on."""
    return LOSS_NAMES.get(model) or LOSS_NAMES[(model, task)]


def estimator_class(model: str, task: str):
    """The descent estimator class for ``model`` on a ``task`` data set."""
    if model not in MODELS:
        raise SetupError("model", f"unknown model {model[:40]!r}; choose one of "
                         f"{', '.join(MODELS)}")
    wanted = MODELS[model][1]
    if wanted not in ("both", task):
        fits = [name for name, (_, t) in MODELS.items() if t in ("both", task)]
        raise SetupError("model", f"{MODELS[model][0]} is for {wanted}, but this data set is "
                         f"{task}; choose {', '.join(fits)}")
    return {
        "perceptron": Perceptron, "logistic": LogisticRegression, "svm": LinearSVC,
        "linear": LinearRegression,
        "mlp": MLPClassifier if task == "classification" else MLPRegressor,
    }[model]


def estimator_params(model: str, task: str, n_train: int, *, learning_rate: float = 0.03,
                     batch_size: int = 10, optimizer: str = "gd", penalty: str | None = None,
                     alpha: float = 0.0, seed: int = 0, hidden_layers=(4, 2),
                     activation: str = "tanh") -> dict:
    """The keyword arguments of the estimator: what ``build_estimator`` passes and what the
    exported script writes out.

    The linear SVM has no penalty setting (its L2 term is part of the model): ``alpha``
    sets its C = 1 / (alpha n_train), so its objective is mean hinge + alpha/2 ||w||^2;
    alpha = 0 keeps scikit-learn's C = 1.
    """
    params = dict(learning_rate=learning_rate, batch_size=batch_size, optimizer=optimizer,
                  standardize=False, tol=None, random_state=seed)
    if model == "svm":
        if penalty == "l1":
            raise SetupError("penalty", "the linear SVM's penalty is always L2 (it is what "
                             "widens the margin); choose none or l2, and set its strength "
                             "with alpha")
        params["C"] = 1.0 / (alpha * n_train) if alpha > 0 else 1.0
    else:
        params.update(penalty=penalty, alpha=alpha if penalty else 0.0)
    if model == "mlp":
        params.update(hidden_layer_sizes=tuple(hidden_layers), activation=activation)
    return params


def build_estimator(model: str, task: str, n_train: int, **settings):
    """A fresh, unfitted estimator for the lab (see ``estimator_params`` for ``settings``)."""
    cls = estimator_class(model, task)
    return cls(**estimator_params(model, task, n_train, **settings))
