"""Figure set-up shared by the plots: a headless backend and the function on a grid."""

from __future__ import annotations

import matplotlib

if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
    matplotlib.use("Agg")  # draw without a screen; a backend chosen by the user stays

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..autodiff import Tensor  # noqa: E402


def new_figure(ncols: int = 1, size: tuple[float, float] = (6.0, 4.0), **kw):
    """A figure with ``ncols`` axes side by side."""
    fig, axes = plt.subplots(1, ncols, figsize=(size[0] * ncols, size[1]), squeeze=False, **kw)
    return fig, list(axes[0])


def evaluate(f, points: np.ndarray) -> np.ndarray:
    """f at many points at once (f written for Tensors broadcasts over a grid)."""
    out = f(Tensor(points, requires_grad=False))
    return np.asarray(out.data if isinstance(out, Tensor) else out, dtype=float)


def span(path: np.ndarray, bounds=None, margin: float = 0.15) -> tuple[float, float]:
    """An interval covering the path (or the bounds) with a little room around it."""
    if bounds is not None:
        return float(bounds[0]), float(bounds[1])
    low, high = float(np.min(path)), float(np.max(path))
    pad = margin * max(high - low, 1.0)
    return low - pad, high + pad
