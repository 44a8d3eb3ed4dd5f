"""The estimators against scikit-learn, and the training loop against bare NumPy.

1. The training loop's cost per shuffled mini-batch of 256 rows (logistic regression,
   plain gradient descent) against a bare NumPy loop doing the same arithmetic,
   loss included. Target: at most 1.3x.
2. Fit time per epoch on the same data: descent's LogisticRegression, Perceptron,
   LinearSVC, LinearRegression and MLPs against their scikit-learn peers
   (SGDClassifier, LogisticRegression with lbfgs per iteration, SGDRegressor, MLPs).
"""

from __future__ import annotations

import warnings

from common import (
    LOSS,
    THROUGHPUT,
    TIME,
    Table,
    fmt_loss,
    fmt_rate,
    fmt_time,
    log_loss,
    measure_group,
    numpy_minibatch_logistic,
    ratio_column,
    score_log_loss,
)
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogistic
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.neural_network import MLPClassifier as SkMLP
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import descent as d


def _data(n, p, seed=0):
    X, y = make_classification(n, p, n_informative=min(p // 2, 20), random_state=seed)
    return X, y


def loop_overhead(quick: bool) -> Table:
    n, p, batch, lr = (20_000, 100, 256, 0.1) if quick else (100_000, 100, 256, 0.1)
    X, y = _data(n, p, seed=1)
    yf = y.astype(float)
    epochs = 2

    def bare_numpy():
        return numpy_minibatch_logistic(X, yf, learning_rate=lr, batch=batch, epochs=epochs)

    model = d.LogisticRegression(optimizer="gd", learning_rate=lr, batch_size=batch,
                                 epochs=epochs, tol=None, penalty=None, standardize=False,
                                 random_state=0)
    steps = epochs * -(-n // batch)
    group = measure_group({"numpy": bare_numpy, "descent": lambda: model.fit(X, y)}, "numpy",
                          repeats=5 if quick else 9)
    w, b = group.last["numpy"]
    losses = {"numpy": score_log_loss(y, X @ w + b),
              "descent": score_log_loss(y, model.decision_function(X))}
    table = Table(
        title=f"Training loop per mini-batch of {batch}, {n:,} x {p} float64",
        note=f"Logistic regression, plain gradient descent, {epochs} epochs of shuffled "
             "batches, loss computed every step, in both. The loss reached is the training "
             "log loss after the run.",
        columns=["method", "per mini-batch", TIME + " whole run", THROUGHPUT, LOSS,
                 ratio_column("bare NumPy loop")],
    )
    for key, label in (("numpy", "bare NumPy loop"), ("descent", "descent training loop")):
        t = group.timings[key]
        table.add(label, f"{t.median / steps * 1e6:.1f} µs", fmt_time(t),
                  fmt_rate(n * epochs / t.median), fmt_loss(losses[key]),
                  f"{group.ratios[key]:.2f}")
    ratio = group.ratios["descent"]
    table.verdicts.append(
        f"loop target (at most 1.3x the bare NumPy loop): {'met' if ratio <= 1.3 else 'not met'} "
        f"({ratio:.2f}x)"
    )
    return table


def per_epoch(quick: bool) -> Table:
    n, p = (5_000, 20) if quick else (50_000, 50)
    epochs = 3 if quick else 5
    warnings.simplefilter("ignore", ConvergenceWarning)
    common = dict(epochs=epochs, tol=None, random_state=0, batch_size=256)
    net = dict(hidden_layer_sizes=(64,))
    sk_net = dict(**net, batch_size=256, max_iter=epochs, tol=0, n_iter_no_change=10**6,
                  random_state=0)
    Xc, yc = _data(n, p)
    Xr, yr = make_regression(n, p, noise=10.0, random_state=0)
    # (label, make, data, peer key, loss of the fitted model or None); the first of each
    # group is the peer the others' ratios refer to.
    groups = {
        "linear": (Xc, yc, [
            ("scikit-learn SGDClassifier (log_loss, batch 1)",
             lambda: SGDClassifier(loss="log_loss", max_iter=epochs, tol=None, random_state=0)),
            ("scikit-learn LogisticRegression (lbfgs, per iteration)",
             lambda: SkLogistic(max_iter=1000)),
            ("descent LogisticRegression (adam, batch 256)",
             lambda: d.LogisticRegression(**common)),
            ("descent Perceptron (gd, batch 256)", lambda: d.Perceptron(**common)),
            ("descent LinearSVC (adam, batch 256)", lambda: d.LinearSVC(**common)),
        ]),
        "mlp": (Xc, yc, [
            ("scikit-learn MLPClassifier 64 (adam, batch 256)", lambda: SkMLP(**sk_net)),
            ("descent MLPClassifier 64 (adam, batch 256)",
             lambda: d.MLPClassifier(**net, **common)),
        ]),
        "regression": (Xr, yr, [
            ("scikit-learn SGDRegressor (batch 1), R^2",
             lambda: SGDRegressor(max_iter=epochs, tol=None, random_state=0)),
            ("descent LinearRegression (adam, batch 256), R^2",
             lambda: d.LinearRegression(**common)),
        ]),
        "mlp regression": (Xr, yr, [
            ("scikit-learn MLPRegressor 64 (adam, batch 256), R^2",
             lambda: SkMLPRegressor(**sk_net)),
            ("descent MLPRegressor 64 (adam, batch 256), R^2",
             lambda: d.MLPRegressor(**net, **common)),
        ]),
    }
    table = Table(
        title=f"Fit time per epoch, {n:,} x {p} float64",
        note=f"Classifiers on make_classification, regressors on make_regression (the same "
             f"sizes). Each fit runs {epochs} epochs; scikit-learn's lbfgs runs to convergence "
             "and its time per epoch is per iteration. Each group of rows runs in alternation "
             "and its ratios are per epoch against the group's first row. The loss reached is "
             "the training log loss (for the models that give probabilities); the score is "
             "training accuracy, or R^2 for regressors.",
        columns=["method", "time per epoch", TIME + " whole fit", THROUGHPUT, LOSS, "score",
                 ratio_column("the group's scikit-learn peer, per epoch")],
    )
    per = {}
    for key, (X, y, members) in groups.items():
        fits = {label: (lambda m=make, X=X, y=y: m().fit(X, y)) for label, make in members}
        group = measure_group(fits, members[0][0], repeats=3 if quick else 5)
        iters = {label: (model.n_iter_[0] if isinstance(model, SkLogistic) else epochs)
                 for label, model in group.last.items()}
        ref = members[0][0]
        for label, _ in members:
            model, t = group.last[label], group.timings[label]
            loss = None
            if hasattr(model, "predict_proba") and key in ("linear", "mlp"):
                loss = log_loss(y, model.predict_proba(X)[:, 1])
            ratio = group.ratio_to(label, ref) * iters[ref] / iters[label]
            per[label] = t.median / iters[label]
            table.add(label, f"{per[label] * 1e3:.3g} ms", fmt_time(t),
                      fmt_rate(len(X) * iters[label] / t.median), fmt_loss(loss),
                      f"{model.score(X, y):.4f}", f"{ratio:.2f}")
    ours = per["descent LogisticRegression (adam, batch 256)"]
    sgd = per["scikit-learn SGDClassifier (log_loss, batch 1)"]
    table.verdicts.append(
        f"descent logistic epoch / scikit-learn SGD epoch: {ours / sgd:.2f}x; descent MLP "
        f"epoch / scikit-learn MLP epoch: "
        f"{per['descent MLPClassifier 64 (adam, batch 256)'] / per[groups['mlp'][2][0][0]]:.2f}x"
    )
    return table


def run(quick: bool = False) -> list[Table]:
    return [loop_overhead(quick), per_epoch(quick)]
