"""Fits that end well whatever happens: Ctrl-C, extreme scales, bouncing rates, odd inputs.

Issue 11, items 5, 10, 11, 12 and the estimator-input fuzzing. The Ctrl-C tests send
real signals to a real child process; nothing is mocked.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import descent as d
from descent.models import FitInterruptedWarning

# ----- item 5: Ctrl-C during fit ---------------------------------------------------------------
# The child fits for a long time; its callback prints one line an epoch (then naps ``nap``
# seconds), so the test knows when epochs have been logged. It reports the estimator as JSON.
CHILD = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    import descent as d

    kind, nap = sys.argv[1], float(sys.argv[2])
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 8))
    y = (X @ rng.normal(size=8) + 0.3 * rng.normal(size=3000) > 0).astype(int)
    common = dict(epochs=10**6, tol=None, random_state=0)
    model = {"linear": lambda: d.LogisticRegression(**common),
             "full": lambda: d.LogisticRegression(batch_size=None, **common),
             "mlp": lambda: d.MLPClassifier((16,), **common)}[kind]()

    def tick(est, epoch, logs):
        print(f"epoch {epoch}", flush=True)
        time.sleep(nap)

    model.set_params(callbacks=[tick])
    try:
        model.fit(X, y)
        outcome = "returned"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    fitted = hasattr(model, "coefs_" if kind == "mlp" else "coef_")
    params = np.zeros(0) if not fitted else (
        np.concatenate([np.ravel(c) for c in model.coefs_]) if kind == "mlp"
        else np.ravel(model.coef_))
    print(json.dumps({
        "outcome": outcome, "fitted": fitted, "n_iter": model.n_iter_,
        "losses": len(model.history_.loss), "epochs": len(model.history_.epoch),
        "stopped": getattr(model.history_, "stopped", None),
        "finite": bool(np.isfinite(params).all()) and params.size > 0,
        "accuracy": float(model.score(X, y)) if fitted else None,
    }))
""")


def interrupt_child(kind: str, presses: int, nap: float, env=None):
    """Start the child, wait for three logged epochs, press Ctrl-C ``presses`` times.

    Returns (its report, its stderr).
    """
    child = subprocess.Popen([sys.executable, "-c", CHILD, kind, str(nap)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **(env or {})})
    try:
        for line in child.stdout:
            if line.strip() == "epoch 3":
                break
        for _ in range(presses):
            os.kill(child.pid, signal.SIGINT)
            if presses > 1:
                time.sleep(0.2)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


@pytest.mark.parametrize("kind,jit", [("linear", "1"), ("mlp", "1")])
def test_one_ctrl_c_keeps_the_training_so_far(kind, jit):
    report, err = interrupt_child(kind, presses=1, nap=0.0, env={"DESCENT_JIT": jit})
    assert report["outcome"] == "returned", report
    assert "FitInterruptedWarning" in err and "interrupted" in err, err
    assert report["n_iter"] == report["losses"] == report["epochs"] > 0, report
    assert report["stopped"] == "interrupted"
    assert report["finite"]
    assert report["accuracy"] > 0.8, report  # trained: far better than chance


def test_second_ctrl_c_stops_at_once_and_leaves_the_last_epoch():
    # Both presses land while the callback naps: the first asks the loop to stop after
    # this epoch, the second raises KeyboardInterrupt at once, inside the nap.
    report, err = interrupt_child("linear", presses=2, nap=1.5)
    assert report["outcome"] == "KeyboardInterrupt", report
    assert report["n_iter"] == report["losses"] == report["epochs"] > 0, report
    assert report["stopped"] == "interrupted"
    assert report["finite"]
    assert report["accuracy"] > 0.8, report


# The same in this process: real SIGINTs, sent by the callback itself (or by a timer
# thread, to land inside an epoch), so the loop's answer is exact and fast to check.
def _blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X @ [1.0, -2.0, 0.5, 1.0] > 0).astype(int)


def _press_at(epoch: int, presses: int = 1):
    def callback(est, e, logs):
        if e == epoch:
            for _ in range(presses):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)  # the handler runs between bytecodes: let it
    return callback


def _consistent(model):
    assert model.n_iter_ == len(model.history_.loss) == len(model.history_.epoch)
    assert len(model.history_.grad_norm) == len(model.history_.time) == model.n_iter_
    params = getattr(model, "coef_", None)
    params = np.ravel(params) if params is not None else np.concatenate(
        [np.ravel(c) for c in model.coefs_])
    assert np.isfinite(params).all()


@pytest.mark.parametrize("make", [
    lambda **k: d.LogisticRegression(**k),
    lambda **k: d.LogisticRegression(batch_size=None, **k),
    lambda **k: d.LogisticRegression(optimizer="momentum", **k),
    lambda **k: d.MLPClassifier((8,), **k),
    lambda **k: d.MLPClassifier((8,), optimizer="rmsprop", **k),
])
@pytest.mark.parametrize("jit", ["0", "1"])
def test_ctrl_c_in_a_callback_ends_the_fit_after_that_epoch(monkeypatch, make, jit):
    monkeypatch.setenv("DESCENT_JIT", jit)
    X, y = _blobs()
    before = signal.getsignal(signal.SIGINT)
    model = make(epochs=500, tol=None, random_state=0, callbacks=[_press_at(4)])
    with pytest.warns(FitInterruptedWarning, match="after 4 complete epoch"):
        model.fit(X, y)
    assert signal.getsignal(signal.SIGINT) is before  # the handler is given back
    _consistent(model)
    assert model.n_iter_ == 4 and model.history_.stopped == "interrupted"
    assert model.score(X, y) > 0.75  # four epochs (four steps at full batch) trained it
    # and it goes on from there
    model.set_params(warm_start=True, callbacks=None, epochs=3)
    model.fit(X, y)
    assert model.n_iter_ == 3 and model.history_.epoch[-1] == 7
    assert model.history_.stopped == "max_epochs"


def test_ctrl_c_inside_a_long_epoch_stops_after_the_step(monkeypatch):
    """The NumPy loop asks between steps: the epoch under way ends early, its steps kept."""
    monkeypatch.setenv("DESCENT_JIT", "0")
    X, y = _blobs(n=20_000)
    timers = []

    def press_soon(est, epoch, logs):  # a real SIGINT, 50 ms into epoch 2
        timer = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGINT))
        timers.append(timer)
        timer.start()

    model = d.LogisticRegression(batch_size=1, epochs=3, tol=None, random_state=0,
                                 callbacks=[press_soon])
    with pytest.warns(FitInterruptedWarning, match=r"after 1 complete epoch\(s\) and \d+ step"):
        model.fit(X, y)
    for timer in timers:
        timer.join()
    _consistent(model)
    assert model.n_iter_ == 1
    assert 0 < model._steps - 20_000 < 20_000  # part of epoch 2 is in the parameters
    assert model.score(X, y) > 0.9


def test_second_ctrl_c_in_process_keeps_the_last_complete_epoch():
    X, y = _blobs()
    model = d.MLPClassifier((8,), epochs=500, tol=None, random_state=0,
                            callbacks=[_press_at(3, presses=2)])
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    _consistent(model)
    assert model.n_iter_ == 3 and model.history_.stopped == "interrupted"
    model.predict(X)


def test_ctrl_c_with_early_stopping_keeps_the_best_epoch():
    X, y = _blobs(n=600)
    seen = []

    def record(est, epoch, logs):
        seen.append(logs["val_loss"])

    model = d.LogisticRegression(epochs=500, tol=0.0, n_iter_no_change=10**6,
                                 early_stopping=True, random_state=0,
                                 callbacks=[record, _press_at(6)])
    with pytest.warns(FitInterruptedWarning, match="best on the validation"):
        model.fit(X, y)
    assert model.n_iter_ == 6 and len(model.history_.val_loss) == 6
    best = int(np.argmin(seen))
    again = d.LogisticRegression(epochs=best + 1, tol=None, early_stopping=True,
                                 random_state=0).fit(X, y)
    np.testing.assert_allclose(model.coef_, again.coef_, rtol=1e-12)


def test_an_error_in_a_callback_leaves_the_last_complete_epoch():
    X, y = _blobs()

    def fail(est, epoch, logs):
        if epoch == 5:
            raise RuntimeError("the callback failed")

    model = d.LogisticRegression(epochs=50, tol=None, random_state=0, callbacks=[fail])
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X, y)
    _consistent(model)
    assert model.n_iter_ == 5


def test_a_fit_refused_or_interrupted_before_any_epoch_leaves_the_estimator_as_it_was():
    X, y = _blobs()
    model = d.LogisticRegression(epochs=3, random_state=0).fit(X, y)
    coef, history = model.coef_.copy(), model.history_.as_dict()
    with pytest.raises(ValueError, match="NaN"):
        model.fit(np.where(X > 2, np.nan, X), y)
    np.testing.assert_array_equal(model.coef_, coef)

    def pressing(step):  # a schedule, called at each step: two presses at step 5
        if step == 5:
            _press_twice()
        return 0.01

    model.set_params(schedule=pressing)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:, ::-1] * 2.0, y)
    np.testing.assert_array_equal(model.coef_, coef)
    assert model.history_.as_dict() == history and model.n_iter_ == 3
    assert model.history_.stopped == "max_epochs"
    assert model.schedule is pressing


def _press_twice():
    for _ in range(2):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the first press's handler runs before the second arrives


# ----- item 10: tiny and huge scales ------------------------------------------------------------
def _scaled_problem(dtype):
    """A classification and a regression on 3 informative columns and a constant one."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 3)) * [1.0, 3.0, 0.5] + [1.0, -2.0, 0.0]
    X = np.column_stack([X, np.full(300, 7.0)])  # zero variance: must stay harmless
    score = X[:, :3] @ [1.5, -0.5, 2.0] + 0.3 * rng.normal(size=300)
    return X.astype(dtype), (score > np.median(score)).astype(int), score.astype(dtype)


SCALES = [(np.float64, s) for s in (1e-160, 1e-300, 1e150, 1e300)] + \
    [(np.float32, s) for s in (1e-30, 1e-36, 1e25, 1e30)]


@pytest.mark.parametrize("jit", ["0", "1"])
@pytest.mark.parametrize("dtype,scale", SCALES)
def test_features_of_any_representable_scale_fit_as_well_as_unscaled(monkeypatch, jit, dtype,
                                                                      scale):
    monkeypatch.setenv("DESCENT_JIT", jit)
    X, labels, target = _scaled_problem(dtype)
    Xs = (X * dtype(scale)).astype(dtype)
    assert np.isfinite(Xs).all() and (Xs[:, 0] != 0).all()  # representable, not flushed
    rtol = 1e-6 if dtype == np.float64 else 2e-2
    settings = dict(epochs=40, tol=None, random_state=0)
    for make, y in ((d.LogisticRegression, labels), (d.LinearRegression, target)):
        ref = make(**settings).fit(X, y)
        fit = make(**settings).fit(Xs, y)
        assert fit.score(Xs, y) == pytest.approx(ref.score(X, y), abs=1e-6 if
                                                  dtype == np.float64 else 1e-2), make
        np.testing.assert_allclose(np.ravel(fit.coef_)[:3] * scale, np.ravel(ref.coef_)[:3],
                                   rtol=rtol, err_msg=make.__name__)
        assert np.isfinite(fit.predict(Xs)).all()
    # the target's scale too
    ref = d.LinearRegression(**settings).fit(X, target)
    fit = d.LinearRegression(**settings).fit(X, (target * dtype(scale)).astype(dtype))
    np.testing.assert_allclose(fit.coef_[:3] / scale, ref.coef_[:3], rtol=rtol)


@pytest.mark.parametrize("compiled", [False, None])
@pytest.mark.parametrize("scale", [1e-300, 1e-160, 1e-100, 1.0, 1e100, 1e160, 1e300])
def test_column_stats_of_any_scale(compiled, scale):
    from descent.kernels.stats import column_stats

    rng = np.random.default_rng(0)
    A = rng.normal(size=(5000, 3)) * [1.0, 2.0, 0.5] + [0.5, -1.0, 3.0]
    A = np.column_stack([A, np.full(5000, 4.0), np.zeros(5000)])
    sw = rng.uniform(0.5, 2.0, 5000)
    mean, spread = column_stats(A, sw)
    mean_s, spread_s, constant = column_stats(A * scale, sw, compiled=compiled,
                                              return_constant=True)
    np.testing.assert_allclose(mean_s[:4] / scale, mean[:4], rtol=1e-13)
    np.testing.assert_allclose(spread_s[:3] / scale, spread[:3], rtol=1e-12)
    assert spread_s[3] == spread_s[4] == 1.0 and mean_s[4] == 0.0  # constant: left unscaled
    assert constant.tolist() == [False, False, False, True, True]


@pytest.mark.parametrize("jit", ["0", "1"])
def test_a_constant_column_gets_a_zero_coefficient(monkeypatch, jit):
    """Centred, a constant column is 0: its weight stays exactly 0, as scikit-learn's."""
    monkeypatch.setenv("DESCENT_JIT", jit)
    X, labels, target = _scaled_problem(np.float64)
    for model in (d.LinearRegression(random_state=0).fit(X, target),
                  d.LogisticRegression(init="random", random_state=0).fit(X, labels),
                  d.LinearSVC(optimizer="rmsprop", random_state=0).fit(X, labels)):
        assert np.ravel(model.coef_)[3] == 0.0, type(model).__name__
        assert model._x_scale[3] == 1.0
    net = d.MLPRegressor((5,), epochs=20, random_state=0).fit(X, target)
    assert (net.coefs_[0][3] == 0).all()
    # without an intercept the constant column stands in for it, and is trained
    plain = d.LinearRegression(fit_intercept=False, random_state=0).fit(X, target)
    assert plain.coef_[3] != 0.0 and plain.score(X, target) > 0.9


# ----- item 11: bouncing without overflow ------------------------------------------------------
def _diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True, scaled=False)


@pytest.mark.parametrize("settings,advice", [
    (dict(learning_rate=10, batch_size=None), "learning_rate=1"),  # ends far above its start
    (dict(learning_rate=10, batch_size=None, standardize=False), "learning_rate=1"),
    (dict(learning_rate=1, batch_size=None, standardize=False), "learning_rate=0.1"),  # fell,
    # then bounced back up most of the way
])
def test_a_fit_that_bounces_warns_with_the_divergence_advice(settings, advice):
    from sklearn.exceptions import ConvergenceWarning

    X, y = _diabetes()
    model = d.LinearRegression(random_state=0, **settings)
    with pytest.warns(ConvergenceWarning, match=advice) as caught:
        model.fit(X, y)
    assert model.score(X, y) < 0  # worse than predicting the mean: the warning is deserved
    message = str(caught[0].message)
    assert "LinearRegression" in message and "loss" in message


def test_healthy_fits_do_not_warn():
    from sklearn.exceptions import ConvergenceWarning

    X, y = _diabetes()
    Xc, labels, _ = _scaled_problem(np.float64)
    rng = np.random.default_rng(0)
    flip = rng.random(len(labels)) < 0.1  # not separable: the perceptron cycles
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for lr in (0.01, 0.1, 1.0):
            d.LinearRegression(learning_rate=lr, random_state=0).fit(X, y)
            d.LinearRegression(learning_rate=lr, batch_size=None, random_state=0).fit(X, y)
        d.LinearRegression(loss="absolute_error", random_state=0).fit(X, y)
        d.LinearRegression(early_stopping=True, random_state=0).fit(X, y)
        d.LogisticRegression(random_state=0).fit(Xc, labels)
        d.LogisticRegression(optimizer="gd", learning_rate=1.0, batch_size=None,
                             random_state=0).fit(Xc, labels)
        d.LinearSVC(random_state=0).fit(Xc, labels)
        d.Perceptron(random_state=0).fit(Xc, np.where(flip, 1 - labels, labels))
        d.Perceptron(batch_size=None, random_state=0).fit(Xc, labels)
        d.MLPClassifier((8,), epochs=200, random_state=0).fit(Xc, labels)
        d.MLPRegressor((8,), epochs=200, random_state=0).fit(X, y)
        d.LinearRegression(epochs=1, random_state=0).fit(X, y)  # too short to judge


# ----- fuzzing: estimator inputs --------------------------------------------------------------
ESTIMATORS = {
    "LinearRegression": (lambda: d.LinearRegression(epochs=3, random_state=0), False),
    "Perceptron": (lambda: d.Perceptron(epochs=3, random_state=0), True),
    "LogisticRegression": (lambda: d.LogisticRegression(epochs=3, random_state=0), True),
    "LinearSVC": (lambda: d.LinearSVC(epochs=3, random_state=0), True),
    "MLPClassifier": (lambda: d.MLPClassifier((4,), epochs=3, random_state=0), True),
    "MLPRegressor": (lambda: d.MLPRegressor((4,), epochs=3, random_state=0), False),
}
# Words one of which a refusal must use to name the problem.
NAMED_PROBLEMS = ("nan", "infinity", "infinite", "class", "sample", "feature", "label",
                  "target", "dtype", "finite", "empty", "shape", "numeric", "weight")


@st.composite
def estimator_inputs(draw):
    """(X, y, what was done to them): random shapes, dtypes and awkward contents."""
    n = draw(st.integers(1, 60))
    p = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = draw(st.sampled_from(["float64", "float32", "int", "bool", "object"]))
    scales = [1.0, 1e-3, 1e6] + ([1e-200, 1e200] if kind == "float64" else [])
    scale = draw(st.sampled_from(scales))
    X = rng.normal(size=(n, p)) * scale
    if draw(st.booleans()):  # a column without variance
        X[:, draw(st.integers(0, p - 1))] = draw(st.sampled_from([0.0, 3.0, -1e6]))
    labels = (X[:, 0] > np.median(X[:, 0])).astype(int)
    if draw(st.booleans()):  # separable by feature 0, else noisy
        labels = np.where(rng.random(n) < 0.2, 1 - labels, labels)
    if draw(st.integers(0, 3)) == 0:
        labels[:] = draw(st.sampled_from([0, 1]))  # one class
    target = X[:, 0] * 2.0 + rng.normal(size=n)
    X = {"float64": lambda: X, "float32": lambda: X.astype(np.float32),
         "int": lambda: np.round(X).astype(np.int64), "bool": lambda: X > 0,
         "object": lambda: np.array(X.tolist(), dtype=object)}[kind]()
    bad = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    where = draw(st.sampled_from(["X", "y"]))
    if bad is not None and kind in ("float64", "float32", "object"):
        i, j = draw(st.integers(0, n - 1)), draw(st.integers(0, p - 1))
        if where == "X":
            X[i, j] = bad
        else:
            target[i] = bad
    else:
        bad = None
    weights = draw(st.sampled_from([None, "random", "some zero", "all zero", "negative"]))
    sw = None if weights is None else {
        "random": rng.uniform(0.1, 5.0, n), "some zero": (rng.random(n) < 0.7) * 1.0,
        "all zero": np.zeros(n), "negative": -rng.random(n)}[weights]
    return X, labels, target, dict(n=n, p=p, kind=kind, bad=bad, where=where, sw=sw)


@pytest.mark.parametrize("name", list(ESTIMATORS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=estimator_inputs())
def test_estimators_refuse_clearly_or_fit_finite(name, case):
    X, labels, target, what = case
    make, classifier = ESTIMATORS[name]
    if classifier and what["where"] == "y" and what["bad"] is not None:
        target[:] = 0.0  # labels hold no NaN: nothing was spoilt after all
        what["bad"] = None
    y = labels if classifier else target
    model = make()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a 3-epoch fit may well warn: not the point here
            model.fit(X, y, sample_weight=what["sw"])
    except ValueError as err:
        message = str(err).lower()
        assert any(word in message for word in NAMED_PROBLEMS), (what, str(err))
        assert "np.int64" not in str(err) and "np.float" not in str(err), str(err)
        if what["bad"] is not None and ("contains nan" in message or "infinit" in message):
            assert ("contains nan" in message) == np.isnan(what["bad"]), str(err)
            assert what["where"] in str(err), str(err)  # names X or y
        return
    assert what["bad"] is None, f"a {what['bad']} in {what['where']} was accepted: {what}"
    predictions = model.predict(X)
    assert len(predictions) == what["n"]
    if classifier:
        assert set(np.unique(predictions)) <= set(model.classes_.tolist())
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(X)
            assert np.isfinite(proba).all() and np.allclose(proba.sum(axis=1), 1.0)
    else:
        assert np.isfinite(predictions).all(), (what, predictions)


def test_lr_find_keeps_quiet_about_bouncing_and_stops_at_ctrl_c():
    from sklearn.exceptions import ConvergenceWarning

    X, y = _diabetes()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # large rates bounce: on purpose
        found = d.lr_find(d.LinearRegression(batch_size=None, random_state=0), X, y,
                          rates=[0.01, 0.1, 10.0], epochs=8)
    assert found.suggested in (0.01, 0.1)
    pressed = []

    def pressing(step):  # one Ctrl-C, during the first rate's fit
        if not pressed and step == 3:
            pressed.append(step)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        return 0.01

    with pytest.raises(KeyboardInterrupt):
        d.lr_find(d.LinearRegression(schedule=pressing, random_state=0), X, y,
                  rates=[0.1, 1.0], epochs=5)
    assert pressed


@pytest.mark.parametrize("make", [lambda: d.LinearRegression(), lambda: d.MLPRegressor((3,))])
@pytest.mark.parametrize("bad,word", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_a_non_finite_target_is_named_with_the_fix(make, bad, word):
    X = np.random.default_rng(0).normal(size=(10, 2))
    y = X[:, 0].copy()
    y[3] = bad
    with pytest.raises(ValueError, match=rf"Input y contains {word} \(first at row 3\).*"
                                         r"(drop|replace)"):
        make().fit(X, y)


@pytest.mark.parametrize("weights,match", [
    (np.zeros(10), r"sample_weight sums to zero; give at least one point a positive weight"),
    (-np.ones(10), r"sample_weight must be non-negative.*drop or reweight"),
    (np.r_[np.ones(9), np.nan], r"sample_weight contains NaN or infinity.*finite"),
])
def test_bad_sample_weights_are_named_with_the_fix(weights, match):
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=match):
        d.LinearRegression().fit(X, X[:, 0], sample_weight=weights)
