"""Functions of two variables: contour maps and the 3-D surface, with the path."""

from __future__ import annotations

import numpy as np

from ..minimize import MinimizeResult
from ._common import evaluate, new_figure


def _grid(result: MinimizeResult, bounds, n: int = 120):
    path = np.asarray(result.path)
    if bounds is None:
        low, high = path.min(axis=0), path.max(axis=0)
        pad = 0.2 * np.maximum(high - low, 1.0)
        bounds = [(low[0] - pad[0], high[0] + pad[0]), (low[1] - pad[1], high[1] + pad[1])]
    xs = np.linspace(*bounds[0], n)
    ys = np.linspace(*bounds[1], n)
    X, Y = np.meshgrid(xs, ys)
    return X, Y


def _values(f, X, Y) -> np.ndarray:
    # f indexes its input as p[0], p[1]: give it a (2, n, n) stack of the grid.
    return evaluate(f, np.stack([X, Y]))


def plot_contour_path(f, result: MinimizeResult, *, bounds=None, levels: int = 30,
                      log: bool = False, title: str | None = None):
    """Contour lines of f(x, y) with the descent path drawn across them.

    Args:
        f: a function of a 2-vector p (use p[0] and p[1]).
        result: ``descent.minimize``'s result for it.
        bounds: [(x_low, x_high), (y_low, y_high)] to draw; by default around the path.
        log: space the contour levels logarithmically (for valleys like Rosenbrock's).

    Example:
        >>> import descent
        >>> f = lambda p: p[0] ** 2 + 3 * p[1] ** 2
        >>> r = descent.minimize(f, x0=[2.0, 1.0], learning_rate=0.1, epochs=30)
        >>> plot_contour_path(f, r).axes[0].get_xlabel()
        'x'
    """
    X, Y = _grid(result, bounds)
    Z = _values(f, X, Y)
    fig, (ax,) = new_figure(1, size=(6.0, 5.0))
    if log:
        low = max(np.min(Z), 1e-12)
        lv = np.geomspace(low, np.max(Z), levels) if np.max(Z) > low else levels
        ax.contour(X, Y, Z, levels=lv, cmap="viridis", linewidths=0.8)
    else:
        ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8)
    path = np.asarray(result.path)
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", markersize=3, linewidth=1)
    ax.plot(*path[0], "s", color="black", label="start")
    ax.plot(*path[-1], "*", color="gold", markersize=15, markeredgecolor="black", label="end")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best")
    ax.set_title(title or f"{result.status} after {result.n_steps} steps")
    fig.tight_layout()
    return fig


def plot_surface_path(f, result: MinimizeResult, *, bounds=None,
                      title: str = "Mount Errorest: the descent on the error surface"):
    """The surface z = f(x, y) in 3-D with the path walking down it.

    Example:
        >>> import descent
        >>> f = lambda p: p[0] ** 2 + p[1] ** 2
        >>> r = descent.minimize(f, x0=[1.5, -1.0], learning_rate=0.1, epochs=20)
        >>> plot_surface_path(f, r).axes[0].name
        '3d'
    """
    X, Y = _grid(result, bounds, n=60)
    Z = _values(f, X, Y)
    fig, (ax,) = new_figure(1, size=(7.0, 5.5), subplot_kw={"projection": "3d"})
    ax.plot_surface(X, Y, Z, cmap="viridis", alpha=0.6, linewidth=0)
    path = np.asarray(result.path)
    ax.plot(path[:, 0], path[:, 1], result.losses, "o-", color="tab:red", markersize=3)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("f")
    ax.set_title(title)
    fig.tight_layout()
    return fig
