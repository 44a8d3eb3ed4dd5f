"""The functions the models are built from: activations and error functions."""

from __future__ import annotations

import numpy as np

from .. import numerics
from ._common import new_figure

ACTIVATION_FORMULAS = {
    "step": "1 if z >= 0 else 0",
    "sigmoid": "1 / (1 + exp(-z))",
    "relu": "max(0, z)",
    "tanh": "tanh(z)",
    "identity": "z",
    "softplus": "log(1 + exp(z))",
}
_ACTIVATIONS = {
    "sigmoid": numerics.sigmoid,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "identity": lambda z: z,
    "softplus": numerics.softplus,
}


def _draw_step(ax, low: float, high: float) -> None:
    # Two flat pieces with a break between them (NaN), so no ramp is drawn at 0; the
    # filled dot says that a score of exactly 0 counts as 1, as the models predict.
    ax.plot([low, 0.0, np.nan, 0.0, high], [0.0, 0.0, np.nan, 1.0, 1.0], color="tab:blue",
            linewidth=2)
    ax.plot([0.0], [0.0], "o", markerfacecolor="white", markeredgecolor="tab:blue")
    ax.plot([0.0], [1.0], "o", color="tab:blue")


def plot_activations(names=("step", "sigmoid", "relu", "tanh")):
    """One panel per activation function on z in [-5, 5].

    Args:
        names: any of "step", "sigmoid", "relu", "tanh", "identity", "softplus".

    Example:
        >>> [ax.get_title() for ax in plot_activations(("step", "relu")).axes]
        ['step: 1 if z >= 0 else 0', 'relu: max(0, z)']
    """
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in ACTIVATION_FORMULAS]
    if unknown or not names:
        raise ValueError(
            f"unknown activation(s) {unknown}; choose from {list(ACTIVATION_FORMULAS)}"
        )
    fig, axes = new_figure(len(names), size=(3.2, 3.0))
    z = np.linspace(-5.0, 5.0, 401)
    for ax, name in zip(axes, names, strict=True):
        ax.axhline(0.0, color="0.8", linewidth=0.8)
        if name == "step":
            _draw_step(ax, z[0], z[-1])
        else:
            # The z = 0 guide is left off the step, where it would read as a ramp.
            ax.axvline(0.0, color="0.8", linewidth=0.8)
            ax.plot(z, _ACTIVATIONS[name](z), color="tab:blue", linewidth=2)
        ax.set_title(f"{name}: {ACTIVATION_FORMULAS[name]}", fontsize=9)
        ax.set_xlabel("z")
    axes[0].set_ylabel("activation(z)")
    fig.tight_layout()
    return fig


def plot_error_functions():
    """The log loss's two branches over p, and the perceptron and hinge errors over the score.

    The left panel shows -log(p) (label 1) and -log(1 - p) (label 0). They are computed
    from the score z with p = sigmoid(z), as softplus(-z) and softplus(z), so no
    log(0) is ever taken. The right panel shows, for a score s: the perceptron error
    (0 when right, |s| when wrong) and the hinge error max(0, 1 - s) (label 1) or
    max(0, 1 + s) (label 0).

    Example:
        >>> left, right = plot_error_functions().axes
        >>> [line.get_label() for line in left.lines]
        ['label 1: -log(p)', 'label 0: -log(1 - p)']
    """
    fig, (log_ax, score_ax) = new_figure(2, size=(5.0, 4.0))
    z = np.linspace(-7.0, 7.0, 400)  # p from about 0.001 to 0.999
    p = numerics.sigmoid(z)
    log_ax.plot(p, numerics.softplus(-z), color="tab:red", label="label 1: -log(p)")
    log_ax.plot(p, numerics.softplus(z), color="tab:blue", label="label 0: -log(1 - p)")
    log_ax.set_xlabel("predicted probability p of label 1")
    log_ax.set_ylabel("error")
    log_ax.set_title("log loss: confident and wrong costs most")
    log_ax.legend(loc="upper center", fontsize=8)

    s = np.linspace(-3.0, 3.0, 301)
    score_ax.axvline(0.0, color="0.8", linewidth=0.8)
    score_ax.plot(s, np.maximum(-s, 0.0), color="tab:red", label="perceptron, label 1")
    score_ax.plot(s, np.maximum(s, 0.0), color="tab:blue", label="perceptron, label 0")
    score_ax.plot(s, np.maximum(1.0 - s, 0.0), "--", color="tab:red", label="hinge, label 1")
    score_ax.plot(s, np.maximum(1.0 + s, 0.0), "--", color="tab:blue", label="hinge, label 0")
    score_ax.set_xlabel("score s = w.x + b")
    score_ax.set_ylabel("error")
    score_ax.set_title("perceptron and hinge errors")
    score_ax.legend(loc="upper center", fontsize=8)
    fig.tight_layout()
    return fig
