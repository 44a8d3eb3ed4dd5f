"""Pictures of fitted estimators: the line, the boundary, the network, the penalty, the loss."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import LinearSegmentedColormap, ListedColormap
from matplotlib.lines import Line2D
from sklearn.utils.validation import check_is_fitted

from ..models.history import History
from ._common import new_figure

# One colour and one marker per class, so labels read even in grey print.
CLASS_COLORS = ["tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple", "tab:brown",
                "tab:pink", "tab:olive", "tab:cyan", "tab:gray"]
CLASS_MARKERS = "o^sDvP*Xph"
POSITIVE, NEGATIVE = "tab:blue", "tab:red"


def _features(X, needed: int, what: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim == 1 and needed == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != needed:
        got = X.shape[1] if X.ndim == 2 else f"an array of shape {X.shape}"
        raise ValueError(
            f"{what} draws data with exactly {needed} feature(s), got {got}; pick columns "
            f"(e.g. X[:, :{needed}]) and fit the model on them"
        )
    return X


def _padded(values: np.ndarray, fraction: float = 0.08) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    pad = fraction * max(high - low, 1e-9)
    return low - pad, high + pad


# ----- regression ---------------------------------------------------------------------------
def _predict_with(model, params, xs: np.ndarray) -> np.ndarray:
    """The model's output at xs for one recorded point of ``history_.path``."""
    coef, intercept = params
    if isinstance(coef, list):  # a network: lists of weight matrices and bias vectors
        from ..models.mlp import ACTIVATIONS

        act = ACTIVATIONS[model.activation][0]
        a = xs[:, None]
        for layer, (W, b) in enumerate(zip(coef, intercept, strict=True)):
            a = a @ W + b
            if layer < len(coef) - 1:
                a = act(a)
        return a[:, 0]
    return xs * np.ravel(coef)[0] + np.ravel(intercept)[0]


def _default_epochs(n_epochs: int, count: int = 6) -> list[int]:
    # Most of the movement happens early, so space the epochs geometrically.
    later = np.geomspace(1, max(n_epochs, 1), count - 1).round().astype(int)
    return sorted({0, *later.tolist()})


def plot_regression_fit(model, X, y, *, epochs=None, title: str | None = None):
    """One-feature data, the fitted line, and (with ``record_path=True``) earlier lines.

    Args:
        model: a fitted regressor with one input feature (``LinearRegression``,
            ``MLPRegressor`` or any estimator with ``predict``).
        X, y: the data, X of shape (n, 1).
        epochs: which epochs to draw from ``model.history_.path`` (0 is the start);
            by default about six, spread geometrically over the run. Later epochs are darker.

    Example:
        >>> import numpy as np, descent
        >>> X, y = np.array([[1.0], [2.0], [3.0]]), np.array([2.0, 4.1, 5.9])
        >>> m = descent.LinearRegression(epochs=20, record_path=True).fit(X, y)
        >>> ax = plot_regression_fit(m, X, y).axes[0]
        >>> ax.get_legend_handles_labels()[1][-1]
        'fitted'
    """
    check_is_fitted(model)
    X = _features(X, 1, "plot_regression_fit")
    y = np.asarray(y, dtype=float).ravel()
    x_low, x_high = _padded(X[:, 0])
    xs = np.linspace(x_low, x_high, 200)
    fig, (ax,) = new_figure(1, size=(6.5, 4.5))
    ax.scatter(X[:, 0], y, s=25, color="0.2", zorder=3, label="data")
    history = getattr(model, "history_", None)
    path = list(getattr(history, "path", None) or [])
    if path:
        n_epochs = max(len(history), 1)
        per_epoch = max((len(path) - 1) // n_epochs, 1)  # path holds every step
        chosen = _default_epochs(n_epochs) if epochs is None else sorted(set(epochs))
        if chosen and not 0 <= min(chosen) <= max(chosen) <= n_epochs:
            raise ValueError(f"epochs must lie in [0, {n_epochs}], got {chosen}")
        shades = np.linspace(0.25, 0.85, max(len(chosen), 1))
        for shade, epoch in zip(shades, chosen, strict=False):
            params = path[min(epoch * per_epoch, len(path) - 1)]
            ax.plot(xs, _predict_with(model, params, xs), color=(0, 0, 0.6, shade),
                    linewidth=1, label=f"epoch {epoch}")
    ax.plot(xs, model.predict(xs[:, None]), color="tab:red", linewidth=2.2, label="fitted")
    # Keep the data in view: early lines may start far away (at zero).
    ax.set_ylim(*_padded(y, 0.25))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best", fontsize=8)
    if title is None and hasattr(model, "coef_") and np.size(model.coef_) == 1:
        title = (f"{type(model).__name__}: y = {float(np.ravel(model.coef_)[0]):.4g} x + "
                 f"{float(np.ravel(model.intercept_)[0]):.4g}")
    ax.set_title(title or f"{type(model).__name__}: the fitted curve")
    fig.tight_layout()
    return fig


# ----- classification -----------------------------------------------------------------------
def plot_decision_boundary(model, X, y, *, resolution: int = 200, title: str | None = None):
    """A two-feature classifier's regions, its boundary, and the points by label.

    Binary models with ``predict_proba`` colour the plane by the probability of the
    second class; others by the predicted class. The boundary is where
    ``decision_function`` is 0 (probability 0.5); the line carries the gid
    ``"decision boundary"``.

    Example:
        >>> import numpy as np, descent
        >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [2.0, 0.0], [2.0, 1.0]])
        >>> m = descent.LogisticRegression(epochs=50).fit(X, [0, 0, 1, 1])
        >>> fig = plot_decision_boundary(m, X, [0, 0, 1, 1], resolution=30)
        >>> fig.axes[0].get_xlabel()
        'feature 1'
    """
    check_is_fitted(model)
    X = _features(X, 2, "plot_decision_boundary")
    y = np.asarray(y)
    (x0, x1), (y0, y1) = _padded(X[:, 0], 0.1), _padded(X[:, 1], 0.1)
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    classes = np.asarray(getattr(model, "classes_", np.unique(y)))
    predicted = np.searchsorted(classes, model.predict(grid)).reshape(gx.shape)
    fig, (ax,) = new_figure(1, size=(6.0, 5.0))
    binary = len(classes) == 2
    if binary and hasattr(model, "predict_proba"):
        proba = model.predict_proba(grid)[:, 1].reshape(gx.shape)
        fade = LinearSegmentedColormap.from_list("classes", [CLASS_COLORS[0], "white",
                                                             CLASS_COLORS[1]])
        filled = ax.contourf(gx, gy, proba, levels=np.linspace(0, 1, 11), cmap=fade, alpha=0.5)
        fig.colorbar(filled, ax=ax, label=f"P(y = {classes[1]})")
    else:
        palette = ListedColormap(CLASS_COLORS[: len(classes)])
        ax.contourf(gx, gy, predicted, levels=np.arange(len(classes) + 1) - 0.5, cmap=palette,
                    alpha=0.25)
    if binary and hasattr(model, "decision_function"):
        scores = np.asarray(model.decision_function(grid), dtype=float).reshape(gx.shape)
        boundary = ax.contour(gx, gy, scores, levels=[0.0], colors="black", linewidths=1.5)
    else:
        boundary = ax.contour(gx, gy, predicted, levels=np.arange(len(classes) - 1) + 0.5,
                              colors="black", linewidths=1.5)
    boundary.set_gid("decision boundary")
    for k, label in enumerate(np.unique(y)):
        at = y == label
        ax.scatter(X[at, 0], X[at, 1], color=CLASS_COLORS[k % 10], marker=CLASS_MARKERS[k % 10],
                   edgecolors="black", linewidths=0.5, s=30, label=f"y = {label}", zorder=3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("feature 1")
    ax.set_ylabel("feature 2")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or f"{type(model).__name__}: regions and boundary")
    fig.tight_layout()
    return fig


# ----- networks -----------------------------------------------------------------------------
def _column(n: int, cap: int) -> tuple[list[int], np.ndarray, float | None]:
    """Which neurons of a layer to draw, their heights, and where the "⋮" goes (if any).

    A layer wider than ``cap`` shows its first and last few neurons around a gap.
    """
    if n <= cap:
        return list(range(n)), (n - 1) / 2 - np.arange(n), None
    head = cap // 2
    kept = list(range(head)) + list(range(n - (cap - 1 - head), n))
    slots = np.arange(cap, dtype=float)
    heights = (cap - 1) / 2 - np.delete(slots, head)
    return kept, heights, (cap - 1) / 2 - head


def plot_network(model, *, title: str | None = None, max_neurons: int = 12):
    """A fitted network as neurons in columns and weighted edges between them.

    Edge width grows with |weight| (scaled within each layer, so every layer reads) and
    the colour gives the sign: blue positive, red negative. Each neuron's bias is
    printed beside it. Layers wider than ``max_neurons`` show their first and last
    neurons around a "⋮"; the neurons of layer i are the scatter with gid ``"layer i"``
    and its outgoing edges the line collection with gid ``"weights i"``.

    Example:
        >>> import numpy as np, descent
        >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
        >>> net = descent.MLPClassifier((3,), epochs=5, random_state=0).fit(X, [0, 1, 1, 0])
        >>> [len(c.get_offsets()) for c in plot_network(net).axes[0].collections
        ...  if (c.get_gid() or "").startswith("layer")]
        [2, 3, 1]
    """
    if not hasattr(model, "hidden_layer_sizes"):
        raise TypeError(
            f"plot_network draws MLPClassifier and MLPRegressor models, got {type(model).__name__}"
        )
    check_is_fitted(model, "coefs_")
    coefs, intercepts = model.coefs_, model.intercepts_
    widths = [coefs[0].shape[0]] + [W.shape[1] for W in coefs]
    columns = [_column(n, max(max_neurons, 3)) for n in widths]
    rows = max(min(n, max(max_neurons, 3)) for n in widths)
    fig, (ax,) = new_figure(1, size=(1.6 + 1.9 * len(widths), 1.2 + 0.42 * rows))
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        (src, src_y, _), (dst, dst_y, _) = columns[layer], columns[layer + 1]
        weights = W[np.ix_(src, dst)].ravel()
        scale = max(float(np.max(np.abs(weights))), 1e-12)
        segments = [[(layer, yi), (layer + 1, yj)] for yi in src_y for yj in dst_y]
        edges = LineCollection(segments, linewidths=0.3 + 3.2 * np.abs(weights) / scale,
                               colors=np.where(weights >= 0, POSITIVE, NEGATIVE), alpha=0.7,
                               zorder=1)
        edges.set_gid(f"weights {layer}")
        ax.add_collection(edges)
        for neuron, yj in zip(dst, dst_y, strict=True):
            ax.text(layer + 1.1, yj, f"b={b[neuron]:.2g}", fontsize=6, va="center",
                    color="0.2", zorder=4, bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                                                 "ec": "none", "alpha": 0.85})
    names = ["input"] + [f"hidden {i}\n{model.activation}" for i in range(1, len(coefs))]
    names.append("output")
    for layer, (n, (_, ys, gap)) in enumerate(zip(widths, columns, strict=True)):
        dots = ax.scatter(np.full(len(ys), layer), ys, s=160, color="white",
                          edgecolors="black", zorder=3)
        dots.set_gid(f"layer {layer}")
        if gap is not None:
            ax.text(layer, gap, "⋮", ha="center", va="center", fontsize=14)
        ax.text(layer, -rows / 2 - 0.6, f"{names[layer]}\n({n})", ha="center", va="top",
                fontsize=8)
    ax.legend(handles=[Line2D([], [], color=POSITIVE, label="positive weight"),
                       Line2D([], [], color=NEGATIVE, label="negative weight")],
              loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=7, frameon=False)
    ax.set_xlim(-0.5, len(widths) - 0.3)
    ax.set_ylim(-rows / 2 - 1.8, rows / 2 + 0.8)
    ax.axis("off")
    sizes = "-".join(str(n) for n in widths)
    ax.set_title(title or f"{type(model).__name__} {sizes}: width = |weight|")
    fig.tight_layout()
    return fig


# ----- penalties and training records -------------------------------------------------------
def plot_regularization_path(alphas, coefs, *, feature_names=None, title: str | None = None):
    """Each coefficient against the penalty strength alpha (log axis), one line per feature.

    Args:
        alphas: the penalty strengths, all positive.
        coefs: the fitted coefficients, shape (len(alphas), n_features).
        feature_names: a label per feature (default x1, x2, ...).

    Example:
        >>> fig = plot_regularization_path([0.01, 0.1, 1.0], [[2.0, 1.0], [1.5, 0.4], [0.5, 0.0]])
        >>> fig.axes[0].get_xscale(), len(fig.axes[0].get_legend().get_texts())
        ('log', 2)
    """
    alphas = np.asarray(alphas, dtype=float).ravel()
    coefs = np.asarray(coefs, dtype=float)
    if alphas.size == 0 or coefs.shape[0] != alphas.size:
        raise ValueError(
            f"coefs needs one row per alpha: {alphas.size} alphas, coefs of shape {coefs.shape}"
        )
    if not np.all(alphas > 0):
        raise ValueError("alphas must all be positive to be drawn on a log axis")
    coefs = coefs.reshape(alphas.size, -1)
    names = list(feature_names) if feature_names is not None else [
        f"x{i + 1}" for i in range(coefs.shape[1])]
    if len(names) != coefs.shape[1]:
        raise ValueError(f"{len(names)} feature_names for {coefs.shape[1]} coefficients")
    order = np.argsort(alphas)
    fig, (ax,) = new_figure(1, size=(6.5, 4.5))
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    for column, name in enumerate(names):
        ax.plot(alphas[order], coefs[order, column], "-o", markersize=3, label=name)
    ax.set_xscale("log")
    ax.set_xlabel("penalty strength alpha")
    ax.set_ylabel("coefficient")
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title or "coefficients shrink as the penalty grows")
    fig.tight_layout()
    return fig


def plot_loss_comparison(histories: dict[str, History], *, log: bool = False,
                         title: str | None = None):
    """Several training records' loss curves on one axes, labelled by their keys.

    Example:
        >>> h1 = History(epoch=[1, 2, 3], loss=[1.0, 0.6, 0.4])
        >>> h2 = History(epoch=[1, 2, 3], loss=[1.0, 0.3, 0.2])
        >>> fig = plot_loss_comparison({"batch": h1, "stochastic": h2})
        >>> [line.get_label() for line in fig.axes[0].lines]
        ['batch', 'stochastic']
    """
    if not histories:
        raise ValueError("plot_loss_comparison needs at least one History, got none")
    fig, (ax,) = new_figure(1, size=(6.5, 4.5))
    for name, history in histories.items():
        ax.plot(history.epoch, history.loss, "-", marker="o", markersize=2.5, label=str(name))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.legend(loc="best")
    ax.set_title(title or "loss by epoch")
    fig.tight_layout()
    return fig
