"""Plots of functions of one variable and of training records."""

from __future__ import annotations

import numpy as np

from ..minimize import MinimizeResult
from ..models.history import History
from ._common import evaluate, new_figure, span


def plot_path_1d(f, result: MinimizeResult, *, bounds=None, tangents: bool = True,
                 title: str | None = None):
    """f(x) with the descent path on it, the tangent at each step, and the step sizes.

    Args:
        f: the function that was minimised (Tensor in, scalar out, broadcasting).
        result: what ``descent.minimize`` returned for it (a one-variable problem).
        bounds: the x range to draw; by default the path with some room.
        tangents: draw the tangent line at each visited point (the slope used).

    Example:
        >>> import descent
        >>> r = descent.minimize(lambda x: x ** 2, x0=2.0, learning_rate=0.2, epochs=10)
        >>> fig = plot_path_1d(lambda x: x ** 2, r)
        >>> len(fig.axes)
        2
    """
    path = np.ravel(result.path)
    low, high = span(path, bounds)
    xs = np.linspace(low, high, 400)
    fig, (ax, steps) = new_figure(2, size=(6.0, 4.0))
    ax.plot(xs, evaluate(f, xs), color="0.3", label="f(x)")
    ax.plot(path, result.losses, "o-", color="tab:red", markersize=4, label="descent path")
    if tangents:
        from ..autodiff import grad

        slope = grad(f)
        width = 0.08 * (high - low)
        for x, y in zip(path[:30], result.losses[:30], strict=False):
            s = float(slope(float(x)))
            ax.plot([x - width, x + width], [y - s * width, y + s * width], color="tab:blue",
                    linewidth=0.8, alpha=0.7)
    ax.plot(path[0], result.losses[0], "s", color="black", label="start")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(loc="best")
    ax.set_title(title or f"{result.status}: {result.n_steps} steps, x = {float(result.x):.4g}")
    steps.bar(np.arange(1, len(path)), np.abs(np.diff(path)), color="tab:red")
    steps.set_xlabel("step")
    steps.set_ylabel("step size |x_{i+1} - x_i|")
    steps.set_title("how far each step went")
    fig.tight_layout()
    return fig


def plot_restarts(f, result: MinimizeResult, *, bounds=None, title: str | None = None):
    """Every random restart's path, the local minima they reached and the best one.

    Example:
        >>> import descent
        >>> r = descent.minimize(lambda x: x ** 4 - 3 * x ** 2 + x, bounds=(-2, 2),
        ...                      restarts=3, learning_rate=0.01, random_state=0)
        >>> fig = plot_restarts(lambda x: x ** 4 - 3 * x ** 2 + x, r, bounds=(-2, 2))
        >>> len(fig.axes[0].lines) >= 4
        True
    """
    paths = [np.ravel(run.path) for run in result.runs]
    low, high = span(np.concatenate(paths), bounds)
    xs = np.linspace(low, high, 400)
    fig, (ax,) = new_figure(1, size=(7.0, 4.5))
    ax.plot(xs, evaluate(f, xs), color="0.3", label="f(x)")
    markers = "o^sDvP*X"
    for i, (run, path) in enumerate(zip(result.runs, paths, strict=True)):
        ax.plot(path, run.losses, "-", marker=markers[i % len(markers)], markevery=[0],
                markersize=7, alpha=0.8, label=f"start {i + 1}: {float(run.start):.3g}")
        ax.plot(float(run.x), run.fun, "x", color="black", markersize=8)
    ax.plot(float(result.x), result.fun, "*", color="gold", markersize=18,
            markeredgecolor="black", label=f"best: x = {float(result.x):.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or f"{len(result.runs)} random restarts; the best end point wins")
    fig.tight_layout()
    return fig


def plot_learning_rates(f, results: dict[float, MinimizeResult], *, bounds=None):
    """The same function descended with several learning rates, side by side.

    Each panel is titled with its rate and its number of steps, or "diverged".

    Example:
        >>> import descent
        >>> runs = {lr: descent.minimize(lambda x: x ** 2, x0=3.0, learning_rate=lr)
        ...         for lr in (0.01, 0.5, 1.1)}
        >>> titles = [ax.get_title() for ax in plot_learning_rates(lambda x: x ** 2, runs).axes]
        >>> titles[1:]
        ['learning rate 0.5: 1 step', 'learning rate 1.1: diverged']
    """
    fig, axes = new_figure(len(results), size=(4.5, 3.8))
    for ax, (lr, result) in zip(axes, results.items(), strict=True):
        path = np.ravel(result.path)
        low, high = span(path if result.status != "diverged" else path[:8], bounds)
        xs = np.linspace(low, high, 300)
        ax.plot(xs, evaluate(f, xs), color="0.3")
        shown = path if result.status != "diverged" else path[:8]
        ax.plot(shown, evaluate(f, shown), "o-", color="tab:red", markersize=4)
        outcome = "diverged" if result.status == "diverged" else (
            f"{result.n_steps} step" + ("s" if result.n_steps != 1 else ""))
        ax.set_title(f"learning rate {lr:g}: {outcome}")
        ax.set_xlabel("x")
    axes[0].set_ylabel("f(x)")
    fig.tight_layout()
    return fig


def plot_loss(history: History, *, log: bool = False, title: str = "loss by epoch"):
    """Training (and validation, when recorded) loss per epoch from ``history_``.

    Example:
        >>> h = History(epoch=[1, 2, 3], loss=[1.0, 0.5, 0.3])
        >>> plot_loss(h, log=True).axes[0].get_yscale()
        'log'
    """
    fig, (ax,) = new_figure(1)
    ax.plot(history.epoch, history.loss, "-o", markersize=3, label="training")
    if history.val_loss:
        ax.plot(history.epoch[: len(history.val_loss)], history.val_loss, "-o", markersize=3,
                label="validation")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend(loc="best")
    fig.tight_layout()
    return fig
