"""The linear classifiers: the perceptron, logistic regression and the linear SVM.

Each is the linear objective with another loss from the table; labels become one
0/1 column for two classes, or one column per class (one-vs-rest, or softmax for
multinomial logistic regression).
"""

from __future__ import annotations

from ..losses import Loss, get_loss
from .base import store_init_args
from .linear import _COMMON_DOC, _PENALTY_DOC, _LinearClassifier
from .outputs import LogisticOutputs


class Perceptron(_LinearClassifier):
    __doc__ = """The perceptron: step(score) predictions, trained on the perceptron error.

    A point's error is 0 when it is classified right and |score| when wrong (the ReLU
    form of Grokking Machine Learning, appendix B). At batch size 1 a plain "gd" step is
    the perceptron trick: a
    misclassified positive point adds lr * x to w and lr to b, a misclassified negative
    one subtracts them. More than two classes are handled one-vs-rest.

    Defaults: plain "gd" at learning_rate=1.0 (the perceptron does not care about the
    scale of its weights) in mini-batches of 32 rows (batch_size="auto": up to 256 for
    large data), on standardized features.
    """ + _COMMON_DOC + """
        class_weight: None, "balanced" or {class: weight}, multiplied into sample weights.

    Example:
        >>> import numpy as np
        >>> X = np.array([[1, 0], [0, 2], [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 2]])
        >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
        >>> Perceptron(random_state=0, batch_size=None, tol=None).fit(X, y).score(X, y)
        1.0
    """

    _loss_name = "perceptron"
    # Its error is 0 at the zero start, and on data no line separates it cycles whatever
    # the rate (which only scales its weights): a loss that goes back up says nothing here.
    _judge_bounces = False

    def __init__(
        self, *, learning_rate=1.0, epochs=1000, batch_size="auto", shuffle=True, optimizer="gd",
        schedule=None, penalty=None, alpha=0.0001, l1_ratio=0.15, fit_intercept=True,
        init="zeros", tol=1e-5, early_stopping=False, validation_fraction=0.1,
        n_iter_no_change=10, warm_start=False, callbacks=None, verbose=0, random_state=None,
        standardize=True, record_path=False, class_weight=None,
    ):
        store_init_args(self, locals())


class LogisticRegression(LogisticOutputs, _LinearClassifier):
    __doc__ = """Logistic regression trained by gradient descent on the log loss.

    Binary problems use sigmoid(score) and the mean log loss, whose gradient is
    -(y - yhat) (x, 1) per point (the log-loss gradient lesson); at batch size 1 a "gd" step is the
    logistic trick w += lr (y - yhat) x. More than two classes use softmax scores
    and the multinomial log loss.

    Defaults: Adam at learning_rate=0.01 in mini-batches of 32 rows (batch_size="auto":
    up to 256 for large data), up to 1000 epochs on standardized features, with a light
    L2 penalty (alpha=1e-4) so separable data
    still has a finite optimum.
    """ + _COMMON_DOC + """
        class_weight: None, "balanced" or {class: weight}, multiplied into sample weights.

    Example:
        >>> import numpy as np
        >>> X = np.array([[1, 0], [0, 2], [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 2]])
        >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
        >>> model = LogisticRegression(random_state=0).fit(X, y)
        >>> model.predict([[3, 3], [0, 0]]).tolist()
        [1, 0]
    """

    def __init__(
        self, *, learning_rate=0.01, epochs=1000, batch_size="auto", shuffle=True,
        optimizer="adam", schedule=None, penalty="l2", alpha=0.0001, l1_ratio=0.15,
        fit_intercept=True, init="zeros", tol=1e-5, early_stopping=False,
        validation_fraction=0.1, n_iter_no_change=10, warm_start=False, callbacks=None,
        verbose=0, random_state=None, standardize=True, record_path=False, class_weight=None,
    ):
        store_init_args(self, locals())

    def _loss(self) -> Loss:
        return get_loss("log_loss" if len(self.classes_) == 2 else "multinomial_log_loss")


class LinearSVC(_LinearClassifier):
    __doc__ = """A linear support vector machine: hinge error plus the L2 distance error.

    The objective is C * sum(hinge) + 1/2 ||w||^2, as in scikit-learn's LinearSVC, which
    descent writes per point as mean(hinge) + alpha/2 ||w||^2 with alpha = 1 / (C n).
    The hinge error max(0, 1 - t score) (t = +-1) is the classification error, and the
    1/2 ||w||^2 term pulls the two margin lines score = +-1 apart (the SVM of Grokking
    Machine Learning, appendix B).
    More than two classes are handled one-vs-rest.

    Defaults: Adam at learning_rate=0.01 in mini-batches of 32 rows (batch_size="auto":
    up to 256 for large data), up to 1000 epochs on standardized features.
    """ + _COMMON_DOC.replace(_PENALTY_DOC, "") + """
        C: weight of the hinge error against the distance error (larger C, narrower margin).
        class_weight: None, "balanced" or {class: weight}, multiplied into sample weights.

    Example:
        >>> import numpy as np
        >>> X = np.array([[1, 0], [0, 2], [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 2]])
        >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
        >>> LinearSVC(random_state=0).fit(X, y).score(X, y)
        1.0
    """

    _loss_name = "hinge"

    def __init__(
        self, C=1.0, *, learning_rate=0.01, epochs=1000, batch_size="auto", shuffle=True,
        optimizer="adam", schedule=None, fit_intercept=True, init="zeros", tol=1e-5,
        early_stopping=False, validation_fraction=0.1, n_iter_no_change=10, warm_start=False,
        callbacks=None, verbose=0, random_state=None, standardize=True, record_path=False,
        class_weight=None,
    ):
        store_init_args(self, locals())

    def _penalty_args(self, n_samples: int):
        if not (isinstance(self.C, int | float) and self.C > 0):
            raise ValueError(f"LinearSVC: C must be a positive number, got {self.C!r}")
        return "l2", 1.0 / (self.C * max(n_samples, 1)), 0.0
