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
from functools import cache

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
from descent.kernels.order import shuffled_order
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
    # The memory's speed here drifts within seconds; 9 paired rounds steady the median ratio.
    group = measure_group(methods, "read", repeats=3 if quick else 9, timer=_timer)
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
        per_row, bare_row = _in_cache_ns_per_row(X, yf, w)
        one = _one_core(X, yf, w)
        read1, pass1 = one.timings["read"].median, one.timings["pass"].median
        read2, pass2 = group.timings["read"].median, group.timings["descent"].median
        two = _two_cores(X, yf, w)
        table.bounds.append(
            f"the fused pass reads X once, but it also does the arithmetic (two dot products "
            f"of {p} and the loss a row): on rows already in cache it takes {per_row:.1f} ns a "
            f"row on one core, {per_row / bare_row:.1f}x a bare compiled dot product of the "
            f"row ({bare_row:.1f} ns). On one core, where prefetching the next rows hides that "
            f"arithmetic behind the memory, the pass takes {one.ratios['pass']:.2f}x one read "
            f"of X on one BLAS thread ({pass1 * 1e3:.1f} ms against {read1 * 1e3:.1f} ms); "
            f"on two cores the read takes {read2 / read1:.2f}x its one-core time and the "
            f"pass {pass2 / pass1:.2f}x. The pass streams X into L2 two blocks ahead of its "
            f"reads; a bare compiled read of X with the same prefetches (the dot products "
            f"alone, on the same two threads) takes {two.ratios['bare']:.2f}x the BLAS read "
            f"in paired rounds, the pass {two.ratios['pass']:.2f}x: the difference is the "
            f"part of the pass's arithmetic that the memory does not hide. The memory's speed "
            f"also varies between runs here (the read ranged {fmt_time(group.timings['read'])} "
            f"in this table), and the ratio with it: the faster the memory, the less "
            f"arithmetic it hides.")
    return table


def _in_cache_ns_per_row(X, y, w) -> tuple[float, float]:
    """ns a row on one core, rows already in cache: the fused pass, and a bare dot product.

    The pass goes 64 times over the same 2,048 rows (listed in ``idx``) in one call, so
    the call's own Python costs little.
    """
    from descent.kernels import runner

    linear = kernels.ready(X.dtype)
    idx = np.tile(np.arange(2048, dtype=np.int64), 64)
    none = np.empty(0, dtype=X.dtype)
    fused = measure(lambda: runner.data_pass(linear, X, y, none, idx, 0, len(idx), w, 0.1, 3,
                                             workers=1), repeats=15)
    out = np.empty(2048, dtype=X.dtype)
    rows = X[:2048]
    bare = measure(lambda: _bare_dots()(rows, w, out, 64), repeats=15)
    return fused.low / len(idx) * 1e9, bare.low / len(idx) * 1e9


@cache
def _bare_dots():
    """A compiled ``dots(X, w, out, times)``: ``times`` passes of out[i] = x_i . w, the
    least a pass over the rows must compute."""
    import numba

    @numba.njit(fastmath=True, error_model="numpy", boundscheck=False, nogil=True)
    def dots(X, w, out, times):
        for _ in range(times):
            for i in range(X.shape[0]):
                s = X[i, 0] * w[0]
                for j in range(1, X.shape[1]):
                    s += X[i, j] * w[j]
                out[i] = s

    return dots


def _one_core(X, y, w):
    """The fused pass on one core and one read of X on one BLAS thread, in paired rounds."""
    from threadpoolctl import threadpool_limits

    from descent.kernels import runner

    linear = kernels.ready(X.dtype)
    none, everything = np.empty(0, dtype=X.dtype), np.empty(0, dtype=np.int64)

    def read():
        with threadpool_limits(1):
            return X @ w

    return measure_group({
        "read": read,
        "pass": lambda: runner.data_pass(linear, X, y, none, everything, 0, len(X), w, 0.1, 3,
                                         workers=1)}, "read", repeats=5)


@cache
def _stream_dots():
    """A compiled ``dots(X, w, out, lo, hi)``: out[i] = x_i . w for rows lo..hi, streaming X
    into L2 as the fused pass does (two 16 KB blocks ahead): the fastest read of X here."""
    import numba

    from descent.kernels._jit import prefetch_l2, zero_of

    @numba.njit(fastmath=True, error_model="numpy", boundscheck=False, nogil=True)
    def dots(X, w, out, lo, hi):
        p, line = X.shape[1], 64 // X.itemsize
        ahead, lead, limit = lo * p, 32768 // X.itemsize, hi * p
        for i in range(lo, hi):
            stop = min((i + 1) * p + lead, limit)
            while ahead < stop:
                prefetch_l2(X, ahead)
                ahead += line
            s = zero_of(X)
            for j in range(p):
                s += X[i, j] * w[j]
            out[i] = s

    return dots


def _two_cores(X, y, w):
    """The fused pass, the bare streaming read and one BLAS read, on two cores, paired."""
    from descent.kernels import runner

    linear = kernels.ready(X.dtype)
    none, everything = np.empty(0, dtype=X.dtype), np.empty(0, dtype=np.int64)
    out, dots, half = np.empty(len(X), dtype=X.dtype), _stream_dots(), len(X) // 2
    pool = runner._pool(2)

    def bare():
        job = pool.submit(dots, X, w, out, half, len(X))
        dots(X, w, out, 0, half)
        job.result()

    return measure_group({
        "read": _self_timed(lambda: X @ w, BLAS_REST),
        "pass": _self_timed(lambda: runner.data_pass(linear, X, y, none, everything, 0, len(X),
                                                     w, 0.1, 3)),
        "bare": _self_timed(bare)}, "read", repeats=7, timer=_timer)


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
    worst, slowest = np.inf, None
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
        if speed < worst:
            worst, slowest = speed, (loss, methods["descent"])
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
        loss, fit = slowest
        whole, inside = _time_in_epochs(fit)
        shuffle = measure(lambda: shuffled_order(np.random.default_rng(0), n), repeats=7).low
        order = np.random.default_rng(0).permutation(n)
        out = np.empty(n)
        reads = measure(lambda: _random_row_dots()(X, order, X[0], out), repeats=7).low
        per = 1e9 / (n * epochs)
        table.bounds.append(
            f"a step is a dot product of {p} coefficients and, where the slope is not 0, an "
            f"update of them, and each step waits for the one before; with an L2 penalty W is "
            f"kept as a scale times a vector, so the penalty's shrink costs one multiplication "
            f"and hinge and perceptron steps update nothing on most rows. descent takes "
            f"{1e9 / max(our_rates):.0f}-{1e9 / min(our_rates):.0f} ns a sample here, the "
            f"whole fit included; scikit-learn's fastest loss takes {1e9 / fastest:.0f} ns, so "
            f"3x needs {1e9 / fastest / 3:.0f} ns. Of the {whole * per:.0f} ns of the slowest "
            f"({loss}), the compiled epochs take {inside * per:.0f} ns; the rest is the fit's "
            f"Python around them, of which drawing each epoch's order (the shuffle) alone "
            f"takes {shuffle * epochs * per:.0f} ns a sample. Inside the epochs, most of a step "
            f"is waiting for its row: a bare compiled loop that only reads the rows in a "
            f"random order (a dot product each, the row 8 ahead prefetched, from a "
            f"{X.nbytes / 1e6:.0f} MB array) takes {reads / n * 1e9:.0f} ns a row here.")
    return table


@cache
def _random_row_dots():
    """A compiled ``dots(X, order, w, out)``: out[i] = x_order[i] . w, the row 8 ahead
    prefetched as descent's stochastic loop does; the least such a step must wait for."""
    import numba

    from descent.kernels._jit import prefetch

    @numba.njit(fastmath=True, error_model="numpy", boundscheck=False, nogil=True)
    def dots(X, order, w, out):
        n, p = X.shape
        for i in range(n):
            ahead = order[min(i + 8, n - 1)] * p
            for j in range(0, p, 8):
                prefetch(X, ahead + j)
            r = order[i]
            s = 0.0
            for j in range(p):
                s += X[r, j] * w[j]
            out[i] = s

    return dots


def _time_in_epochs(fit) -> tuple[float, float]:
    """(seconds of the whole ``fit()``, seconds of it inside the compiled epochs): the best
    of 5 fits."""
    from descent.kernels import runner

    inner = [0.0]
    epoch = runner.LinearRunner.epoch

    def timed(self, *args):
        start = time.perf_counter()
        try:
            return epoch(self, *args)
        finally:
            inner[0] += time.perf_counter() - start

    runner.LinearRunner.epoch = timed
    try:
        best = (np.inf, 0.0)
        for _ in range(5):
            inner[0] = 0.0
            start = time.perf_counter()
            fit()
            best = min(best, (time.perf_counter() - start, inner[0]))
    finally:
        runner.LinearRunner.epoch = epoch
    return best


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

