"""The networks' fast paths against the training loop's own steps, bit for bit.

``NetworkObjective.compiled`` hands the training loop an ``EpochRunner``: whole epochs
with the backward pass in reused buffers and Adam fused in place. Turning it off (the
loop then takes its own steps with ``loss_and_grads``) must change nothing.

Where Numba runs, the elementwise passes of the backward pass and the Adam step are
compiled (``descent.kernels.network``); ``DESCENT_JIT=0`` runs the NumPy passes, and the
two agree to rounding.
"""

import importlib.util

import numpy as np
import pytest

import descent as d
from descent import optim
from descent.losses import get_loss
from descent.models import DivergenceError, backprop
from descent.models.mlp import NetworkObjective
from descent.models.network_epoch import EpochRunner, _numpy_adam_step

from .subprocesses import assert_second_process_starts_warm

needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                 reason="Numba is not installed")
# Compiled against NumPy after 3 epochs of Adam: the sums add in another order, Adam
# carries the last-bit differences on. float32: both round to 24 bits, in other places.
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


@pytest.fixture
def loop_steps(monkeypatch):
    """Run the next fits on the training loop's own steps (no runner)."""

    def off():
        monkeypatch.setattr(NetworkObjective, "compiled", lambda self, *args: None)

    return off


def _data(kind, rng):
    X = rng.normal(size=(203, 5)) * [1, 2, 3, 4, 5] + [0, 1, 2, 3, 4]
    if kind == "regression":
        return X, X[:, 0] ** 2 + X[:, 1]
    if kind == "three":
        return X, rng.integers(0, 3, len(X))
    return X, (X[:, 0] + X[:, 1] * X[:, 2] > 1).astype(int)


def _fit(kind, kw, weights=False, dtype=np.float64):
    rng = np.random.default_rng(0)
    X, y = _data(kind, rng)
    sw = rng.random(len(X)) + 0.5 if weights else None
    model = (d.MLPRegressor if kind == "regression" else d.MLPClassifier)(
        epochs=3, tol=None, random_state=0, **kw)
    return model.fit(X.astype(dtype), y, sample_weight=sw)


def _leaves(tree):
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [tree]


CASES = [
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16)),
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16, activation="tanh")),
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16, activation="sigmoid")),
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16, activation="identity")),
    ("binary", dict(hidden_layer_sizes=(7, 5), batch_size=32, penalty="l1", alpha=0.01)),
    ("binary", dict(hidden_layer_sizes=(7, 5), batch_size=32, penalty="elasticnet", alpha=0.01)),
    ("binary", dict(hidden_layer_sizes=(7, 5), batch_size=32, penalty=None)),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=20, optimizer="momentum")),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=20, optimizer="rmsprop")),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=20, optimizer="gd")),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=20, optimizer="adagrad")),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=20, schedule="cosine")),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=None)),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=33, shuffle=False)),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=16, standardize=False)),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=16, early_stopping=True)),
    ("three", dict(hidden_layer_sizes=(6, 4), batch_size=16, activation="tanh",
                   penalty="elasticnet")),
    ("regression", dict(hidden_layer_sizes=(6, 3), batch_size=16, activation="sigmoid")),
]


@pytest.mark.parametrize(("kind", "kw"), CASES)
@pytest.mark.parametrize("weights", [False, True])
def test_the_runner_takes_the_training_loops_steps(kind, kw, weights, loop_steps):
    fast = _fit(kind, kw, weights)
    loop_steps()
    slow = _fit(kind, kw, weights)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert fast.history_.loss == slow.history_.loss
    assert fast.history_.grad_norm == slow.history_.grad_norm
    # The optimizer's state comes back in the same layout, so partial_fit, warm starts
    # and saved models carry on the same either way.
    assert type(fast._opt_state) is type(slow._opt_state)
    for a, b in zip(_leaves(fast._opt_state), _leaves(slow._opt_state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_float32_stays_float32_and_matches(loop_steps):
    fast = _fit("binary", dict(hidden_layer_sizes=(6,), batch_size=16), dtype=np.float32)
    loop_steps()
    slow = _fit("binary", dict(hidden_layer_sizes=(6,), batch_size=16), dtype=np.float32)
    assert all(W.dtype == np.float32 for W in fast.coefs_)
    for a, b in zip(fast.coefs_, slow.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


def test_partial_fit_and_recorded_paths_match(loop_steps):
    rng = np.random.default_rng(1)
    X, y = _data("binary", rng)

    def run():
        net = d.MLPClassifier((5,), batch_size=32, random_state=0, record_path=True)
        for _ in range(3):
            net.partial_fit(X, y, classes=[0, 1])
        return net

    fast = run()
    loop_steps()
    slow = run()
    assert len(fast.history_.path) == len(slow.history_.path) == 1 + 3 * 7
    for (wa, ba), (wb, bb) in zip(fast.history_.path, slow.history_.path, strict=True):
        for a, b in zip(wa + ba, wb + bb, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_divergence_stops_at_the_same_step_with_the_same_parameters(optimizer, loop_steps):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(300, 4)) * 50, rng.normal(size=300) * 1e3

    def run():
        net = d.MLPRegressor((16,), learning_rate=1e6, optimizer=optimizer, batch_size=10,
                             standardize=False, epochs=50, tol=None, random_state=0)
        with pytest.raises(DivergenceError, match="diverged") as err:
            net.fit(X, y)
        return net, err.value

    fast, fast_err = run()
    loop_steps()
    slow, slow_err = run()
    assert str(fast_err) == str(slow_err)
    for a, b in zip(fast_err.params, slow_err.params, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(fast.coefs_[0], slow.coefs_[0])


def test_an_epoch_leaves_the_callers_arrays_alone():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(50, 3)), rng.integers(0, 2, (50, 1)).astype(float)
    objective = NetworkObjective(get_loss("log_loss"), "relu", "l2", 0.01, 0.15, None, None, 2,
                                 optimizer="adam", learning_rate=0.1)
    params = [rng.normal(size=(3, 4)), np.zeros(4), rng.normal(size=(4, 1)), np.zeros(1)]
    state = optim.adam(0.1).init(params)
    before = [p.copy() for p in params]
    runner = EpochRunner.create(objective, params, X, Y, None, 8, state)
    done = runner.epoch(params, state, rng.permutation(50), None, None)
    assert done.steps == 7 and done.diverged is None
    for p, q in zip(params, before, strict=True):
        np.testing.assert_array_equal(p, q)
    assert all(not np.shares_memory(a, b) for a in params for b in done.params)
    assert state[0].count == 0 and done.opt_state[0].count == done.opt_state[1].count == 7
    assert not np.any(state[0].grad_avg[0])


def test_fused_gradients_are_new_arrays_each_call():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 1))
    objective = NetworkObjective(get_loss("squared_error"), "tanh", None, 0.0, 0.0, None, None, 2)
    params = [rng.normal(size=(3, 4)), np.zeros(4), rng.normal(size=(4, 1)), np.zeros(1)]
    _, first = objective.loss_and_grads(params, X, Y, None)
    kept = [g.copy() for g in first]
    objective.loss_and_grads([p * 2 for p in params], X[:4], Y[:4], None)
    for g, k in zip(first, kept, strict=True):
        np.testing.assert_array_equal(g, k)


def test_engine_backprop_takes_the_loops_own_steps():
    objective = NetworkObjective(get_loss("log_loss"), "relu", None, 0.0, 0.0, None, None, 2,
                                 backprop="engine", optimizer="adam", learning_rate=0.1)
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    params = [np.zeros((2, 3)), np.zeros(3), np.zeros((3, 1)), np.zeros(1)]
    assert objective.compiled(params, X, Y, None, 2, optim.adam(0.1).init(params)) is None


def test_the_default_adam_is_the_fused_step(monkeypatch):
    """The training loop hands each epoch to the runner, and Adam takes the fused step."""
    calls = []
    fused = EpochRunner._adam_epoch

    def refuse(*args):
        raise AssertionError("the named Adam fell back to its update")

    def counted(self, *args):
        calls.append(1)
        return fused(self, *args)

    monkeypatch.setattr(EpochRunner, "_update_epoch", refuse)
    monkeypatch.setattr(EpochRunner, "_adam_epoch", counted)
    _fit("binary", dict(hidden_layer_sizes=(6,), batch_size=16))
    _fit("three", dict(hidden_layer_sizes=(6, 4), batch_size=16), weights=True)
    assert len(calls) == 6  # 3 epochs each


# ----- the compiled kernels against the NumPy passes ------------------------------------------
@pytest.fixture
def compiled_calls(monkeypatch):
    """Counts the steps that went through the compiled kernels."""
    calls = []
    compiled = backprop.Workspace._compiled_loss_and_grads

    def counted(self, *args):
        calls.append(1)
        return compiled(self, *args)

    monkeypatch.setattr(backprop.Workspace, "_compiled_loss_and_grads", counted)
    return calls


COMPILED_CASES = [
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16)),
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16, activation="tanh")),
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16, activation="sigmoid")),
    ("binary", dict(hidden_layer_sizes=(8,), batch_size=16, activation="identity")),
    ("binary", dict(hidden_layer_sizes=(7, 5), batch_size=32)),
    ("binary", dict(hidden_layer_sizes=(7, 5), batch_size=32, activation="tanh", penalty=None)),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=16, standardize=False)),
    ("binary", dict(hidden_layer_sizes=(6,), batch_size=20, optimizer="rmsprop")),
    ("regression", dict(hidden_layer_sizes=(6, 3), batch_size=16, activation="sigmoid")),
    ("regression", dict(hidden_layer_sizes=(6,), batch_size=None)),
]


@needs_numba
@pytest.mark.parametrize(("kind", "kw"), COMPILED_CASES)
@pytest.mark.parametrize("weights", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_compiled_kernels_equal_the_numpy_passes(kind, kw, weights, dtype, monkeypatch,
                                                  compiled_calls):
    monkeypatch.setenv("DESCENT_JIT", "1")
    fast = _fit(kind, kw, weights, dtype)
    assert compiled_calls, "the compiled kernels did not run"
    monkeypatch.setenv("DESCENT_JIT", "0")
    count = len(compiled_calls)
    slow = _fit(kind, kw, weights, dtype)
    assert len(compiled_calls) == count, "DESCENT_JIT=0 still ran the compiled kernels"
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, **TOL[dtype])
    np.testing.assert_allclose(fast.history_.loss, slow.history_.loss, **TOL[dtype])


@needs_numba
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "identity"])
@pytest.mark.parametrize("loss", ["log_loss", "squared_error"])
@pytest.mark.parametrize("weighted", [False, True])
def test_one_compiled_gradient_equals_numpys_to_rounding(activation, loss, weighted,
                                                         monkeypatch):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(37, 6)) * 2 + 1
    Y = (rng.integers(0, 2, (37, 1)).astype(float) if loss == "log_loss"
         else rng.normal(size=(37, 1)))
    sw = rng.random(37) + 0.5 if weighted else None
    params = [rng.normal(size=(6, 5)), rng.normal(size=5), rng.normal(size=(5, 4)),
              rng.normal(size=4), rng.normal(size=(4, 1)), rng.normal(size=1)]
    results = []
    for switch in ("1", "0"):
        monkeypatch.setenv("DESCENT_JIT", switch)
        objective = NetworkObjective(get_loss(loss), activation, "l2", 0.1, 0.0, X.mean(0),
                                     X.std(0), 3)
        results.append(objective.loss_and_grads(params, X, Y, sw))
        assert (objective._workspace.compiled is None) == (switch == "0")
    (v1, g1), (v2, g2) = results
    assert v1 == pytest.approx(v2, rel=1e-12)
    for a, b in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_compiled_adam_step_is_numpys_bit_for_bit(dtype):
    from descent.kernels import network

    rng = np.random.default_rng(6)
    p, g, m = (rng.normal(size=101).astype(dtype) for _ in range(3))
    v = rng.random(101).astype(dtype)
    scalars = (0.9, 0.999, 0.1, 0.001, 1e-8, 1 / (1 - 0.9**3), (1 / (1 - 0.999**3)) ** 0.5, -0.01)
    mine = [a.copy() for a in (p, g, m, v)]
    network.adam_step(*mine, *(dtype(x) for x in scalars))
    theirs = [a.copy() for a in (p, g, m, v)]
    _numpy_adam_step(*theirs, np.empty_like(p), np.empty_like(p), *scalars)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(mine[0], p)


@needs_numba
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "identity"])
def test_compiled_activations_equal_numpys_and_let_nan_through(activation):
    from descent.kernels import network

    z = np.array([[-3.0, -0.5, 0.0, 0.5, 3.0, np.nan, -800.0, 800.0]])
    b = np.zeros(z.shape[1])
    compiled = z.copy()
    network.bias_activate(compiled, b, network.ACTIVATION_CODES[activation])
    expected = backprop.ACTIVATIONS[activation].forward(z)
    np.testing.assert_allclose(compiled, expected, rtol=1e-15, atol=0)
    assert np.isnan(compiled[0, 5])


def test_what_the_kernels_do_not_cover_runs_the_numpy_passes(monkeypatch, compiled_calls):
    monkeypatch.setenv("DESCENT_JIT", "1")
    _fit("three", dict(hidden_layer_sizes=(6,), batch_size=16))  # softmax: several outputs
    _fit("binary", dict(hidden_layer_sizes=(), batch_size=16))  # no hidden layer
    assert not compiled_calls
    monkeypatch.setenv("DESCENT_JIT", "0")
    _fit("binary", dict(hidden_layer_sizes=(6,), batch_size=16))
    assert not compiled_calls


WARM_START = """
import json, numpy as np, descent as d
from descent.kernels import network
X = np.random.default_rng(0).normal(size=(40, 3)); y = (X[:, 0] > 0).astype(int)
for dtype in (np.float64, np.float32):
    d.MLPClassifier((4,), batch_size=8, epochs=2, tol=None).fit(X.astype(dtype), y)
stats = {name: getattr(network, name).stats for name in network.KERNELS}
print(json.dumps({name: [sum(s.cache_hits.values()), sum(s.cache_misses.values())]
                  for name, s in stats.items()}))
"""

@needs_numba
def test_a_second_process_loads_the_network_kernels_from_the_disk_cache():
    report = assert_second_process_starts_warm(WARM_START)
    assert len(report) == 7
