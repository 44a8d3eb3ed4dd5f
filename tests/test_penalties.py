"""Penalties: closed forms against the engine and nudging, the L1 and L2 steps, validation."""

import numpy as np
import pytest

import descent as d
from descent.penalties import (
    check_penalty,
    clip_l1_crossings,
    engine_penalty,
    penalty_gradient,
    penalty_value,
)

SETTINGS = [
    (penalty, alpha, l1_ratio)
    for penalty in ("l2", "l1", "elasticnet")
    for alpha in (1e-4, 0.1, 2.0)
    for l1_ratio in ((0.0, 0.15, 0.5, 1.0) if penalty == "elasticnet" else (0.15,))
]


def coefficients(seed=0):
    """A (4, 3) coefficient matrix with every entry at least 0.1 away from 0 (the L1 kink)."""
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=(4, 3)) * rng.uniform(0.1, 2.0, size=(4, 3))


@pytest.mark.parametrize(("penalty", "alpha", "l1_ratio"), SETTINGS)
def test_gradient_matches_engine_and_nudging(penalty, alpha, l1_ratio):
    W = coefficients()
    closed = penalty_gradient(W, penalty, alpha, l1_ratio)
    assert closed.shape == W.shape
    weights = d.Tensor(W)
    engine_penalty(weights, penalty, alpha, l1_ratio).backward()
    np.testing.assert_allclose(closed, weights.grad, rtol=0, atol=1e-12)
    nudged = d.numerical_grad(lambda T: engine_penalty(T, penalty, alpha, l1_ratio), W)
    np.testing.assert_allclose(closed, nudged, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("penalty", "alpha", "l1_ratio"), SETTINGS)
def test_value_matches_engine(penalty, alpha, l1_ratio):
    W = coefficients(1)
    engine_value = engine_penalty(d.Tensor(W), penalty, alpha, l1_ratio).item()
    assert penalty_value(W, penalty, alpha, l1_ratio) == pytest.approx(engine_value, rel=1e-13)


def test_values_by_hand():
    W = np.array([[3.0, 0.0], [-4.0, 1.0]])  # ||W||_1 = 8, ||W||^2 = 26
    assert penalty_value(W, "l2", 0.5) == 0.5 * 13
    assert penalty_value(W, "l1", 0.5) == 0.5 * 8
    assert penalty_value(W, "elasticnet", 0.5, 0.25) == pytest.approx(0.5 * (0.25 * 8 + 0.75 * 13))


def test_l1_gradient_is_zero_at_zero():
    W = np.array([0.0, 2.0, -3.0])
    np.testing.assert_array_equal(penalty_gradient(W, "l1", 0.5), [0.0, 0.5, -0.5])
    np.testing.assert_array_equal(penalty_gradient(W, "elasticnet", 1.0, 0.5), [0.0, 1.5, -2.0])


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
def test_gradient_keeps_float32(penalty):
    W = coefficients().astype(np.float32)
    assert penalty_gradient(W, penalty, np.float64(0.1)).dtype == np.float32


# ----- the steps ---------------------------------------------------------------------------
def test_l2_step_shrinks_by_a_factor():
    W, lr, alpha = coefficients(), 0.1, 0.3
    stepped = W - lr * penalty_gradient(W, "l2", alpha)
    np.testing.assert_allclose(stepped, (1 - lr * alpha) * W, rtol=1e-15)
    assert clip_l1_crossings(W, stepped.copy(), "l2") == pytest.approx(stepped)


def test_l1_step_subtracts_a_constant_and_stops_at_zero():
    W = np.array([0.001, -0.004, 0.5, -0.2, 0.0])
    lr, alpha = 0.1, 0.1  # lr * alpha = 0.01
    stepped = W - lr * penalty_gradient(W, "l1", alpha)
    np.testing.assert_allclose(stepped, [-0.009, 0.006, 0.49, -0.19, 0.0])
    clipped = clip_l1_crossings(W, stepped, "l1")
    assert clipped is stepped  # in place
    # The two small ones would have crossed zero: they stop there. The others just shrink.
    np.testing.assert_allclose(clipped, [0.0, 0.0, 0.49, -0.19, 0.0])
    assert clipped[0] == 0.0 and clipped[1] == 0.0


def test_elasticnet_also_stops_at_zero():
    before = np.array([[0.001, 1.0], [-0.001, -1.0]])
    # alpha = 0.05, l1_ratio = 0.5: the gradient at +-1 is +-0.05 (half L1, half L2).
    after = before - 1.0 * penalty_gradient(before, "elasticnet", 0.05, 0.5)
    clipped = clip_l1_crossings(before, after, "elasticnet")
    np.testing.assert_allclose(clipped, [[0.0, 0.95], [0.0, -0.95]])


def test_clipping_leaves_coefficients_that_start_at_zero_free():
    # From zero the penalty does not push; the loss may move a coefficient either way.
    before, after = np.array([0.0, 0.0]), np.array([0.3, -0.2])
    np.testing.assert_array_equal(clip_l1_crossings(before, after, "l1"), [0.3, -0.2])


@pytest.mark.parametrize("penalty", ["l2", None])
def test_clipping_is_a_no_op_without_l1(penalty):
    before, after = np.array([0.001, -1.0]), np.array([-0.009, 1.0])
    np.testing.assert_array_equal(clip_l1_crossings(before, after, penalty), [-0.009, 1.0])


# ----- nothing to do -------------------------------------------------------------------------
@pytest.mark.parametrize(("penalty", "alpha"), [(None, 0.1), ("l2", 0.0), ("l1", 0), (None, 0.0)])
def test_no_penalty_means_no_work(penalty, alpha):
    W = coefficients()
    assert penalty_gradient(W, penalty, alpha) is None
    assert penalty_value(W, penalty, alpha) == 0.0
    weights = d.Tensor(W)
    out = engine_penalty(weights, penalty, alpha)
    assert out.item() == 0.0
    out.backward()
    np.testing.assert_array_equal(weights.grad, np.zeros_like(W))


# ----- validation --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("penalty", "alpha", "l1_ratio", "message"),
    [
        ("ridge", 0.1, 0.15, "'ridge'.*'l2', 'l1', 'elasticnet' or None"),
        ("L2", 0.1, 0.15, "unknown penalty"),
        ("l2", -0.1, 0.15, "alpha must be a finite number >= 0"),
        ("l2", float("inf"), 0.15, "alpha"),
        ("l2", float("nan"), 0.15, "alpha"),
        ("l2", "0.1", 0.15, "alpha"),
        ("elasticnet", 0.1, 1.5, r"l1_ratio must be in \[0, 1\]"),
        ("elasticnet", 0.1, -0.1, "l1_ratio"),
    ],
)
def test_bad_settings_are_refused(penalty, alpha, l1_ratio, message):
    with pytest.raises(ValueError, match=message):
        check_penalty(penalty, alpha, l1_ratio)
    W = coefficients()
    for fn in (penalty_value, penalty_gradient, engine_penalty):
        with pytest.raises(ValueError, match=message):
            fn(W, penalty, alpha, l1_ratio)


def test_clipping_refuses_unknown_penalties():
    with pytest.raises(ValueError, match="unknown penalty 'lasso'"):
        clip_l1_crossings(np.ones(2), np.ones(2), "lasso")


def test_good_settings_pass():
    for penalty in (None, "l2", "l1", "elasticnet"):
        check_penalty(penalty, 0.0, 0.0)
        check_penalty(penalty, 1e-4, 1.0)
