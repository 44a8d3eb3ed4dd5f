"""Defaults that matter for speed and for reaching the optimum."""

import numpy as np
import pytest

import descent as d
from descent.kernels.stats import column_stats


@pytest.mark.parametrize("optimizer, decays", [("adam", True), ("rmsprop", True), ("gd", False),
                                               ("momentum", False)])
def test_default_schedule_decays_only_for_fixed_size_steppers(optimizer, decays):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 3))
    y = X @ [1.0, -2.0, 0.5]
    model = d.LinearRegression(optimizer=optimizer, learning_rate=0.01, epochs=3, tol=None,
                               batch_size=16, random_state=0).fit(X, y)
    rates = model.history_.learning_rate
    if decays:  # learning_rate / sqrt-ish(step + 1): 4 steps per epoch
        np.testing.assert_allclose(rates, [0.01 / (s + 1) ** 0.25 for s in (3, 7, 11)])
    else:
        assert rates == [0.01] * 3
    explicit = d.LinearRegression(optimizer=optimizer, schedule="constant", epochs=3, tol=None,
                                  batch_size=16, random_state=0).fit(X, y)
    assert explicit.history_.learning_rate == [0.01] * 3


def test_scale_is_exact_for_columns_with_a_large_offset_and_weights():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(5000, 4)) * [1.0, 3.0, 1e-3, 0.0] + [0.0, 1e6, -5.0, 7.0]
    sw = rng.uniform(0.1, 2.0, size=5000)
    mean, scale = column_stats(A, sw)
    w = sw / sw.sum()
    np.testing.assert_allclose(mean, w @ A, rtol=1e-12)
    expected = np.sqrt(w @ (A - w @ A) ** 2)
    np.testing.assert_allclose(scale[:3], expected[:3], rtol=1e-7)
    assert scale[3] == 1.0  # a constant column is left unscaled


@pytest.mark.parametrize("make", [
    lambda: d.LinearRegression(epochs=3, tol=None, random_state=0),
    lambda: d.MLPRegressor((4,), epochs=3, tol=None, random_state=0),
])
def test_float32_regressors_keep_float32_parameters_after_unscaling_the_target(make):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)).astype(np.float32)
    y = (X @ [1.0, -2.0, 0.5] * 100 + 50).astype(np.float32)
    model = make().fit(X, y)
    params = [model.coef_] if hasattr(model, "coef_") else model.coefs_ + model.intercepts_
    assert {p.dtype for p in params} == {np.dtype(np.float32)}
    assert model.predict(X).dtype == np.float32
