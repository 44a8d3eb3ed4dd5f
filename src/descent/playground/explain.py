"""One training point's update, as the seeds write it by hand, computed by the estimator.

A copy of the session's estimator takes one plain gradient-descent step (``optimizer="gd"``,
batch size 1, the session's learning rate) on the chosen point with ``partial_fit``,
recording its path: the weights before and after are the path's two points, and the
gradient is (before - after) / learning rate, so every number is the estimator's own.
The session's model itself does not move. For a network the output layer is shown (the
hidden layers move too, by backpropagation).
"""

from __future__ import annotations

import copy

import numpy as np
from sklearn.base import clone

from .. import numerics
from ..losses import get_loss
from ..models import DivergenceError
from ..models.backprop import ACTIVATIONS
from .errors import InputError
from .model_setup import loss_name
from .snapshot import encoded, number, scores

RULES = {
    "perceptron": "perceptron trick: ŷ = 1 if w·x + b ≥ 0 else 0; a misclassified point moves "
                  "the line towards itself: w ← w + η (y − ŷ) x, b ← b + η (y − ŷ); a point "
                  "classified right changes nothing",
    "logistic": "logistic trick: ŷ = σ(w·x + b); w ← w + η (y − ŷ) x, b ← b + η (y − ŷ) "
                "(the gradient of the log loss is −(y − ŷ) x)",
    "svm": "hinge step: t = ±1 (2y − 1), s = w·x + b; inside the margin (t s < 1) "
           "w ← w + η t x − η α w and b ← b + η t; outside it only the L2 term pulls: "
           "w ← w − η α w (α = 1 / (C n))",
    "linear": "square trick: ŷ = w·x + b; w ← w + η (y − ŷ) x, b ← b + η (y − ŷ) "
              "(the gradient of ½ (y − ŷ)² is −(y − ŷ) x)",
    "mlp-classification": "output layer, logistic trick on the last hidden layer's outputs h: "
                          "ŷ = σ(w·h + b); w ← w + η (y − ŷ) h, b ← b + η (y − ŷ) (the hidden "
                          "layers move too, by backpropagation)",
    "mlp-regression": "output layer, square trick on the last hidden layer's outputs h: "
                      "ŷ = w·h + b; w ← w + η (y − ŷ) h, b ← b + η (y − ŷ) (the hidden layers "
                      "move too, by backpropagation)",
}
PENALTY_RULES = {"l2": " − η α w (the L2 penalty shrinks every weight)",
                 "l1": " − η α sign(w) (the L1 penalty, stopping at 0 instead of crossing it)"}


def _stepper(session):
    """A copy of the estimator that will take one plain step on one point."""
    estimator = session.estimator
    if hasattr(estimator, "history_"):
        stepper = copy.deepcopy(estimator)
        stepper._opt_state = None  # plain gd starts its own state; the session's may be Adam's
        stepper.history_.path = []
    else:
        stepper = clone(estimator)  # not trained yet: it starts where the session's will
    stepper.set_params(optimizer="gd", batch_size=1, schedule="constant", record_path=True)
    if session.settings["model"] == "svm":
        # Its L2 strength is 1 / (C n) with n the rows of the call: one row here, all the
        # training rows in the session's epochs. Keep the session's.
        stepper.set_params(C=estimator.C * len(session.Z_train))
    return stepper


def _output_layer(params):
    """(weights, bias) of the output layer from a path point, as flat arrays."""
    coefs, intercepts = params
    if isinstance(coefs, list):
        return np.asarray(coefs[-1])[:, 0], float(np.asarray(intercepts[-1])[0])
    return np.asarray(coefs).reshape(-1), float(np.asarray(intercepts).reshape(-1)[0])


def _layer_inputs(session, params, z):
    """What the shown weights multiply: the features, or the last hidden layer's outputs."""
    coefs, intercepts = params
    if not isinstance(coefs, list):
        return dict(zip(session.features, z.tolist(), strict=True))
    act = ACTIVATIONS[session.settings["activation"]].forward
    a = z[None, :]
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        a = act(a @ W + b)
    return {f"h{j + 1}": float(v) for j, v in enumerate(a[0])}


def explain_point(session, index: int) -> dict:
    """The explain reply of docs/playground.md for training point ``index``."""
    settings, data = session.settings, session.data
    z, y = session.Z_train[index], data.y_train[index:index + 1]
    stepper = _stepper(session)
    try:
        with np.errstate(all="ignore"):  # thread-local, unlike warnings.catch_warnings
            stepper.partial_fit(z[None, :], y, classes=data.classes or None)
    except DivergenceError as err:
        raise InputError("point", f"the step on this point diverged: {err}") from None
    before_params, after_params = stepper.history_.path[0], stepper.history_.path[-1]
    (w0, b0), (w1, b1) = _output_layer(before_params), _output_layer(after_params)
    rate = settings["learning_rate"]

    model_name = settings["model"]
    loss = get_loss(loss_name(model_name, data.task))
    s = scores(session.model(), z[None, :])[:1, None]
    target = encoded(y, data.classes)[:, None]
    if model_name == "perceptron":
        prediction = float(s[0, 0] >= 0)
    elif data.task == "classification" and model_name != "svm":
        prediction = float(numerics.sigmoid(s)[0, 0])
    else:
        prediction = float(s[0, 0])
    rule = RULES.get(model_name) or RULES[f"{model_name}-{data.task}"]
    if settings["penalty"] in PENALTY_RULES and model_name != "svm":
        rule += "; then" + PENALTY_RULES[settings["penalty"]]
    return {
        "point": index,
        "x": dict(zip(session.features, [number(v) for v in z], strict=True)),
        "inputs": {k: number(v) for k, v in _layer_inputs(session, before_params, z).items()},
        "target": number(target[0, 0]),
        "label": data.classes[int(target[0, 0])] if data.classes else None,
        "score": number(s[0, 0]),
        "prediction": number(prediction),
        # the factor the rule multiplies x by: -dLoss/dscore from descent's loss table
        "error": number(-loss.point_gradient(s, target)[0, 0] + 0.0),
        "loss": number(loss.point_values(s, target)[0]),
        "gradient": {"weights": [number(v) for v in (w0 - w1) / rate],
                     "bias": number((b0 - b1) / rate)},
        "learning_rate": rate,
        "before": {"weights": [number(v) for v in w0], "bias": number(b0)},
        "after": {"weights": [number(v) for v in w1], "bias": number(b1)},
        "rule": rule,
    }
