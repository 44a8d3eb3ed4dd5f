"""The descent as a moving picture: a GIF of the path, one step per frame."""

from __future__ import annotations

import os
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from ..minimize import MinimizeResult
from ._common import evaluate, new_figure, span
from .surfaces import _grid, _values


def _frames(n_points: int, max_frames: int) -> np.ndarray:
    """Indices into the path: all of them, or max_frames spread evenly, ends included."""
    if n_points <= max_frames:
        return np.arange(n_points)
    return np.unique(np.linspace(0, n_points - 1, max_frames).round().astype(int))


def _scene_1d(f, result: MinimizeResult, bounds):
    path = np.ravel(result.path)
    losses = np.asarray(result.losses, dtype=float)
    low, high = span(path, bounds)
    xs = np.linspace(low, high, 300)
    fig, (ax,) = new_figure(1, size=(5.5, 4.0))
    ax.plot(xs, evaluate(f, xs), color="0.3")
    trail, = ax.plot([], [], "o-", color="tab:red", markersize=3, linewidth=1, alpha=0.6)
    point, = ax.plot([], [], "o", color="tab:red", markersize=10, markeredgecolor="black")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")

    def show(i: int) -> None:
        trail.set_data(path[: i + 1], losses[: i + 1])
        point.set_data(path[i: i + 1], losses[i: i + 1])

    return fig, ax, show


def _scene_contour(f, result: MinimizeResult, bounds):
    path = np.asarray(result.path, dtype=float)
    X, Y = _grid(result, bounds, n=80)
    fig, (ax,) = new_figure(1, size=(5.0, 4.5))
    Z = _values(f, X, Y)
    # Levels at quantiles of f: narrow valleys (Rosenbrock's) get lines too.
    levels = np.unique(np.quantile(Z[np.isfinite(Z)], np.linspace(0.0, 1.0, 25)))
    ax.contour(X, Y, Z, levels=levels if levels.size > 1 else 10, cmap="viridis",
               linewidths=0.8)
    trail, = ax.plot([], [], "o-", color="tab:red", markersize=3, linewidth=1)
    point, = ax.plot([], [], "o", color="tab:red", markersize=10, markeredgecolor="black")
    ax.set_xlabel("x")
    ax.set_ylabel("y")

    def show(i: int) -> None:
        trail.set_data(path[: i + 1, 0], path[: i + 1, 1])
        point.set_data(path[i: i + 1, 0], path[i: i + 1, 1])

    return fig, ax, show


def _scene_surface(f, result: MinimizeResult, bounds):
    path = np.asarray(result.path, dtype=float)
    losses = np.asarray(result.losses, dtype=float)
    X, Y = _grid(result, bounds, n=40)
    fig, (ax,) = new_figure(1, size=(6.0, 4.8), subplot_kw={"projection": "3d"})
    ax.plot_surface(X, Y, _values(f, X, Y), cmap="viridis", alpha=0.55, linewidth=0)
    trail, = ax.plot([], [], [], "o-", color="tab:red", markersize=3, linewidth=1)
    point, = ax.plot([], [], [], "o", color="tab:red", markersize=9, markeredgecolor="black")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("f")

    def show(i: int) -> None:
        trail.set_data_3d(path[: i + 1, 0], path[: i + 1, 1], losses[: i + 1])
        point.set_data_3d(path[i: i + 1, 0], path[i: i + 1, 1], losses[i: i + 1])

    return fig, ax, show


def animate_descent(f, result: MinimizeResult, path, *, kind: str = "1d", bounds=None,
                    fps: float = 4, max_frames: int = 60) -> pathlib.Path:
    """Save a GIF of ``descent.minimize``'s path, the point moving step by step.

    Args:
        f: the function that was minimised.
        result: what ``descent.minimize`` returned.
        path: where to write the GIF (its folder must exist).
        kind: "1d" (the curve, a moving point and its trail), "contour" (a function
            of two variables: contour lines and the path so far) or "surface" (the same
            walk down the 3-D surface).
        bounds: the range to draw, as for ``plot_path_1d`` / ``plot_contour_path``.
        fps: frames per second.
        max_frames: long paths are subsampled evenly to at most this many frames.

    Returns:
        The path written. The GIF is rendered to a temporary file beside it and moved
        into place at the end, so an interrupted save never leaves half a file.

    Example:
        >>> import descent, tempfile, pathlib
        >>> r = descent.minimize(lambda x: x ** 2, x0=2.0, learning_rate=0.3, epochs=5)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     out = animate_descent(lambda x: x ** 2, r, pathlib.Path(folder) / "d.gif")
        ...     out.stat().st_size > 0
        True
    """
    scenes = {"1d": _scene_1d, "contour": _scene_contour, "surface": _scene_surface}
    if kind not in scenes:
        raise ValueError(f"kind must be '1d', 'contour' or 'surface', got {kind!r}")
    if not (isinstance(max_frames, int | np.integer) and max_frames >= 2):
        raise ValueError(f"max_frames must be an integer of at least 2, got {max_frames!r}")
    if not (fps > 0 and np.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    points = np.asarray(result.path, dtype=float)
    if kind != "1d" and (points.ndim != 2 or points.shape[1] != 2):
        raise ValueError(f"kind={kind!r} needs a path of 2-D points, got shape {points.shape}")
    if kind == "1d" and points.reshape(len(points), -1).shape[1] != 1:
        raise ValueError(
            f"kind='1d' needs a path of single numbers, got shape {points.shape}; "
            "use kind='contour' for two variables"
        )
    target = pathlib.Path(path)
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the folder {target.parent} does not exist")

    fig, ax, show = scenes[kind](f, result, bounds)
    images = []
    try:
        ax.set_title("step 0")  # lay out once, with room for the title every frame gets
        fig.tight_layout()
        for i in _frames(len(points), max_frames):
            show(int(i))
            ax.set_title(f"step {i} of {len(points) - 1}: f = {float(result.losses[i]):.4g}")
            fig.canvas.draw()
            rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
            images.append(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE))
    finally:
        plt.close(fig)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                         dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                           duration=round(1000 / fps), loop=0)
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    return target
