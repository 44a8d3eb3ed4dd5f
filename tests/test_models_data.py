"""The estimators on the reference data sets (skipped when ../shared/data is absent)."""

import numpy as np
from sklearn.svm import LinearSVC as SkLinearSVC

import descent as d

from .data import load, load_book_points


def test_full_batch_descent_on_diabetes_reproduces_a_numpy_implementation():
    table = load("data-03-diabetes.csv")
    X, y = table[:, :8], table[:, 8]
    epochs, lr = 200, 1.0
    w, b = np.zeros(8), 0.0
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-(X @ w + b)))
        w, b = w - lr * X.T @ (p - y) / len(y), b - lr * np.mean(p - y)
    m = d.LogisticRegression(optimizer="gd", learning_rate=lr, batch_size=None, epochs=epochs,
                             penalty=None, standardize=False, tol=None).fit(X, y.astype(int))
    assert np.allclose(m.coef_[0], w, rtol=0, atol=1e-10)
    assert abs(m.intercept_[0] - b) < 1e-10
    assert m.score(X, y.astype(int)) > 0.76


def test_linear_svm_on_linear_csv_matches_scikit_learn_accuracy():
    X, y = load_book_points("linear.csv")
    reference = SkLinearSVC(C=1.0).fit(X, y).score(X, y)
    ours = d.LinearSVC(C=1.0, random_state=0).fit(X, y).score(X, y)
    assert ours >= reference
