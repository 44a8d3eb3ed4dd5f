"""The seeds' worked examples, computed: the data behind ``descent demo`` and the report.

Each ``section_*`` function runs one example and returns a ``Section``: a title, a
short text in our words, a table of the numbers it produced, the key facts and the
pictures that go with it. Pictures are recipes (``Picture``), drawn only when the
report asks, so the command line never pays for matplotlib. Nothing here prints.

Every example runs on built-in data: numbers written in the package, data generated
from a fixed seed, or data sets bundled with scikit-learn. Two runs give the same
numbers (only the wall-clock times in the batch-size section differ).

Where things live:

- ``section``: ``Section``, ``Picture`` and the helpers that format numbers and pictures.
- ``data``: the houses, the eight points, the generated people, the held-out split.
- ``graph``: the computation graph of Introduction to the Math of Gradient Descent,
  and the chain rule.
- ``functions``: descent on a function (one weight, the loop, restarts, learning rates).
- ``regression``: linear regression's two tricks, and regularization.
- ``classifiers``: the perceptron, logistic regression and the SVM.
- ``network``: the neural network; ``batches``: batch, mini-batch and stochastic descent.
- ``fitting``: how the linear examples train their models and read the weights back.
"""

from __future__ import annotations

from .batches import section_batches
from .classifiers import ON_MARGIN, section_logistic, section_perceptron, section_svm
from .data import LABELS, POINTS, PRICES, ROOMS, heights_and_weights
from .functions import (
    PSEUDOCODE,
    curve,
    errorest,
    section_learning_rates,
    section_one_weight,
    section_pseudocode,
    section_restarts,
    three_valleys,
)
from .graph import section_graph, seed_graph
from .network import section_network
from .regression import regularization_path, section_linear_regression, section_regularization
from .section import Picture, Section

# The order the seeds tell them in.
SECTIONS = (
    section_graph, section_one_weight, section_pseudocode, section_restarts,
    section_learning_rates, section_linear_regression, section_perceptron, section_logistic,
    section_network, section_svm, section_regularization, section_batches,
)


def all_sections() -> list[Section]:
    """Every worked example, in the order the seeds tell them."""
    return [make() for make in SECTIONS]


__all__ = [
    "LABELS", "ON_MARGIN", "POINTS", "PRICES", "PSEUDOCODE", "ROOMS", "SECTIONS", "Picture",
    "Section", "all_sections", "curve", "errorest", "heights_and_weights",
    "regularization_path", "section_batches", "section_graph", "section_learning_rates",
    "section_linear_regression", "section_logistic", "section_network",
    "section_one_weight", "section_perceptron", "section_pseudocode", "section_regularization",
    "section_restarts", "section_svm", "seed_graph", "three_valleys",
]
