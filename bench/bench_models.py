"""The estimators against scikit-learn, and the training loop against bare NumPy.

1. Fit time per epoch on the same data: descent's LogisticRegression, Perceptron,
   LinearSVC and MLPClassifier against scikit-learn's SGDClassifier,
   LogisticRegression (lbfgs, per iteration) and MLPClassifier.
2. The training loop's cost per shuffled mini-batch of 256 rows (logistic regression,
   plain gradient descent) against a bare NumPy loop doing the same arithmetic,
   loss included. Target: at most 1.3x.
"""

from __future__ import annotations

import warnings

import numpy as np
from common import Table, fmt_time, measure, measure_pair
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import descent as d
from descent.numerics import sigmoid


def _data(n, p, seed=0):
    X, y = make_classification(n, p, n_informative=min(p // 2, 20), random_state=seed)
    return X, y


def per_epoch(quick: bool) -> Table:
    n, p = (5_000, 20) if quick else (50_000, 50)
    X, y = _data(n, p)
    epochs = 3 if quick else 5
    repeats = 3 if quick else 5
    rows = []
    warnings.simplefilter("ignore", ConvergenceWarning)

    def timed(label, make, fit_epochs, accuracy_of):
        model = make()
        t = measure(lambda: model.fit(X, y), repeats=repeats)
        per = t.median / fit_epochs
        rows.append([label, f"{per * 1e3:.3g} ms", fmt_time(t), f"{accuracy_of(model):.4f}"])
        return per

    common = dict(epochs=epochs, tol=None, random_state=0, batch_size=256)
    ours = timed("descent LogisticRegression (adam, batch 256)",
                 lambda: d.LogisticRegression(**common), epochs, lambda m: m.score(X, y))
    timed("descent Perceptron (gd, batch 256)", lambda: d.Perceptron(**common), epochs,
          lambda m: m.score(X, y))
    timed("descent LinearSVC (adam, batch 256)", lambda: d.LinearSVC(**common), epochs,
          lambda m: m.score(X, y))
    sgd = timed("scikit-learn SGDClassifier (log_loss, batch 1)",
                lambda: SGDClassifier(loss="log_loss", max_iter=epochs, tol=None,
                                      random_state=0), epochs, lambda m: m.score(X, y))
    lbfgs = SkLogistic(max_iter=1000)
    t = measure(lambda: lbfgs.fit(X, y), repeats=repeats)
    rows.append(["scikit-learn LogisticRegression (lbfgs, per iteration)",
                 f"{t.median / lbfgs.n_iter_[0] * 1e3:.3g} ms", fmt_time(t) + " whole fit",
                 f"{lbfgs.score(X, y):.4f}"])
    net_kw = dict(hidden_layer_sizes=(64,))
    ours_mlp = timed("descent MLPClassifier 64 (adam, batch 256)",
                     lambda: d.MLPClassifier(**net_kw, **common), epochs,
                     lambda m: m.score(X, y))
    sk_mlp = timed("scikit-learn MLPClassifier 64 (adam, batch 256)",
                   lambda: SkMLP(**net_kw, batch_size=256, max_iter=epochs, tol=0,
                                 n_iter_no_change=10**6, random_state=0), epochs,
                   lambda m: m.score(X, y))
    Xr, yr = make_regression(n, p, noise=10.0, random_state=0)
    X, y = Xr, yr  # the regressors below are timed and scored on this data
    timed("descent LinearRegression (adam, batch 256), R^2",
          lambda: d.LinearRegression(**common), epochs, lambda m: m.score(X, y))
    timed("scikit-learn SGDRegressor (batch 1), R^2",
          lambda: SGDRegressor(max_iter=epochs, tol=None, random_state=0), epochs,
          lambda m: m.score(X, y))
    timed("descent MLPRegressor 64 (adam, batch 256), R^2",
          lambda: d.MLPRegressor(**net_kw, **common), epochs, lambda m: m.score(X, y))
    timed("scikit-learn MLPRegressor 64 (adam, batch 256), R^2",
          lambda: SkMLPRegressor(**net_kw, batch_size=256, max_iter=epochs, tol=0,
                                 n_iter_no_change=10**6, random_state=0), epochs,
          lambda m: m.score(X, y))
    table = Table(
        title=f"Fit time per epoch, {n:,} x {p} float64",
        note=f"Classifiers on make_classification, regressors on make_regression (the same "
             f"sizes). Each fit runs {epochs} epochs (lbfgs runs to convergence and is shown "
             "per iteration). The score is training accuracy, or R^2 for regressors.",
        columns=["method", "time per epoch", "whole fit: median (min-max)", "score"],
        rows=rows,
    )
    table.verdicts.append(
        f"descent logistic epoch / scikit-learn SGD epoch: {ours / sgd:.2f}x; descent MLP "
        f"epoch / scikit-learn MLP epoch: {ours_mlp / sk_mlp:.2f}x"
    )
    return table


def loop_overhead(quick: bool) -> Table:
    n, p, batch, lr = (20_000, 100, 256, 0.1) if quick else (100_000, 100, 256, 0.1)
    X, y = _data(n, p, seed=1)
    yf = y.astype(float)
    epochs = 2

    def bare_numpy():
        rng = np.random.default_rng(0)
        w, b = np.zeros(p), 0.0
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                Xb, yb = X[idx], yf[idx]
                z = Xb @ w + b
                loss = np.mean(np.logaddexp(0, z) - yb * z)  # noqa: F841 - the loop records it
                r = (sigmoid(z) - yb) / len(idx)
                w = w - lr * (Xb.T @ r)
                b = b - lr * r.sum()
        return w

    model = d.LogisticRegression(optimizer="gd", learning_rate=lr, batch_size=batch,
                                 epochs=epochs, tol=None, penalty=None, standardize=False,
                                 random_state=0)
    steps = epochs * -(-n // batch)
    bare, ours, ratio = measure_pair(bare_numpy, lambda: model.fit(X, y),
                                     repeats=3 if quick else 9)
    table = Table(
        title=f"Training loop per mini-batch of {batch}, {n:,} x {p} float64",
        note="Logistic regression, plain gradient descent, shuffled batches, loss computed "
             "every step, in both.",
        columns=["method", "per mini-batch", "whole run: median (min-max)", "ratio"],
        rows=[
            ["bare NumPy loop", f"{bare.median / steps * 1e6:.1f} µs", fmt_time(bare), "1.00"],
            ["descent training loop", f"{ours.median / steps * 1e6:.1f} µs", fmt_time(ours),
             f"{ratio:.2f}"],
        ],
    )
    table.verdicts.append(
        f"target at most 1.3x: {'met' if ratio <= 1.3 else 'NOT met'} ({ratio:.2f}x)"
    )
    return table


def run(quick: bool = False) -> list[Table]:
    return [loop_overhead(quick), per_epoch(quick)]
