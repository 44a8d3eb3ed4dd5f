"""The compiled kernels: the same parameters as the NumPy path, cached to disk, never in the way.

The NumPy training loop is the reference. Each comparison fits twice, with
``DESCENT_JIT=0`` and ``=1``, and checks that the compiled loop really ran (a spy
counts its calls), so no test passes by falling back.
"""

import importlib.util
import math
import os
import platform
import shutil
from pathlib import Path

import numpy as np
import pytest

import descent as d
from descent import kernels
from descent.kernels import rates as rates_module
from descent.kernels import runner
from descent.optim import get_schedule

from .subprocesses import assert_second_process_starts_warm, run_python

SRC = Path(d.__file__).resolve().parent
needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                 reason="Numba is not installed")

# float32: both paths round every operation to 24 bits, but in different places (the
# compiled loop keeps optimizer arithmetic in float64 and rounds once when it stores),
# so after tens of steps they agree to a few hundred float32 epsilons (6e-8 each).
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


@pytest.fixture(autouse=True)
def kernels_on(monkeypatch):
    """Each test says which path it wants; a DESCENT_JIT=0 run of the suite changes nothing."""
    monkeypatch.setenv("DESCENT_JIT", "1")


@pytest.fixture
def spy(monkeypatch):
    """Counts of the compiled loops' calls: the whole-epoch loop and the parallel pass."""
    calls = {"epoch": 0, "pass": 0}
    epoch, loss_and_grads = runner.LinearRunner.epoch, runner.LinearRunner.loss_and_grads

    def counted_epoch(self, *args):
        calls["epoch"] += 1
        return epoch(self, *args)

    def counted_pass(self, *args):
        calls["pass"] += 1
        return loss_and_grads(self, *args)

    monkeypatch.setattr(runner.LinearRunner, "epoch", counted_epoch)
    monkeypatch.setattr(runner.LinearRunner, "loss_and_grads", counted_pass)
    return calls


def fit_both(monkeypatch, spy, make, X, y, sample_weight=None, route="epoch", **params):
    """The same fit on NumPy and compiled; returns both, and whatever each raised."""
    out = []
    for switch in ("0", "1"):
        monkeypatch.setenv("DESCENT_JIT", switch)
        before = dict(spy)
        model = make(**params)
        try:
            model.fit(X, y, sample_weight=sample_weight)
            raised = None
        except d.DivergenceError as err:
            raised = str(err)
        ran = spy[route] - before[route]
        assert ran == 0 if switch == "0" else ran > 0, f"{switch=}: {route} ran {ran} times"
        out.append((model, raised))
    return out


def assert_same(ref, fast, tol, what=""):
    for name in ("coef_", "intercept_"):
        a, b = getattr(ref, name), getattr(fast, name)
        assert np.asarray(a).dtype == np.asarray(b).dtype, what
        np.testing.assert_allclose(b, a, **tol, err_msg=f"{name} {what}")
    np.testing.assert_allclose(fast.history_.loss, ref.history_.loss, **tol, err_msg=what)
    np.testing.assert_allclose(fast.history_.grad_norm, ref.history_.grad_norm, **tol,
                               err_msg=what)


def data(task, dtype, n=20, seed=0):
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, 3)) * [1.0, 2.0, 0.5] + [0.5, -1.0, 0.0]).astype(dtype)
    score = X.astype(float) @ [1.0, -0.5, 2.0] + rng.normal(size=n)
    return X, (score if task == "regression" else (score > 0).astype(int))


MODELS = {
    "squared_error": (d.LinearRegression, {"standardize": False}, "regression"),
    "absolute_error": (d.LinearRegression, {"loss": "absolute_error", "standardize": False},
                       "regression"),
    "perceptron": (d.Perceptron, {}, "classification"),
    "log_loss": (d.LogisticRegression, {}, "classification"),
    "hinge": (d.LinearSVC, {}, "classification"),
}
PENALTIES = [None, "l2", "l1", "elasticnet"]


# ----- the compiled epoch equals the NumPy loop ------------------------------------------------
# Stochastic momentum steps at this rate bounce (rightly warned about): the paths must agree
# there too.
@needs_numba
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("optimizer", list(runner.OPTIMIZER_CODES))
@pytest.mark.parametrize("loss", list(MODELS))
def test_compiled_epochs_equal_numpy(monkeypatch, spy, loss, optimizer, dtype):
    make, extra, task = MODELS[loss]
    X, y = data(task, dtype)
    for penalty in PENALTIES if make is not d.LinearSVC else [None]:  # LinearSVC: its own l2
        for batch_size in (1, 7, None):
            params = dict(extra, optimizer=optimizer, batch_size=batch_size, epochs=3,
                          learning_rate=0.05, tol=None, random_state=0)
            if make is not d.LinearSVC:
                params.update(penalty=penalty, alpha=0.05, l1_ratio=0.5)
            (ref, e1), (fast, e2) = fit_both(monkeypatch, spy, make, X, y, **params)
            assert e1 is None and e2 is None
            assert_same(ref, fast, TOL[dtype], f"{penalty=} {batch_size=}")


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_weights_no_intercept_and_standardized_targets(monkeypatch, spy, dtype):
    X, y = data("regression", dtype, n=30, seed=1)
    sw = np.random.default_rng(2).uniform(0.1, 3.0, len(y))
    for fit_intercept, penalty in ((True, "l1"), (False, "l1"), (False, "l2")):
        for batch_size in (1, 4, None):
            both = fit_both(monkeypatch, spy, d.LinearRegression, X, y, sample_weight=sw,
                            optimizer="momentum", batch_size=batch_size, epochs=4, tol=None,
                            fit_intercept=fit_intercept, random_state=3, penalty=penalty,
                            alpha=0.01)
            assert_same(both[0][0], both[1][0], TOL[dtype],
                        f"{fit_intercept=} {penalty=} {batch_size=}")
    # classifiers standardize the features only; class weights become sample weights
    X, y = data("classification", dtype, n=30, seed=4)
    both = fit_both(monkeypatch, spy, d.LogisticRegression, X, y, class_weight="balanced",
                    batch_size=5, epochs=4, tol=None, random_state=5, init="random")
    assert_same(both[0][0], both[1][0], TOL[dtype])


# ----- long standardized fits (issue 11, item 12) ---------------------------------------------
def offset_data(task, dtype, n=300, seed=0):
    """Features of very different scales and offsets, as in real tables (no two collinear)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)) * [1.0, 10.0, 100.0, 0.1] + [50.0, -3.0, 1000.0, 0.0]
    score = (X - [50.0, -3.0, 1000.0, 0.0]) @ [2.0, -0.3, 0.01, 20.0] + rng.normal(size=n)
    y = score + 200.0 if task == "regression" else (score > 0.5).astype(int)
    return X.astype(dtype), y


LONG_FITS = [  # (estimator, its settings): the README's usage, and its neighbours
    (d.LinearRegression, dict(batch_size=None)),
    (d.LinearRegression, dict(batch_size=None, penalty="l2", alpha=0.01)),
    (d.LinearRegression, dict(batch_size=None, penalty="elasticnet", alpha=0.01)),
    (d.LinearRegression, dict(batch_size=None, loss="absolute_error")),
    (d.LinearRegression, dict(batch_size=32)),
    (d.LogisticRegression, dict(batch_size=None)),
    (d.LinearSVC, dict(batch_size=None)),
]


@needs_numba
@pytest.mark.parametrize("optimizer", sorted(set(runner.OPTIMIZER_CODES) - {"rmsprop"}))
def test_long_standardized_fits_agree(monkeypatch, spy, optimizer):
    """Two hundred epochs on standardized data, as the README's fits run, agree as three do
    (float64, which the README's 1e-12 is about).

    The intercept of a standardized least-squares fit used to differ by up to 1e-1 under
    Adam: its gradient is rounding noise there, which Adam scales up to steps of the
    learning rate's size (now the centring gives it exactly instead). RMSprop is left
    out: near the optimum its steps keep their size whatever the gradient, it bounces
    chaotically, and the NumPy path alone ends 0.5 apart when two columns swap places.
    """
    for make, settings in LONG_FITS:
        task = "regression" if make is d.LinearRegression else "classification"
        X, y = offset_data(task, np.float64)
        (ref, e1), (fast, e2) = fit_both(
            monkeypatch, spy, make, X, y, optimizer=optimizer, learning_rate=0.05, epochs=200,
            tol=None, random_state=0, **settings)
        assert e1 is None and e2 is None
        assert_same(ref, fast, TOL[np.float64], f"{make.__name__} {settings}")


def test_a_centred_least_squares_intercept_is_exact(monkeypatch):
    """Standardized least squares: intercept_ = mean(y) - mean(X) . coef_ (weighted), as
    scikit-learn computes it, on both paths and under every optimizer."""
    X, y = offset_data("regression", np.float64)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    for switch in ("0", "1"):
        monkeypatch.setenv("DESCENT_JIT", switch)
        for optimizer in runner.OPTIMIZER_CODES:
            for batch_size in (None, 16):
                m = d.LinearRegression(optimizer=optimizer, learning_rate=0.05, epochs=30,
                                       batch_size=batch_size, random_state=0)
                m.fit(X, y, sample_weight=sw)
                centred = np.average(y, weights=sw) - np.average(X, axis=0, weights=sw) @ m.coef_
                assert m.intercept_ == pytest.approx(centred, rel=1e-12), (optimizer, batch_size)


@needs_numba
@pytest.mark.parametrize("schedule", ["step", "exponential", "inverse_scaling", "cosine",
                                      lambda step: 0.1 / (1 + step)])
def test_schedules_give_the_same_steps(monkeypatch, spy, schedule):
    X, y = data("classification", np.float64)
    both = fit_both(monkeypatch, spy, d.LogisticRegression, X, y, schedule=schedule,
                    learning_rate=0.1, batch_size=3, epochs=4, tol=None, random_state=0)
    assert_same(both[0][0], both[1][0], TOL[np.float64])
    assert both[0][0].history_.learning_rate == both[1][0].history_.learning_rate


# ----- the parallel pass for large batches ---------------------------------------------------
@needs_numba
@pytest.mark.parametrize("loss", list(MODELS))
def test_parallel_pass_equals_numpy(monkeypatch, spy, loss):
    monkeypatch.setattr(runner, "PARALLEL_WORK", 0)  # every batch takes the parallel pass
    make, extra, task = MODELS[loss]
    X, y = data(task, np.float64, n=40)
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    for batch_size, weights in ((None, None), (9, sw), (None, sw)):
        params = dict(extra, optimizer="adam", batch_size=batch_size, epochs=3, tol=None,
                      random_state=0, learning_rate=0.05)
        if make is not d.LinearSVC:
            params.update(penalty="elasticnet", alpha=0.05)
        both = fit_both(monkeypatch, spy, make, X, y, sample_weight=weights, route="pass",
                        **params)
        assert_same(both[0][0], both[1][0], TOL[np.float64], f"{batch_size=}")


@needs_numba
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shuffled", [False, True])
def test_data_pass_over_several_chunks_equals_the_loss_table(weighted, shuffled):
    from descent.losses import get_loss, mean_loss_and_gradient

    linear = kernels.ready(np.float64)
    rng = np.random.default_rng(6)
    n, p = 9_000, 3  # three chunks of 4096 rows
    X, w, b = rng.normal(size=(n, p)), rng.normal(size=p), 0.3
    sw = rng.uniform(0, 2, n) if weighted else np.empty(0)
    idx = rng.permutation(n)[:8_500] if shuffled else np.empty(0, dtype=np.int64)
    rows = idx if shuffled else slice(0, n)
    for name, code in runner.LOSS_CODES.items():
        y = rng.normal(size=n) if "error" in name else rng.integers(0, 2, n).astype(float)
        value, g, gb, total = runner.data_pass(linear, X, y, sw, idx, 0, len(X[rows]), w, b,
                                               code)
        S = (X[rows] @ w + b)[:, None]
        ref, dS = mean_loss_and_gradient(get_loss(name), S, y[rows][:, None],
                                         sw[rows] if weighted else None)
        assert value == pytest.approx(ref, rel=1e-12), name
        np.testing.assert_allclose(g, X[rows].T @ dS[:, 0], rtol=1e-10, atol=1e-14)
        assert gb == pytest.approx(dS.sum(), rel=1e-10, abs=1e-14)
        assert total == pytest.approx(sw[rows].sum() if weighted else len(S))


@needs_numba
def test_the_float32_pass_agrees_with_float64_to_float32_rounding():
    linear64, linear32 = kernels.ready(np.float64), kernels.ready(np.float32)
    rng = np.random.default_rng(9)
    X, w = rng.normal(size=(10_000, 37)), rng.normal(size=37) * 0.3
    none, rows = np.empty(0), np.empty(0, dtype=np.int64)
    for name, code in runner.LOSS_CODES.items():
        y = rng.normal(size=len(X)) if "error" in name else rng.integers(0, 2, len(X)) * 1.0
        value, g, gb, _ = runner.data_pass(linear64, X, y, none, rows, 0, len(X), w, 0.1, code)
        f32 = [a.astype(np.float32) for a in (X, y, w)]
        value32, g32, gb32, _ = runner.data_pass(linear32, f32[0], f32[1], none.astype(np.float32),
                                                 rows, 0, len(X), f32[2], 0.1, code)
        assert value32 == pytest.approx(value, rel=1e-5), name
        scale = np.abs(X).T @ np.ones(len(X)) / len(X)  # float32's error grows with |x|
        np.testing.assert_allclose(g32, g, rtol=0, atol=1e-5 * scale.max(), err_msg=name)
        assert gb32 == pytest.approx(gb, rel=1e-4, abs=1e-5), name


@needs_numba
def test_jit_helpers_keep_dtypes_and_values():
    import numba

    from descent.kernels import _jit

    @numba.njit
    def helpers(a):
        _jit.prefetch(a, 0)
        _jit.prefetch_l2(a, a.shape[0] - 1)
        return _jit.zero_of(a), _jit.opaque(0.25 / a.shape[0])

    zero32, quarter = helpers(np.ones(1, dtype=np.float32))
    assert zero32 == 0 and quarter == 0.25
    assert helpers(np.ones(4))[1] == 0.0625
    if _jit.HELPERS:  # typed float32 inside compiled code (a 0.0 literal would be float64)
        returned = helpers.nopython_signatures[0].return_type
        assert returned[0] == numba.float32 and returned[1] == numba.float64
        if platform.machine().lower() in ("x86_64", "amd64"):  # into L1 and L2, into L2
            code = helpers.inspect_asm(helpers.nopython_signatures[0].args)
            assert "prefetcht0" in code and "prefetcht1" in code


@needs_numba
def test_the_pass_is_the_same_bits_on_any_number_of_threads():
    linear = kernels.ready(np.float64)
    rng = np.random.default_rng(7)
    X, y, w = rng.normal(size=(20_000, 5)), rng.integers(0, 2, 20_000) * 1.0, rng.normal(size=5)
    none, rows = np.empty(0), np.empty(0, dtype=np.int64)
    results = [runner.data_pass(linear, X, y, none, rows, 0, 20_000, w, 0.1, 3, workers=k)
               for k in (1, 2, 3)]
    (value, g, gb, total), *others = results
    for other in others:
        assert (other[0], other[2], other[3]) == (value, gb, total)
        assert np.array_equal(other[1], g)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_slice_of_rows_in_turn_streams_to_the_same_result(dtype):
    # Rows lo..hi of X itself: one prefetched stream across chunk boundaries that must
    # stop at each run's end. 7 features: rows that do not start on a cache line.
    linear = kernels.ready(dtype)
    rng = np.random.default_rng(11)
    X, w = rng.normal(size=(30_001, 7)).astype(dtype), rng.normal(size=7).astype(dtype)
    y = rng.integers(0, 2, len(X)).astype(dtype)
    none, rows = np.empty(0, dtype=dtype), np.empty(0, dtype=np.int64)
    lo, hi = 1_234, 29_999  # 7 chunks, the last one short
    results = [runner.data_pass(linear, X, y, none, rows, lo, hi, w, 0.1, 3, workers=k)
               for k in (1, 2, 3)]
    Xs, s = X[lo:hi].astype(np.float64), X[lo:hi].astype(np.float64) @ w + 0.1
    r = (1 / (1 + np.exp(-s)) - y[lo:hi]) / (hi - lo)
    loss = np.mean(np.logaddexp(0, s) - y[lo:hi] * s)
    value, g, gb, total = results[0]
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert total == hi - lo and value == pytest.approx(loss, rel=tol)
    np.testing.assert_allclose(g, Xs.T @ r, rtol=0, atol=tol * np.abs(Xs).max())
    assert gb == pytest.approx(r.sum(), abs=tol)
    for other in results[1:]:
        assert (other[0], other[2], other[3]) == (value, gb, total)
        assert np.array_equal(other[1], g)


def test_claims_hand_out_every_chunk_once_in_shrinking_runs():
    import threading

    for count, workers in [(1, 2), (5, 2), (245, 2), (245, 3), (1000, 16)]:
        claims = runner._Claims(count, workers)
        runs = []
        while (run := claims.take()) is not None:
            runs.append(run)
        assert [c for first, last in runs for c in range(first, last)] == list(range(count))
        sizes = [last - first for first, last in runs]
        assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
        assert sizes[0] == -(-count // (2 * workers)) and claims.take() is None
    # taken from several threads at once: still each chunk exactly once
    claims, taken = runner._Claims(10_000, 4), []

    def take_all():
        while (run := claims.take()) is not None:
            taken.extend(range(*run))

    workers = [threading.Thread(target=take_all) for _ in range(4)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert sorted(taken) == list(range(10_000))


@needs_numba
def test_a_slow_thread_takes_fewer_runs_and_changes_no_bit():
    import threading
    import time
    from types import SimpleNamespace

    linear = kernels.ready(np.float64)
    rng = np.random.default_rng(12)
    X, y, w = rng.normal(size=(60_000, 5)), rng.integers(0, 2, 60_000) * 1.0, rng.normal(size=5)
    none, rows = np.empty(0), np.empty(0, dtype=np.int64)
    main, runs = threading.get_ident(), {"main": 0, "pool": 0}

    def chunks_pass(*args):
        if threading.get_ident() == main:  # slow enough for the pool's thread to wake
            runs["main"] += 1
            time.sleep(0.005)
        else:  # the pool's thread: slowed down more, as if its core were busy
            runs["pool"] += 1
            time.sleep(0.1)
        return linear.chunks_pass(*args)

    slowed = SimpleNamespace(chunks_pass=chunks_pass, scratch=linear.scratch,
                             weight_total=linear.weight_total)
    slow = runner.data_pass(slowed, X, y, none, rows, 0, len(X), w, 0.1, 3, workers=2)
    alone = runner.data_pass(linear, X, y, none, rows, 0, len(X), w, 0.1, 3, workers=1)
    assert runs["main"] > runs["pool"] >= 1  # 15 chunks in 8 runs: the main thread took most
    assert (slow[0], slow[2], slow[3]) == (alone[0], alone[2], alone[3])
    assert np.array_equal(slow[1], alone[1])


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scratch_shares_no_cache_line_with_other_memory(dtype):
    linear = kernels.ready(dtype)
    for p in (3, 100):
        space = linear.scratch(p, dtype)
        assert [a.shape for a in space] == [(64,), (3, 64), (3, max(p, 64))]
        assert [a.dtype for a in space] == [np.int64, np.float64, dtype]
        for a in space:
            start, end = a.ctypes.data, a.ctypes.data + a.nbytes
            base = a.base.ctypes.data
            assert a.flags.c_contiguous and start % 64 == 0
            assert start - base >= 64 and base + a.base.nbytes - end >= 64


# ----- the training record is the same on both paths -----------------------------------------
@needs_numba
def test_history_path_callbacks_and_early_stopping_match(monkeypatch, spy):
    X, y = data("classification", np.float64, n=60, seed=8)
    seen = {"0": [], "1": []}

    def stop_at_four(estimator, epoch, logs):
        seen[os.environ["DESCENT_JIT"]].append((epoch, logs["loss"]))
        return epoch == 4

    both = fit_both(monkeypatch, spy, d.LogisticRegression, X, y, batch_size=8, epochs=10,
                    tol=None, record_path=True, callbacks=[stop_at_four], random_state=0)
    (ref, _), (fast, _) = both
    assert fast.n_iter_ == ref.n_iter_ == 4 and fast.history_.epoch == [1, 2, 3, 4]
    assert len(fast.history_.path) == len(ref.history_.path) == 1 + 4 * 8
    for (c1, i1), (c2, i2) in zip(ref.history_.path, fast.history_.path, strict=True):
        np.testing.assert_allclose(c2, c1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(i2, i1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose([v for _, v in seen["1"]], [v for _, v in seen["0"]], rtol=1e-10)
    both = fit_both(monkeypatch, spy, d.LogisticRegression, X, y, early_stopping=True,
                    n_iter_no_change=2, epochs=200, batch_size=4, random_state=1)
    (ref, _), (fast, _) = both
    assert fast.n_iter_ == ref.n_iter_ < 200
    np.testing.assert_allclose(fast.history_.val_loss, ref.history_.val_loss, rtol=1e-10)
    assert_same(ref, fast, TOL[np.float64])


@needs_numba
@pytest.mark.parametrize(("batch_size", "route"), [(1, "epoch"), (None, "epoch"), (None, "pass")])
def test_divergence_stops_at_the_same_step_with_the_same_parameters(monkeypatch, spy,
                                                                      batch_size, route):
    if route == "pass":
        monkeypatch.setattr(runner, "PARALLEL_WORK", 0)
    X = np.array([[1.0], [2.0], [3.0], [4.0]]) * 100
    both = fit_both(monkeypatch, spy, d.LinearRegression, X, [1.0, 2.0, 3.0, 4.0], route=route,
                    optimizer="gd", learning_rate=10.0, batch_size=batch_size, tol=None,
                    standardize=False, shuffle=False, record_path=True)
    (ref, e1), (fast, e2) = both
    assert e1 is not None and e1 == e2 and "learning_rate=1" in e2
    assert np.all(np.isfinite(fast.coef_)) and np.array_equal(fast.coef_, ref.coef_)
    assert len(fast.history_.path) == len(ref.history_.path) > 1


# ----- stochastic plain gd: W kept as a scale times a vector -----------------------------------
SGD_CASES = [  # the five losses of benchmark target 2, with an L2 penalty
    (d.LogisticRegression, {"penalty": "l2"}, "classification"),
    (d.LinearSVC, {}, "classification"),
    (d.Perceptron, {"penalty": "l2"}, "classification"),
    (d.LinearRegression, {"penalty": "l2"}, "regression"),
    (d.LinearRegression, {"loss": "absolute_error", "penalty": "l2"}, "regression"),
]


def sgd_params(make, extra, n, alpha, **more):
    params = dict(extra, optimizer="gd", batch_size=1, tol=None, standardize=False,
                  random_state=0, **more)
    if make is d.LinearSVC:
        params["C"] = 1 / (alpha * n)
    else:
        params["alpha"] = alpha
    return params


@needs_numba
@pytest.mark.parametrize(("make", "extra", "task"), SGD_CASES)
def test_scaled_sgd_equals_numpy_over_thousands_of_steps(monkeypatch, spy, make, extra, task):
    # The scale's rounding must not drift: 4,000 steps on 100 features stay within 1e-10.
    rng = np.random.default_rng(11)
    X = rng.normal(size=(2_000, 100))
    score = X[:, :10] @ np.linspace(1, -1, 10) + rng.normal(size=2_000)
    y = score if task == "regression" else (score > 0).astype(int)
    params = sgd_params(make, extra, 2_000, 1e-3, epochs=2, learning_rate=0.01)
    (ref, e1), (fast, e2) = fit_both(monkeypatch, spy, make, X, y, **params)
    assert e1 is None and e2 is None
    assert_same(ref, fast, TOL[np.float64])


@needs_numba
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # it does bounce
@pytest.mark.parametrize(("rate", "alpha"), [(0.3, 1.0), (0.1, 10.0)])
def test_scaled_sgd_folds_a_vanishing_scale_into_the_weights(monkeypatch, spy, rate, alpha):
    # rate x alpha = 0.3 shrinks W 0.7-fold a step: the scale passes 1e-9 within 60 steps
    # and is folded into W; at 1 every step first shrinks W to exactly 0.
    X, y = data("regression", np.float64, n=90, seed=3)
    assert (1 - rate * alpha) ** 89 < 1e-9
    both = fit_both(monkeypatch, spy, d.LinearRegression, X, y, optimizer="gd", batch_size=1,
                    learning_rate=rate, penalty="l2", alpha=alpha, epochs=2, tol=None,
                    standardize=False, random_state=0, record_path=True)
    (ref, e1), (fast, e2) = both
    assert e1 is None and e2 is None
    assert_same(ref, fast, TOL[np.float64])
    assert len(fast.history_.path) == len(ref.history_.path) == 1 + 2 * 90
    for (c1, i1), (c2, i2) in zip(ref.history_.path, fast.history_.path, strict=True):
        np.testing.assert_allclose(c2, c1, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(i2, i1, rtol=1e-10, atol=1e-12)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scaled_sgd_with_weights_and_without_intercept(monkeypatch, spy, dtype):
    X, y = data("regression", dtype, n=40, seed=5)
    sw = np.random.default_rng(6).uniform(0.1, 3.0, len(y))
    for fit_intercept in (True, False):
        both = fit_both(monkeypatch, spy, d.LinearRegression, X, y, sample_weight=sw,
                        optimizer="gd", batch_size=1, learning_rate=0.05, penalty="l2",
                        alpha=0.1, epochs=3, tol=None, standardize=False,
                        fit_intercept=fit_intercept, random_state=7)
        assert both[0][1] is None and both[1][1] is None
        assert_same(both[0][0], both[1][0], TOL[dtype], f"{fit_intercept=}")


@needs_numba
def test_a_million_shrinks_of_the_scale_do_not_drift():
    # Perceptron steps on rows it already classifies: each step only shrinks W by
    # (1 - rate l2). Rounding 1 - rate l2 the same way every step would drift by 3e-11
    # over 1e6 steps; the scale's error must stay a random walk (about 1e-13).
    linear = kernels.ready(np.float64)
    n, rate, l2 = 1_000_000, 0.01, 1e-4
    X, y = np.ones((n, 1)), np.ones(n)
    W, b = np.ones(1), np.zeros(1)
    none = np.empty(0)
    status, steps, *_ = linear.epoch(
        X, y, none, np.empty(0, dtype=np.int64), 1, runner.LOSS_CODES["perceptron"], W, b,
        none, none, True, 0.0, l2, True, False, False, 0, np.zeros(5), np.zeros((2, 2)), 0,
        np.full(n, rate), False, 0.0, np.empty((0, 2)), np.zeros(2), *linear.scratch(1, np.float64))
    assert status == 0 and steps == n
    expected = math.exp(n * math.log1p(-(rate * l2)))
    assert W[0] == pytest.approx(expected, rel=2e-12, abs=0)


@needs_numba
@pytest.mark.parametrize("make", [d.Perceptron, d.LinearSVC])
def test_scaled_sgd_skips_rows_whose_slope_is_zero(monkeypatch, spy, make):
    # Separable classes: once they are apart, most rows have a zero slope and their step is
    # the penalty's shrink alone (the scale), without a pass over W.
    rng = np.random.default_rng(4)
    X = rng.normal(size=(400, 5))
    y = (X @ [1.0, -2.0, 0.5, 0.0, 1.0] > 0).astype(int)
    X += np.where(y == 1, 1.0, -1.0)[:, None] * [1.0, -2.0, 0.5, 0.0, 1.0]  # a wide margin
    params = sgd_params(make, {"penalty": "l2"} if make is d.Perceptron else {}, 400, 1e-3,
                        epochs=3, learning_rate=0.1)
    (ref, e1), (fast, e2) = fit_both(monkeypatch, spy, make, X, y, **params)
    assert e1 is None and e2 is None
    assert_same(ref, fast, TOL[np.float64])
    margins = (2 * y - 1) * (X @ np.ravel(fast.coef_) + np.ravel(fast.intercept_))
    assert np.mean(margins > (1 if make is d.LinearSVC else 0)) > 0.9  # zero slopes


@needs_numba
def test_optimizer_state_carries_over_between_the_paths(monkeypatch):
    X, y = data("classification", np.float64, n=30)
    fits = {}
    for switch in ("0", "1"):
        monkeypatch.setenv("DESCENT_JIT", switch)
        fits[switch] = d.LogisticRegression(batch_size=4, epochs=2, tol=None,
                                            random_state=0).fit(X, y)
    ref, mixed = fits["0"], fits["1"]
    (adam, lr), (ref_adam, ref_lr) = mixed._opt_state, ref._opt_state
    assert type(adam) is type(ref_adam) and adam.count == lr.count == ref_lr.count == 2 * 8
    for ours, theirs in zip(adam.grad_avg + adam.grad_sq_avg,
                            ref_adam.grad_avg + ref_adam.grad_sq_avg, strict=True):
        assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)
    monkeypatch.setenv("DESCENT_JIT", "0")
    ref.partial_fit(X, y)
    mixed.partial_fit(X, y)  # continues on NumPy from the compiled loop's Adam state
    assert_same(ref, mixed, TOL[np.float64])


@needs_numba
def test_what_the_kernels_cannot_do_stays_on_numpy(monkeypatch, spy):
    X, y = data("classification", np.float64, n=30)
    y3 = np.arange(30) % 3
    d.LogisticRegression(epochs=2, tol=None).fit(X, y3)  # softmax: several outputs
    d.Perceptron(epochs=2, tol=None).fit(X, y3)  # one-vs-rest: several outputs
    d.LogisticRegression(epochs=2, tol=None).fit(np.asfortranarray(X), y)  # not C order
    d.MLPClassifier((4,), epochs=2, tol=None).fit(X, y)
    assert spy == {"epoch": 0, "pass": 0}
    d.LogisticRegression(epochs=2, tol=None).fit(X, y)
    assert spy["epoch"] == 2


# ----- the pieces ------------------------------------------------------------------------------
@needs_numba
def test_polynomial_exp_and_log1p_reach_the_last_bits():
    from descent.kernels.pointwise import exp_nonpositive, log1p_unit

    for x in np.concatenate([-np.geomspace(1e-12, 700, 400), [0.0, -0.5, -1e-300]]):
        assert exp_nonpositive(x) == pytest.approx(np.exp(x), rel=4e-16, abs=0)
    for e in np.concatenate([np.geomspace(1e-300, 1, 400), [0.0, 0.41421356, 0.5]]):
        assert log1p_unit(e) == pytest.approx(np.log1p(e), rel=4e-16, abs=0)


@pytest.mark.parametrize("name", ["constant", "step", "exponential", "inverse_scaling",
                                  "cosine"])
def test_schedule_rates_equal_the_schedule(name):
    kwargs = {"total_steps": 500} if name == "cosine" else {}
    schedule = get_schedule(name, 0.3, **kwargs)
    rates = rates_module.schedule_rates(name, 0.3, schedule, 500)
    expected = [schedule(s) for s in range(95, 95 + 600)]
    np.testing.assert_allclose(rates(95, 600), expected, rtol=1e-14, atol=0)
    assert rates(0, 0).shape == (0,)


def test_schedule_rates_call_a_schedule_they_cannot_reproduce():
    def odd(step):
        return 0.1 if step % 2 else 0.2

    assert rates_module.schedule_rates(odd, 0.1, odd, 10)(3, 3).tolist() == [0.1, 0.2, 0.1]
    # A named schedule whose formula disagrees with what the optimizer calls: calls win.
    lying = rates_module.schedule_rates("constant", 0.1, odd, 10)
    assert lying(3, 3).tolist() == [0.1, 0.2, 0.1]


def test_switch_turns_the_kernels_off(monkeypatch):
    monkeypatch.setenv("DESCENT_JIT", "0")
    assert not kernels.enabled() and kernels.load() is None
    assert "off" in kernels.describe()


# ----- the cache and the fallbacks, in fresh processes --------------------------------------------
FIT_AND_REPORT = """
import json, numpy as np, descent as d
from descent import kernels
X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
d.LogisticRegression(batch_size=8, epochs=2, tol=None).fit(X, y)
big = np.tile(X, (3000, 1))  # 120,000 x 3: the parallel pass
d.LogisticRegression(batch_size=None, epochs=2, tol=None).fit(big, np.tile(y, 3000))
linear = kernels.load()
stats = {name: getattr(linear, name).stats for name in ("epoch", "chunks_pass")}
print(json.dumps({name: [sum(s.cache_hits.values()), sum(s.cache_misses.values())]
                  for name, s in stats.items()}))
"""

@needs_numba
def test_a_second_process_starts_warm_from_the_disk_cache():
    assert_second_process_starts_warm(FIT_AND_REPORT)


def blocked(folder: Path, name: str) -> Path:
    """A path no one can create, not even root: it lies under a plain file."""
    (folder / "file").write_text("not a folder")
    return folder / "file" / name


CHOOSE = """
import json, os, tempfile
tempfile.tempdir = os.environ.get("BLOCKED_TEMP")  # gettempdir() would fall back to /tmp
import descent
from descent import kernels
module = kernels.load()
from descent.kernels import _jit
print(json.dumps({"loaded": module is not None, "reason": _jit.CACHE_REASON,
                  "folder": str(_jit.CACHE_FOLDER), "describe": kernels.describe()}))
"""


@needs_numba
def test_import_and_load_never_fail_when_no_cache_folder_is_writable(tmp_path):
    # A copy of the package whose kernels/__pycache__ is a file: the package folder is
    # unwritable; so are NUMBA_CACHE_DIR, the user's cache and the temp folder.
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "descent", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "descent" / "kernels" / "__pycache__").write_text("")
    env = {"PYTHONPATH": str(copy), "NUMBA_CACHE_DIR": str(blocked(tmp_path, "numba")),
           "HOME": str(blocked(tmp_path, "home")), "XDG_CACHE_HOME": str(blocked(tmp_path, "xdg")),
           "BLOCKED_TEMP": str(blocked(tmp_path, "temp"))}
    report = run_python(CHOOSE, env, cwd=tmp_path)
    assert report["loaded"] and (report["reason"], report["folder"]) == ("off", "None")
    assert "not cached" in report["describe"]
    # With a writable user cache folder, that one is used and created.
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    report = run_python(CHOOSE, env, cwd=tmp_path)
    assert report["reason"] == "user" and (tmp_path / "xdg" / "descent" / "numba").is_dir()


def test_a_broken_numba_leaves_the_numpy_path(tmp_path):
    fake = tmp_path / "numba"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError('numba is broken here')\n")
    code = """
import json, numpy as np, descent as d
from descent import kernels
X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
m = d.LogisticRegression(batch_size=8, epochs=3, tol=None).fit(X, y)
print(json.dumps({"loaded": kernels.load() is not None, "describe": kernels.describe(),
                  "epochs": m.n_iter_}))
"""
    report = run_python(code, {"PYTHONPATH": str(tmp_path), "DESCENT_JIT": "1"})
    assert report["loaded"] is False and report["epochs"] == 3
    assert "numba is broken here" in report["describe"]


@needs_numba
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() here")
def test_a_forked_child_runs_the_parallel_pass():
    code = """
import json, os, signal, numpy as np, descent as d
from descent.kernels import runner
runner.PARALLEL_WORK = 0  # every batch takes the parallel pass, on the thread pool
X = np.random.default_rng(0).normal(size=(9000, 3)); y = (X[:, 0] > 0).astype(int)
fit = lambda: d.LogisticRegression(batch_size=None, epochs=2, tol=None).fit(X, y).coef_
parent = fit()
pid = os.fork()
if pid == 0:
    signal.alarm(60)  # a child stuck on the parent's dead pool threads dies here
    os._exit(0 if np.array_equal(fit(), parent) else 1)
_, status = os.waitpid(pid, 0)
print(json.dumps({"status": status}))
"""
    assert run_python(code, {"DESCENT_JIT": "1"}) == {"status": 0}
