"""Pictures of descent, drawn from the same records everything else reads.

Every function returns a matplotlib Figure and works headless (the Agg backend is
used unless a backend was chosen already). Save with ``fig.savefig(path)``.
"""

from .curves import plot_learning_rates, plot_loss, plot_path_1d, plot_restarts
from .surfaces import plot_contour_path, plot_surface_path

__all__ = [
    "plot_path_1d", "plot_restarts", "plot_learning_rates", "plot_loss", "plot_contour_path",
    "plot_surface_path",
]
