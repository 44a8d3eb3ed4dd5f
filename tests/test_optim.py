"""Tests for descent.optim: optimizers as (init, update) pairs, building blocks, schedules.

Gradients are written by hand with numpy so these tests do not depend on the autodiff
engine.
"""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from descent import optim
from descent.optim import schedules

# --- helpers ----------------------------------------------------------------------------


def parabola_grad(x: np.ndarray, center: np.ndarray) -> np.ndarray:
    """Gradient of f(x) = sum((x - center)**2)."""
    return 2.0 * (x - center)


def rosenbrock_grad(point: np.ndarray) -> np.ndarray:
    """Gradient of f(x, y) = (1 - x)**2 + 100 (y - x**2)**2."""
    x, y = point
    return np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x * x), 200.0 * (y - x * x)])


def minimise(opt, grad_fn, start, steps):
    params = np.array(start, dtype=float)
    state = opt.init(params)
    for _ in range(steps):
        updates, state = opt.update(grad_fn(params), state, params)
        params = optim.apply_updates(params, updates)
    return params


def state_leaves(state):
    """Every non-container value inside a (nested) state."""
    if isinstance(state, dict):
        return [leaf for value in state.values() for leaf in state_leaves(value)]
    if isinstance(state, (list, tuple)):
        return [leaf for value in state for leaf in state_leaves(value)]
    return [state]


def array_leaves(tree):
    return [leaf for leaf in state_leaves(tree) if isinstance(leaf, np.ndarray)]


# --- the one table of named optimizers ----------------------------------------------------

# name, parabola (learning rate, steps), Rosenbrock (learning rate, steps)
OPTIMIZER_TABLE = [
    ("gd", (0.25, 100), (2e-3, 10_000)),
    ("momentum", (0.05, 300), (5e-4, 5_000)),
    ("nesterov", (0.05, 300), (5e-4, 5_000)),
    ("adagrad", (1.0, 200), (0.1, 20_000)),
    ("rmsprop", (0.01, 1_000), (1e-3, 20_000)),
    ("adam", (0.1, 1_000), (1e-2, 5_000)),
]
NAMES = [row[0] for row in OPTIMIZER_TABLE]


def test_table_covers_every_named_optimizer():
    assert sorted(NAMES) == sorted(optim.OPTIMIZERS)


@pytest.mark.parametrize("name, parabola, rosenbrock", OPTIMIZER_TABLE, ids=NAMES)
def test_minimises_parabola(name, parabola, rosenbrock):
    learning_rate, steps = parabola
    center = np.array([1.5, -2.0, 0.5])
    found = minimise(
        optim.get_optimizer(name, learning_rate),
        lambda x: parabola_grad(x, center),
        start=np.zeros(3),
        steps=steps,
    )
    np.testing.assert_allclose(found, center, rtol=0, atol=1e-4)


@pytest.mark.parametrize("name, parabola, rosenbrock", OPTIMIZER_TABLE, ids=NAMES)
def test_minimises_rosenbrock(name, parabola, rosenbrock):
    learning_rate, steps = rosenbrock
    found = minimise(optim.get_optimizer(name, learning_rate), rosenbrock_grad, [-1.2, 1.0], steps)
    np.testing.assert_allclose(found, [1.0, 1.0], rtol=0, atol=1e-2)


# --- first steps match the textbook formulas ---------------------------------------------

finite_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
vectors = hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=finite_floats)
learning_rates = st.floats(1e-6, 10.0)


@given(grads=vectors, learning_rate=learning_rates)
@settings(max_examples=50, deadline=None)
def test_gd_first_update_is_exactly_minus_lr_times_grad(grads, learning_rate):
    opt = optim.gd(learning_rate)
    updates, _ = opt.update(grads, opt.init(np.zeros_like(grads)))
    np.testing.assert_array_equal(updates, -learning_rate * grads)


def test_momentum_first_two_steps():
    lr, beta = 0.1, 0.8
    g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    opt = optim.momentum(lr, beta=beta)
    u1, state = opt.update(g1, opt.init(np.zeros(2)))
    u2, _ = opt.update(g2, state)
    np.testing.assert_allclose(u1, -lr * g1)
    np.testing.assert_allclose(u2, -lr * (beta * g1 + g2))


def test_nesterov_first_step_looks_ahead():
    lr, beta = 0.1, 0.8
    g = np.array([1.0, -2.0])
    opt = optim.nesterov(lr, beta=beta)
    updates, _ = opt.update(g, opt.init(np.zeros(2)))
    np.testing.assert_allclose(updates, -lr * (g + beta * g))


def test_adagrad_first_step():
    lr, eps, acc = 0.5, 1e-10, 0.1
    g = np.array([1.0, -2.0, 0.0])
    opt = optim.adagrad(lr, eps=eps, initial_accumulator=acc)
    updates, _ = opt.update(g, opt.init(np.zeros(3)))
    np.testing.assert_allclose(updates, -lr * g / (np.sqrt(acc + g**2) + eps))


def test_rmsprop_first_step():
    lr, decay, eps = 0.01, 0.9, 1e-8
    g = np.array([1.0, -2.0])
    opt = optim.rmsprop(lr, decay=decay, eps=eps)
    updates, _ = opt.update(g, opt.init(np.zeros(2)))
    np.testing.assert_allclose(updates, -lr * g / (np.sqrt((1 - decay) * g**2) + eps))


def test_adam_first_two_steps():
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    g1, g2 = np.array([1.0, -2.0, 0.25]), np.array([-0.5, 1.0, 4.0])
    opt = optim.adam(lr, b1=b1, b2=b2, eps=eps)
    u1, state = opt.update(g1, opt.init(np.zeros(3)))
    u2, _ = opt.update(g2, state)
    # Step 1: bias correction gives m_hat = g, v_hat = g**2.
    np.testing.assert_allclose(u1, -lr * g1 / (np.abs(g1) + eps))
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1**2 + (1 - b2) * g2**2
    m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
    np.testing.assert_allclose(u2, -lr * m_hat / (np.sqrt(v_hat) + eps))


# --- composition ---------------------------------------------------------------------------


def test_chain_composes_in_order():
    g = np.array([1.0, -3.0])
    opt = optim.chain(optim.scale(2.0), optim.scale_by_learning_rate(0.1))
    state = opt.init(np.zeros(2))
    updates, new_state = opt.update(g, state)
    np.testing.assert_allclose(updates, -0.2 * g)
    assert isinstance(new_state, tuple) and len(new_state) == 2
    assert new_state[1].count == 1


def test_empty_chain_is_identity():
    g = np.array([1.0, 2.0])
    opt = optim.chain()
    updates, state = opt.update(g, opt.init(g))
    np.testing.assert_array_equal(updates, g)
    assert state == ()


def test_chain_rejects_non_transforms():
    with pytest.raises(TypeError, match="position 1"):
        optim.chain(optim.scale(1.0), lambda g: g)


def test_apply_updates_adds_and_keeps_dtype_without_mutating():
    params = np.array([1.0, 2.0], dtype=np.float32)
    updates = np.array([0.5, -0.5])  # float64
    new = optim.apply_updates(params, updates)
    assert new.dtype == np.float32
    np.testing.assert_array_equal(new, [1.5, 1.5])
    np.testing.assert_array_equal(params, [1.0, 2.0])


# --- pytrees and dtypes ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_list_and_dict_params_keep_structure_and_shapes(name):
    as_list = [np.ones((3, 2)), np.zeros(2), 0.5]
    as_dict = {"coef": np.ones((3, 2)), "intercept": np.zeros(2)}
    for params in (as_list, as_dict, tuple(as_list)):
        opt = optim.get_optimizer(name, 0.1)
        grads = type(params)(params) if not isinstance(params, dict) else dict(params)
        updates, _ = opt.update(grads, opt.init(params), params)
        new = optim.apply_updates(params, updates)
        assert type(new) is type(params)
        if isinstance(params, dict):
            assert new.keys() == params.keys()
        for old_leaf, new_leaf in zip(state_leaves(params), state_leaves(new), strict=True):
            assert np.shape(new_leaf) == np.shape(old_leaf)


@pytest.mark.parametrize("name", NAMES)
def test_tree_update_matches_flat_update(name):
    # Every optimizer here works coordinate by coordinate, so splitting the params into
    # pieces must not change a thing.
    rng = np.random.default_rng(0)
    grads_seq = [rng.normal(size=5) for _ in range(3)]
    flat_opt, tree_opt = optim.get_optimizer(name, 0.1), optim.get_optimizer(name, 0.1)
    flat_state, tree_state = flat_opt.init(np.zeros(5)), tree_opt.init([np.zeros(3), np.zeros(2)])
    for g in grads_seq:
        flat_updates, flat_state = flat_opt.update(g, flat_state)
        tree_updates, tree_state = tree_opt.update([g[:3], g[3:]], tree_state)
        np.testing.assert_allclose(np.concatenate(tree_updates), flat_updates, rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    params = [np.ones((2, 3), dtype=np.float32), np.zeros(3, dtype=np.float32)]
    grads = [np.full((2, 3), 0.3, dtype=np.float32), np.full(3, -0.7, dtype=np.float32)]
    opt = optim.get_optimizer(name, optim.exponential(0.1, decay_rate=0.9))
    state = opt.init(params)
    for _ in range(3):
        updates, state = opt.update(grads, state, params)
        params = optim.apply_updates(params, updates)
    for tree in (params, updates, state):
        for leaf in array_leaves(tree):
            if np.issubdtype(leaf.dtype, np.floating):
                assert leaf.dtype == np.float32, (name, leaf.dtype)


def test_python_float_params_are_leaves():
    opt = optim.momentum(0.1)
    params = 2.0
    updates, state = opt.update(4.0, opt.init(params), params)
    assert optim.apply_updates(params, updates) == pytest.approx(1.6)


def test_mismatched_tree_raises():
    opt = optim.momentum(0.1)
    state = opt.init([np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError):
        opt.update([np.zeros(2)], state)


# --- state is plain data, update is pure ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_state_is_plain_data_and_update_is_pure(name):
    params = [np.array([1.0, -1.0]), np.array([0.5])]
    grads = [np.array([0.3, -0.2]), np.array([1.0])]
    grads_before = [g.copy() for g in grads]
    opt = optim.get_optimizer(name, 0.1)
    _, state = opt.update(grads, opt.init(params), params)  # a non-trivial state
    state_before = [np.copy(leaf) for leaf in state_leaves(state)]

    first = opt.update(grads, state, params)
    second = opt.update(grads, state, params)

    assert type(state) is tuple  # chain: one state per stage...
    assert all(hasattr(stage, "_fields") for stage in state)  # ...each a NamedTuple
    for leaf in state_leaves(state):
        assert isinstance(leaf, np.ndarray | int), type(leaf)
    for a, b in zip(state_leaves(first), state_leaves(second), strict=True):
        np.testing.assert_array_equal(a, b)
    for before, after in zip(state_before, state_leaves(state), strict=True):
        np.testing.assert_array_equal(before, after)  # state not mutated
    for before, after in zip(grads_before, grads, strict=True):
        np.testing.assert_array_equal(before, after)  # grads not mutated
    assert state[-1].count == 1  # the learning-rate stage counts steps


def test_single_array_update_does_not_return_the_grads_object():
    g = np.array([1.0, 2.0])
    for name in NAMES:
        opt = optim.get_optimizer(name, 0.1)
        updates, _ = opt.update(g, opt.init(g))
        assert updates is not g
        np.testing.assert_array_equal(g, [1.0, 2.0])


# --- schedules -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule, formula",
    [
        (optim.constant(0.3), lambda t: 0.3),
        (optim.step(0.4, drop=0.5, every=10), lambda t: 0.4 * 0.5 ** (t // 10)),
        (optim.exponential(0.1, 0.9, decay_steps=5), lambda t: 0.1 * 0.9 ** (t / 5)),
        (optim.inverse_scaling(0.2, power=0.25), lambda t: 0.2 / (t + 1) ** 0.25),
        (
            optim.cosine(1.0, total_steps=100, final_value=0.1),
            lambda t: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(t, 100) / 100)),
        ),
    ],
)
def test_schedule_values_match_formula(schedule, formula):
    for t in (0, 1, 9, 10, 37, 100, 250):
        assert schedule(t) == pytest.approx(formula(t), rel=1e-12)
        assert type(schedule(t)) is float


def test_cosine_endpoints():
    schedule = optim.cosine(0.5, total_steps=20, final_value=0.05)
    assert schedule(0) == 0.5
    assert schedule(20) == schedule(1000) == 0.05


def test_schedule_as_learning_rate_changes_the_step():
    seen = []

    def schedule(step):
        seen.append(step)
        return 1.0 / (step + 1)

    opt = optim.gd(schedule)
    g = np.array([2.0])
    state = opt.init(g)
    steps = []
    for _ in range(3):
        updates, state = opt.update(g, state)
        steps.append(updates[0])
    assert seen == [0, 1, 2]
    np.testing.assert_allclose(steps, [-2.0, -1.0, -2.0 / 3.0])


@pytest.mark.parametrize(
    "name, kwargs, expected_at_10",
    [
        ("constant", {}, 0.1),
        ("Step", {"every": 5}, 0.1 * 0.25),
        ("exponential", {}, 0.1 * 0.99**10),
        ("exponential", {"decay_rate": 0.5, "decay_steps": 10}, 0.05),
        ("inverse_scaling", {"power": 1.0}, 0.1 / 11),
        ("cosine", {"total_steps": 10}, 0.0),
    ],
)
def test_get_schedule_by_name(name, kwargs, expected_at_10):
    assert optim.get_schedule(name, 0.1, **kwargs)(10) == pytest.approx(expected_at_10)


def test_get_schedule_passes_callables_and_none():
    def custom(step):
        return 0.5

    assert optim.get_schedule(custom, 0.1) is custom
    assert optim.get_schedule(None, 0.1)(99) == 0.1


def test_get_schedule_errors():
    with pytest.raises(ValueError, match="'warmup'"):
        optim.get_schedule("warmup", 0.1)
    with pytest.raises(ValueError, match="total_steps"):
        optim.get_schedule("cosine", 0.1)
    with pytest.raises(ValueError, match="every"):
        optim.get_schedule(lambda step: 0.1, 0.1, every=3)


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: schedules.constant(-0.1), "-0.1"),
        (lambda: schedules.constant(float("nan")), "nan"),
        (lambda: schedules.step(0.1, drop=1.5), "1.5"),
        (lambda: schedules.step(0.1, drop=0.0), "0.0"),
        (lambda: schedules.step(0.1, every=0), "0"),
        (lambda: schedules.step(0.1, every=2.5), "2.5"),
        (lambda: schedules.exponential(0.1, decay_rate=0.0), "0.0"),
        (lambda: schedules.exponential(0.1, decay_rate=0.9, decay_steps=-3), "-3"),
        (lambda: schedules.inverse_scaling(0.1, power=-1.0), "-1.0"),
        (lambda: schedules.cosine(0.1, total_steps=0), "0"),
        (lambda: schedules.cosine(0.1, total_steps=10, final_value=-0.5), "-0.5"),
        (lambda: schedules.cosine("fast", total_steps=10), "'fast'"),
    ],
)
def test_bad_schedule_arguments_raise(make, bad):
    with pytest.raises(ValueError) as excinfo:
        make()
    assert bad in str(excinfo.value)


# --- get_optimizer and argument errors --------------------------------------------------------


@pytest.mark.parametrize("name", ["adam", "ADAM", "Nesterov", " gd "])
def test_get_optimizer_is_case_insensitive(name):
    assert isinstance(optim.get_optimizer(name, 0.1), optim.GradientTransformation)


def test_get_optimizer_returns_transforms_unchanged():
    opt = optim.chain(optim.scale(-1.0))
    assert optim.get_optimizer(opt, 0.1) is opt


def test_get_optimizer_forwards_hyperparameters():
    opt = optim.get_optimizer("momentum", 0.1, beta=0.5)
    g = np.array([1.0])
    _, state = opt.update(g, opt.init(g))
    updates, _ = opt.update(g, state)
    np.testing.assert_allclose(updates, [-0.15])
    with pytest.raises(ValueError, match="beta"):
        optim.get_optimizer(opt, 0.1, beta=0.5)


@pytest.mark.parametrize("bad", ["sgdd", "lbfgs", "", 3, None])
def test_unknown_optimizer_names_the_value_and_the_choices(bad):
    with pytest.raises(ValueError) as excinfo:
        optim.get_optimizer(bad, 0.1)
    message = str(excinfo.value)
    assert repr(bad) in message
    for name in NAMES:
        assert name in message


@pytest.mark.parametrize("bad_lr", [0, 0.0, -0.1, float("nan"), float("inf"), "0.1", True])
@pytest.mark.parametrize("name", NAMES)
def test_bad_learning_rate_raises(name, bad_lr):
    with pytest.raises(ValueError, match="positive finite number") as excinfo:
        optim.get_optimizer(name, bad_lr)
    assert repr(bad_lr) in str(excinfo.value)


@pytest.mark.parametrize(
    "make, bad",
    [
        (lambda: optim.momentum(0.1, beta=1.0), "1.0"),
        (lambda: optim.nesterov(0.1, beta=-0.2), "-0.2"),
        (lambda: optim.rmsprop(0.1, decay=2.0), "2.0"),
        (lambda: optim.adam(0.1, b2=1.5), "1.5"),
        (lambda: optim.adam(0.1, eps=-1e-8), "-1e-08"),
        (lambda: optim.adagrad(0.1, initial_accumulator=-1.0), "-1.0"),
        (lambda: optim.scale(float("inf")), "inf"),
    ],
)
def test_bad_hyperparameters_raise(make, bad):
    with pytest.raises(ValueError) as excinfo:
        make()
    assert bad in str(excinfo.value)


# --- docstring examples ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "module", ["__init__", "_tree", "base", "transforms", "schedules", "named"]
)
def test_docstring_examples_run(module):
    name = "descent.optim" if module == "__init__" else f"descent.optim.{module}"
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
