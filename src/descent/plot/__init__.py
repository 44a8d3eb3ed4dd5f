"""Pictures of descent, drawn from the same records everything else reads.

Every function returns a matplotlib Figure and works headless (the Agg backend is
used unless a backend was chosen already). Save with ``fig.savefig(path)``.
``animate_descent`` is the exception: it writes a GIF and returns its path.
"""

from .animate import animate_descent
from .curves import plot_learning_rates, plot_loss, plot_path_1d, plot_restarts
from .functions import plot_activations, plot_error_functions
from .graph import plot_graph
from .lr_find import plot_lr_find
from .models import (
    plot_decision_boundary,
    plot_loss_comparison,
    plot_network,
    plot_regression_fit,
    plot_regularization_path,
)
from .surfaces import plot_contour_path, plot_surface_path

__all__ = [
    # descent on a function
    "plot_path_1d", "plot_restarts", "plot_learning_rates", "plot_contour_path",
    "plot_surface_path", "animate_descent",
    # training records and fitted models
    "plot_loss", "plot_loss_comparison", "plot_regression_fit", "plot_decision_boundary",
    "plot_network", "plot_regularization_path", "plot_lr_find",
    # the building blocks
    "plot_activations", "plot_error_functions", "plot_graph",
]
