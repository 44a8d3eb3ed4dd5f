"""Estimators trained by gradient descent, following scikit-learn's conventions."""

from ..divergence import DivergenceError
from ._validation import FitInterruptedWarning
from .classifiers import LinearSVC, LogisticRegression, Perceptron
from .history import History
from .linear import LinearRegression
from .lr_find import LRFindResult, lr_find
from .mlp import MLPClassifier, MLPRegressor

__all__ = [
    "DivergenceError", "FitInterruptedWarning", "History", "LinearRegression", "LinearSVC",
    "LogisticRegression", "Perceptron", "MLPClassifier", "MLPRegressor", "LRFindResult", "lr_find",
]
