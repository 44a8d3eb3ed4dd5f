"""minimize: the pseudocode, restarts against a dense grid, divergence, bad input."""

import numpy as np
import pytest

import descent as d
from descent.demo import three_valleys


def grid_minimum(f, low, high, n=200_001):
    xs = np.linspace(low, high, n)
    values = f(d.Tensor(xs, requires_grad=False)).data
    return xs[np.argmin(values)], values.min()


def test_parabola_converges_and_path_starts_at_x0():
    r = d.minimize(lambda x: (x - 3) ** 2, x0=0.0, learning_rate=0.1)
    assert r.status == "converged"
    assert float(r.x) == pytest.approx(3.0, abs=1e-6)
    assert r.path[0] == 0.0 and r.path.shape == (r.n_steps + 1,)
    assert len(r.losses) == r.n_steps + 1
    assert np.all(np.diff(r.losses) <= 0)  # a small enough step always goes downhill here


def test_each_step_is_the_textbook_update():
    lr = 0.05
    r = d.minimize(lambda x: (x**2).sum(), x0=[1.0, -2.0], learning_rate=lr, epochs=3, tol=0)
    for before, after in zip(r.path[:-1], r.path[1:], strict=True):
        assert np.allclose(after, before - lr * 2 * before, rtol=0, atol=1e-15)
    assert r.status == "max_epochs" and r.n_steps == 3


def test_restarts_find_the_global_minimum_where_one_start_does_not():
    best_x, best_f = grid_minimum(three_valleys, 0, 6)
    single = d.minimize(three_valleys, x0=0.3, learning_rate=0.05)
    assert abs(float(single.x) - best_x) > 1.0  # stuck in the first valley
    many = d.minimize(three_valleys, bounds=(0, 6), restarts=8, learning_rate=0.05,
                      random_state=1)
    assert float(many.x) == pytest.approx(best_x, abs=1e-3)
    assert many.fun == pytest.approx(best_f, abs=1e-8)
    assert len(many.runs) == 8 and many.runs[many.best_run].fun == many.fun
    assert all(0 <= float(run.start) <= 6 for run in many.runs)


def test_seeded_restarts_are_reproducible():
    kw = dict(bounds=[(-2, 2), (-2, 2)], restarts=3, learning_rate=0.01, epochs=50, random_state=4)

    def f(x):
        return (x[0] ** 2 - 1) ** 2 + x[1] ** 2

    a, b = d.minimize(f, **kw), d.minimize(f, **kw)
    assert np.array_equal(a.path, b.path) and np.array_equal(a.x, b.x)


def test_too_large_learning_rate_diverges_with_a_finite_point_and_advice():
    r = d.minimize(lambda x: x**2, x0=1.0, learning_rate=1.5)
    assert r.status == "diverged"
    assert np.isfinite(r.x) and np.isfinite(r.fun)
    assert np.all(np.isfinite(r.path))
    assert "1.5" in r.message and "smaller" in r.message and "0.15" in r.message


def test_a_function_unbounded_below_is_reported_as_diverged():
    r = d.minimize(lambda x: -d.exp(x), x0=0.0, learning_rate=1.0, epochs=10_000)
    assert r.status == "diverged" and np.isfinite(r.fun)


def test_bounds_keep_the_path_inside_the_box():
    r = d.minimize(lambda x: (x - 10) ** 2, x0=0.0, bounds=(-1, 2), learning_rate=0.1)
    assert float(r.x) == pytest.approx(2.0)
    assert r.path.min() >= -1 and r.path.max() <= 2
    assert r.status == "converged"


@pytest.mark.parametrize("name", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_named_optimizer_drives_minimize(name):
    lr = {"adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05}.get(name, 0.05)
    r = d.minimize(lambda x: ((x - 1.5) ** 2).sum(), x0=[0.0, 3.0], learning_rate=lr,
                   optimizer=name, epochs=5000, tol=1e-10)
    assert np.allclose(r.x, 1.5, atol=1e-3), (name, r.x, r.message)


def test_a_user_gradient_replaces_the_engine():
    calls = []

    def g(x):
        calls.append(1)
        return 2 * (x - 1)

    r = d.minimize(lambda x: float(((x - 1) ** 2).sum()), x0=np.zeros(2), grad=g,
                   learning_rate=0.25)
    assert np.allclose(r.x, 1.0) and calls


def test_float32_start_stays_float32():
    r = d.minimize(lambda x: (x**2).sum(), x0=np.ones(2, dtype=np.float32), learning_rate=0.1)
    assert r.x.dtype == np.float32 and r.path.dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(f=lambda x: x * 2, x0=np.ones(3)), "scalar"),
        (dict(x0=np.ones(3), bounds=[(0, 1), (0, 1)]), "x0 has shape"),
        (dict(bounds=[]), "bounds is empty"),
        (dict(bounds=(2, 1)), "low < high"),
        (dict(bounds=(1, 1)), "low < high"),
        (dict(x0=1.0, learning_rate=0), "learning_rate must be a positive"),
        (dict(x0=1.0, learning_rate=-0.1), "learning_rate must be a positive"),
        (dict(x0=1.0, learning_rate=float("nan")), "learning_rate must be a positive"),
        (dict(x0=1.0, epochs=0), "epochs must be a positive integer"),
        (dict(x0=1.0, epochs=2.5), "epochs must be a positive integer"),
        (dict(), "give x0"),
        (dict(x0=1.0, restarts=3), "restarts need bounds"),
        (dict(x0=1.0, optimizer="sgdx"), "unknown optimizer"),
        (dict(x0=-1.0, f=lambda x: d.log(x)), "f is not finite at x0 = -1"),
    ],
)
def test_bad_input_gets_a_clear_error(kwargs, match):
    f = kwargs.pop("f", lambda x: (x**2).sum())
    with pytest.raises(ValueError, match=match):
        d.minimize(f, **kwargs)
