"""Targets 1-3: the compiled linear kernels (descent.kernels) against their peers.

1. A full-batch logistic-regression epoch on 1,000,000 x 100 against one read of X
   (``X @ w``), in float64 and float32: at most 1.3x and 1.0x.
2. Stochastic descent (batch size 1) against scikit-learn's SGDClassifier and
   SGDRegressor, for log loss, hinge, perceptron, square and absolute error: at least
   3x their samples per second, with the same result as descent's NumPy path to 1e-10.
3. Mini-batches of 256 over a shuffled order (logistic regression, plain gradient
   descent): at least 1.5x a bare NumPy loop doing the same arithmetic and 5x a
   PyTorch CPU loop.

OpenBLAS's worker threads spin for about 0.2 s after a call, and on two cores they take
one from whatever runs next (they slow the compiled pass 1.5x). So every method here
times itself and then, if it called BLAS, sleeps 0.3 s before the next one starts.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
from common import (
    THROUGHPUT,
    TIME,
    Table,
    fmt_rate,
    fmt_seconds,
    fmt_time,
    linear_data,
    measure,
    measure_group,
    numpy_minibatch_logistic,
    ratio_column,
    verdict,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier, SGDRegressor

import descent as d
from descent import kernels
from descent.numerics import sigmoid

try:  # PyTorch comes from the bench extra; without it its rows say so
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

BLAS_REST = 0.3  # seconds for OpenBLAS's spinning threads to go to sleep


def _self_timed(fn, rest=0.0):
    """A method for measure_group that returns its own duration (then rests, for BLAS)."""
    def method():
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        if rest:
            time.sleep(rest)
        return took
    return method


def _epoch_time(make, X, y):
    """A method fitting ``make()`` that returns the median duration of its epochs 2.. ."""
    def method():
        model = make().fit(X, y)
        return float(np.median(np.diff(model.history_.time)))
    return method


class _Path:
    """``with _Path("0"):`` runs descent on its NumPy path (DESCENT_JIT=0)."""

    def __init__(self, switch: str):
        self.switch = switch

    def __enter__(self):
        self.saved = os.environ.get(kernels.SWITCH)
        os.environ[kernels.SWITCH] = self.switch

    def __exit__(self, *exc):
        if self.saved is None:
            os.environ.pop(kernels.SWITCH, None)
        else:
            os.environ[kernels.SWITCH] = self.saved


def _numpy_path(make):
    def wrapped():
        with _Path("0"):
            return make()
    return wrapped


def _timer(result, wall):
    return result


def _torch_note() -> str:
    return ("" if torch is not None else " PyTorch is not installed here: its rows are missing "
            "(pip install -e '.[bench]').")


# ----- target 1: a full-batch epoch against one read of X -----------------------------------
def full_batch(quick: bool, dtype) -> Table:
    n, p = (100_000, 100) if quick else (1_000_000, 100)
    X, y = linear_data(n, p, seed=0, dtype=dtype)
    yf = y.astype(dtype)
    w = np.full(p, 0.01, dtype=dtype)
    epochs = 4 if quick else 6
    name = np.dtype(dtype).name

    def numpy_epoch():  # the plain NumPy epoch: X read twice
        z = X @ w
        r = (sigmoid(z) - yf) / n
        return X.T @ r, r.sum()

    def make():
        return d.LogisticRegression(optimizer="gd", learning_rate=0.5, batch_size=None,
                                    epochs=epochs, tol=None, penalty=None, standardize=False)

    methods = {
        "read": _self_timed(lambda: X @ w, BLAS_REST),
        "numpy": _self_timed(numpy_epoch, BLAS_REST),
        "descent": _epoch_time(make, X, y),
        "descent-numpy": _numpy_path(_epoch_time(make, X, y)),
    }
    if torch is not None:
        torch.set_num_threads(2)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(yf)

        def torch_epoch():
            wt = torch.zeros(p, dtype=Xt.dtype, requires_grad=True)
            bt = torch.zeros(1, dtype=Xt.dtype, requires_grad=True)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(Xt @ wt + bt, yt)
            loss.backward()

        methods["torch"] = _self_timed(torch_epoch, BLAS_REST)
    group = measure_group(methods, "read", repeats=3 if quick else 5, timer=_timer)
    labels = {
        "read": "one read of X (`X @ w`, OpenBLAS, 2 threads)",
        "numpy": "NumPy epoch by hand (`X @ w`, then `X.T @ r`)",
        "descent": "descent LogisticRegression epoch (compiled, fused)",
        "descent-numpy": "descent LogisticRegression epoch (NumPy path, DESCENT_JIT=0)",
        "torch": f"PyTorch {torch.__version__ if torch else ''} CPU epoch (forward, backward)",
    }
    table = Table(
        title=f"Full-batch logistic epoch, {n:,} x {p} {name} (target 1)",
        note=f"Standard normal X, 0/1 labels (common.linear_data). descent trains {epochs} "
             "full-batch epochs of plain gradient descent (standardize=False, no penalty); its "
             "time is the median of its epochs after the first, from history_.time. Each "
             "method that calls BLAS rests 0.3 s after its own timing." + _torch_note(),
        columns=["method", TIME, "bandwidth (X bytes / time)", ratio_column("one read")],
    )
    for key, label in labels.items():
        if key not in methods:
            table.add(label, "not installed", "-", "-")
            continue
        t = group.timings[key]
        table.add(label, fmt_time(t), f"{X.nbytes / t.median / 1e9:.3g} GB/s",
                  f"{group.ratios[key]:.2f}")
    ratio = group.ratios["descent"]
    limit = 1.3 if dtype == np.float64 else 1.0
    table.verdicts.append(verdict(1, f"full-batch epoch against one read of X, {name}", ratio,
                                  limit))
    if ratio > limit:
        per_row = _in_cache_ns_per_row(X, yf, w)
        read = group.timings["read"].median
        table.bounds.append(
            f"the fused pass reads X once, but it also does the arithmetic (two dot products "
            f"of {p} and the loss a row): on rows already in cache it takes {per_row:.1f} ns a "
            f"row on one core, so {n * per_row / 2 * 1e3 / 1e9:.1f} ms on two against "
            f"{read * 1e3:.1f} ms for the read; prefetching the next rows overlaps the two, "
            f"but only in part. The memory speed of this machine also varies between runs "
            f"(the read ranged {fmt_time(group.timings['read'])} here), and the ratio with it.")
    return table


def _in_cache_ns_per_row(X, y, w) -> float:
    """The fused pass's arithmetic alone: ns a row on one core, rows already in cache."""
    from descent.kernels import runner

    linear = kernels.ready(X.dtype)
    rows = 2048
    none, everything = np.empty(0, dtype=X.dtype), np.empty(0, dtype=np.int64)
    t = measure(lambda: runner.data_pass(linear, X, y, none, everything, 0, rows, w, 0.1, 3,
                                         workers=1), repeats=7, inner=50)
    return t.low / rows * 1e9


# ----- target 2: batch size 1 against scikit-learn's SGD ---------------------------------------
SGD_CASES = [  # (loss, descent estimator, its options, scikit-learn estimator, its options)
    ("log loss", d.LogisticRegression, {"penalty": "l2"}, SGDClassifier, {"loss": "log_loss"}),
    ("hinge", d.LinearSVC, {}, SGDClassifier, {"loss": "hinge"}),
    ("perceptron", d.Perceptron, {"penalty": "l2"}, SGDClassifier, {"loss": "perceptron"}),
    ("square error", d.LinearRegression, {"penalty": "l2"}, SGDRegressor,
     {"loss": "squared_error"}),
    ("absolute error", d.LinearRegression, {"loss": "absolute_error", "penalty": "l2"},
     SGDRegressor, {"loss": "epsilon_insensitive", "epsilon": 0.0}),
]


def stochastic(quick: bool) -> Table:
    n, p = (5_000, 100) if quick else (50_000, 100)
    X, labels = linear_data(n, p, seed=2)
    target = X[:, :10] @ np.linspace(1, -1, 10) + np.random.default_rng(3).normal(size=n)
    epochs, alpha = 5, 1e-4
    warnings.simplefilter("ignore", ConvergenceWarning)
    table = Table(
        title=f"Stochastic descent (batch size 1), {n:,} x {p} float64 (target 2)",
        note=f"{epochs} epochs over a shuffled order, plain steps at a constant learning rate "
             f"(0.01 for classifiers, 0.001 for regressors) with an L2 penalty alpha={alpha} "
             "(LinearSVC's own: alpha = 1 / (C n)), no standardization, on both sides; the "
             "time is the whole fit, checks included, divided by the epochs. The last column "
             "compares descent's compiled path with its NumPy path (DESCENT_JIT=0) on the "
             "first 2,000 rows, one epoch: the largest difference in a coefficient, relative.",
        columns=["loss", "descent", "scikit-learn", "descent / scikit-learn samples/s",
                 "compiled vs NumPy path"],
    )
    worst = np.inf
    our_rates, sk_rates = [], []
    for loss, ours, ours_kw, theirs, theirs_kw in SGD_CASES:
        y = labels if theirs is SGDClassifier else target
        lr = 0.01 if theirs is SGDClassifier else 0.001
        lr = 1.0 if loss == "perceptron" else lr
        kw = dict(ours_kw, optimizer="gd", batch_size=1, learning_rate=lr, tol=None,
                  standardize=False, random_state=0)
        if ours is d.LinearSVC:
            kw["C"] = 1 / (alpha * n)
        else:
            kw["alpha"] = alpha
        methods = {
            "descent": lambda ours=ours, kw=kw, y=y: ours(epochs=epochs, **kw).fit(X, y),
            "sklearn": lambda theirs=theirs, y=y, lr=lr, tk=theirs_kw: theirs(
                max_iter=epochs, tol=None, learning_rate="constant", eta0=lr, alpha=alpha,
                random_state=0, **tk).fit(X, y),
        }
        group = measure_group(methods, "sklearn", repeats=3 if quick else 5)
        speed = 1 / group.ratios["descent"]
        worst = min(worst, speed)
        small = slice(0, 2_000)
        with _Path("0"):
            ref = ours(epochs=1, **kw).fit(X[small], y[small])
        fast = ours(epochs=1, **kw).fit(X[small], y[small])
        diff = float(np.max(np.abs(np.ravel(fast.coef_) - np.ravel(ref.coef_))
                            / np.maximum(np.abs(np.ravel(ref.coef_)), 1e-12)))
        rate = {k: n * epochs / group.timings[k].median for k in methods}
        our_rates.append(rate["descent"])
        sk_rates.append(rate["sklearn"])
        table.add(loss, fmt_rate(rate["descent"]), fmt_rate(rate["sklearn"]), f"{speed:.2f}",
                  f"{diff:.1e}")
    table.verdicts.append(verdict(2, "batch-1 samples/s against scikit-learn's SGD, the "
                                  "slowest of the five losses", worst, 3.0, at_most=False))
    if worst < 3:
        fastest = max(sk_rates)
        table.bounds.append(
            f"a step is a dot product and an update of {p} coefficients, and each step waits "
            f"for the one before. descent's compiled step (loss, its value for the divergence "
            f"check, penalty, update, the next rows prefetched) takes "
            f"{1e9 / max(our_rates):.0f}-{1e9 / min(our_rates):.0f} ns a sample here, checks "
            f"and shuffling included; scikit-learn's fastest loss takes {1e9 / fastest:.0f} "
            f"ns, so 3x would need {1e9 / fastest / 3:.0f} ns: about what two bare compiled "
            "loops (dot, then update, nothing else) take on rows in random order.")
    return table


# ----- target 3: mini-batches of 256 against NumPy and PyTorch ------------------------------
def minibatch(quick: bool) -> Table:
    n, p, batch, lr = (20_000, 100, 256, 0.1) if quick else (100_000, 100, 256, 0.1)
    X, y = linear_data(n, p, seed=1)
    yf = y.astype(np.float64)
    steps = -(-n // batch)

    def bare_numpy():  # the same arithmetic as descent: gather, scores, loss, gradient, step
        return numpy_minibatch_logistic(X, yf, learning_rate=lr, batch=batch)

    def make():
        return d.LogisticRegression(optimizer="gd", learning_rate=lr, batch_size=batch, epochs=4,
                                    tol=None, penalty=None, standardize=False, random_state=0)

    methods = {
        "numpy": _self_timed(bare_numpy, BLAS_REST),
        "descent": _epoch_time(make, X, y),
        "descent-numpy": _numpy_path(_epoch_time(make, X, y)),
    }
    if torch is not None:
        torch.set_num_threads(2)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(yf)

        def torch_epoch():
            model = torch.nn.Linear(p, 1, dtype=torch.float64)
            opt = torch.optim.SGD(model.parameters(), lr=lr)
            loss_fn = torch.nn.BCEWithLogitsLoss()
            order = torch.randperm(n)
            for start in range(0, n, batch):
                idx = order[start:start + batch]
                opt.zero_grad(set_to_none=True)
                loss_fn(model(Xt[idx])[:, 0], yt[idx]).backward()
                opt.step()

        methods["torch"] = _self_timed(torch_epoch, BLAS_REST)
    group = measure_group(methods, "numpy", repeats=3 if quick else 7, timer=_timer)
    labels = {
        "numpy": "bare NumPy loop (gather, scores, loss, gradient, step)",
        "descent": "descent LogisticRegression (compiled epoch)",
        "descent-numpy": "descent LogisticRegression (NumPy path, DESCENT_JIT=0)",
        "torch": f"PyTorch {torch.__version__ if torch else ''} CPU loop (nn.Linear, SGD)",
    }
    table = Table(
        title=f"Mini-batches of {batch} over a shuffled order, {n:,} x {p} float64 (target 3)",
        note="One epoch of logistic regression by plain gradient descent, the loss computed "
             "every step, in every method; descent's time is the median of its epochs after "
             "the first (history_.time)." + _torch_note(),
        columns=["method", TIME, "per mini-batch", THROUGHPUT, "speed-up of descent (compiled)"],
    )
    for key, label in labels.items():
        if key not in methods:
            table.add(label, "not installed", "-", "-", "-")
            continue
        t = group.timings[key]
        table.add(label, fmt_time(t), fmt_seconds(t.median / steps), fmt_rate(n / t.median),
                  f"{group.ratio_to(key, 'descent'):.2f}")
    table.verdicts.append(verdict(3, "mini-batch 256 against a bare NumPy loop",
                                  group.ratio_to("numpy", "descent"), 1.5, at_most=False))
    if torch is not None:
        table.verdicts.append(verdict(3, "mini-batch 256 against a PyTorch CPU loop",
                                      group.ratio_to("torch", "descent"), 5.0, at_most=False))
    else:
        table.verdicts.append("target 3 (mini-batch 256 against a PyTorch CPU loop, at least "
                              "5x): not measured (PyTorch not installed)")
    return table


def run(quick: bool = False) -> list[Table]:
    if kernels.load() is None:
        table = Table(title="Compiled kernels (targets 1-3)",
                      note=f"Not measured: {kernels.describe()}.", columns=["-"])
        return [table]
    return [full_batch(quick, np.float64), full_batch(quick, np.float32), stochastic(quick),
            minibatch(quick)]

