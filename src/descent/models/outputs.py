"""What a classifier does with its scores: labels in, labels and probabilities out.

Shared by the linear classifiers and the network classifier, which differ only in
how they compute scores (``_decision``).
"""

from __future__ import annotations

import numpy as np

from .. import numerics


class LabelOutputs:
    """Encode labels as 0/1 columns; turn scores back into labels."""

    _is_classifier = True

    def _encode_targets(self, y) -> np.ndarray:
        """One 0/1 column for two classes, else one column per class."""
        if len(self.classes_) == 2:
            return (y == self.classes_[1]).astype(np.float64)[:, None]
        return (y[:, None] == self.classes_[None, :]).astype(np.float64)

    def decision_function(self, X) -> np.ndarray:
        """Scores: shape (n,) for two classes, else (n, n_classes)."""
        return self._decision(X)

    def predict(self, X) -> np.ndarray:
        """The class of each row: score >= 0 picks the second class; else the top score."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class LogisticOutputs:
    """predict_proba for models whose scores feed a sigmoid (two classes) or a softmax."""

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, one column per class in ``classes_`` order."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = numerics.sigmoid(scores)
            return np.column_stack([1 - p, p])
        shifted = scores - scores.max(axis=1, keepdims=True)
        np.exp(shifted, out=shifted)
        shifted /= shifted.sum(axis=1, keepdims=True)
        return shifted

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithms of ``predict_proba``, computed without taking log(0)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([-numerics.softplus(scores), -numerics.softplus(-scores)])
        top = scores.max(axis=1, keepdims=True)
        return scores - top - np.log(np.exp(scores - top).sum(axis=1, keepdims=True))
