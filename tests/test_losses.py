"""The loss table: closed forms against the engine and nudging, the textbook tricks, stability."""

import dataclasses

import numpy as np
import pytest

import descent as d
from descent.losses import LOSSES, Loss, get_loss, mean_loss_and_gradient

# Scores built from an offset whose size is in [0.2, 2], so every point sits at least
# 0.2 away from its loss's kink and central differences see one smooth piece.
AWAY_FROM_KINKS = {
    "squared_error": lambda off, Y: off,
    "absolute_error": lambda off, Y: Y + off,  # s - y = off
    "perceptron": lambda off, Y: off,  # s = off
    "log_loss": lambda off, Y: off,
    "multinomial_log_loss": lambda off, Y: off,
    "hinge": lambda off, Y: (2 * Y - 1) * (1 + off),  # t s - 1 = off
}

CASES = [
    (name, k)
    for name in LOSSES
    for k in ((3,) if name == "multinomial_log_loss" else (1, 3))
]


def sample(name, k, n=7, seed=0):
    """Random scores and encoded targets for ``name``: (S, Y), both (n, k)."""
    rng = np.random.default_rng(seed)
    if name == "multinomial_log_loss":
        Y = np.eye(k)[rng.integers(0, k, size=n)]
    elif LOSSES[name].kind == "classification":
        Y = rng.integers(0, 2, size=(n, k)).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    off = rng.choice([-1.0, 1.0], size=(n, k)) * rng.uniform(0.2, 2.0, size=(n, k))
    return AWAY_FROM_KINKS[name](off, Y), Y


def engine_values_and_gradient(loss, S, Y):
    scores = d.Tensor(S)
    values = loss.engine(scores, Y)
    d.sum(values).backward()
    return values.data, scores.grad


def test_every_loss_has_a_test_case():
    assert set(AWAY_FROM_KINKS) == set(LOSSES)
    assert {loss.kind for loss in LOSSES.values()} == {"regression", "classification"}


# ----- closed forms against the engine and central differences ---------------------------
@pytest.mark.parametrize(("name", "k"), CASES)
def test_point_gradient_matches_engine_and_nudging(name, k):
    loss = LOSSES[name]
    S, Y = sample(name, k)
    values, engine_grad = engine_values_and_gradient(loss, S, Y)
    closed = loss.point_gradient(S, Y)
    assert closed.shape == S.shape
    np.testing.assert_allclose(closed, engine_grad, rtol=0, atol=1e-10)
    nudged = d.numerical_grad(lambda T: loss.point_values(T.data, Y).sum(), S)
    np.testing.assert_allclose(closed, nudged, rtol=0, atol=1e-6)


@pytest.mark.parametrize(("name", "k"), CASES)
def test_point_values_match_engine(name, k):
    loss = LOSSES[name]
    S, Y = sample(name, k)
    closed = loss.point_values(S, Y)
    assert closed.shape == (S.shape[0],)
    engine_values = engine_values_and_gradient(loss, S, Y)[0]
    np.testing.assert_allclose(closed, engine_values, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("name", "k"), CASES)
def test_mean_loss_and_gradient_is_the_mean_of_the_table(name, k):
    loss = LOSSES[name]
    S, Y = sample(name, k)
    value, grad = mean_loss_and_gradient(loss, S, Y)
    assert isinstance(value, float)
    assert value == pytest.approx(loss.point_values(S, Y).mean(), rel=1e-12)
    np.testing.assert_allclose(grad, loss.point_gradient(S, Y) / len(S), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("name", "k"), CASES)
def test_mean_loss_and_gradient_with_sample_weights(name, k):
    loss = LOSSES[name]
    S, Y = sample(name, k)
    w = np.random.default_rng(1).uniform(0.1, 3.0, size=len(S))
    value, grad = mean_loss_and_gradient(loss, S, Y, sample_weight=w)
    expected_value = np.sum(w * loss.point_values(S, Y)) / np.sum(w)
    expected_grad = w[:, None] * loss.point_gradient(S, Y) / np.sum(w)
    assert value == pytest.approx(expected_value, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(("name", "k"), CASES)
def test_mean_loss_and_gradient_leaves_its_inputs_alone(name, k):
    S, Y = sample(name, k)
    w = np.ones(len(S))
    S0, Y0, w0 = S.copy(), Y.copy(), w.copy()
    mean_loss_and_gradient(LOSSES[name], S, Y)
    mean_loss_and_gradient(LOSSES[name], S, Y, sample_weight=w)
    for after, before in ((S, S0), (Y, Y0), (w, w0)):
        np.testing.assert_array_equal(after, before)


@pytest.mark.parametrize(("name", "k"), CASES)
def test_a_loss_without_a_fused_kernel_gives_the_same_answer(name, k):
    loss = LOSSES[name]
    plain = dataclasses.replace(loss, fast=None)
    S, Y = sample(name, k)
    w = np.random.default_rng(2).uniform(0.1, 3.0, size=len(S))
    for weights in (None, w):
        fused_value, fused_grad = mean_loss_and_gradient(loss, S, Y, weights)
        plain_value, plain_grad = mean_loss_and_gradient(plain, S, Y, weights)
        assert fused_value == pytest.approx(plain_value, rel=1e-12)
        np.testing.assert_allclose(fused_grad, plain_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "k"), CASES)
def test_dtype_is_kept(name, k, dtype):
    S, Y = sample(name, k)
    w = np.linspace(1.0, 2.0, len(S))
    for weights in (None, w):
        value, grad = mean_loss_and_gradient(LOSSES[name], S.astype(dtype), Y, weights)
        assert grad.dtype == dtype
        assert isinstance(value, float)
        expected, _ = mean_loss_and_gradient(LOSSES[name], S, Y, weights)
        assert value == pytest.approx(expected, rel=1e-5)


# ----- batch size 1: one step is the textbook trick ---------------------------------------
def one_step(name, w, b, x, y, lr):
    """One gradient step on one point for a linear model s = w . x + b."""
    s = np.array([[w @ x + b]])
    g = LOSSES[name].point_gradient(s, np.array([[y]]))[0, 0]
    return w - lr * g * x, b - lr * g


@pytest.fixture
def point():
    rng = np.random.default_rng(3)
    return rng.normal(size=4), 0.1  # x, learning rate


@pytest.mark.parametrize("y", [-1.5, 0.0, 2.0])
def test_square_trick(point, y):
    x, lr = point
    for w, b in ((np.zeros(4), 0.0), (np.array([0.3, -1.0, 2.0, 0.5]), 0.7)):
        y_hat = w @ x + b
        new_w, new_b = one_step("squared_error", w, b, x, y, lr)
        np.testing.assert_allclose(new_w, w + lr * (y - y_hat) * x, atol=1e-15)
        assert new_b == pytest.approx(b + lr * (y - y_hat))


@pytest.mark.parametrize("y", [-1.5, 2.0])
def test_absolute_trick(point, y):
    x, lr = point
    for w, b in ((np.zeros(4), 0.0), (np.array([0.3, -1.0, 2.0, 0.5]), 0.7)):
        y_hat = w @ x + b
        new_w, new_b = one_step("absolute_error", w, b, x, y, lr)
        np.testing.assert_allclose(new_w, w + lr * np.sign(y - y_hat) * x, atol=1e-15)
        assert new_b == pytest.approx(b + lr * np.sign(y - y_hat))


def test_perceptron_trick_on_the_boundary(point):
    x, lr = point
    # s = 0 predicts 1: a y = 0 point there is a mistake and pushes the line over it...
    new_w, new_b = one_step("perceptron", np.zeros(4), 0.0, x, 0.0, lr)
    np.testing.assert_array_equal(new_w, -lr * x)
    assert new_b == -lr
    # ...and a y = 1 point there is correct, so nothing moves.
    new_w, new_b = one_step("perceptron", np.zeros(4), 0.0, x, 1.0, lr)
    np.testing.assert_array_equal(new_w, np.zeros(4))
    assert new_b == 0.0


def test_perceptron_trick_away_from_the_boundary():
    rng = np.random.default_rng(4)
    w, b, lr = rng.normal(size=3), 0.2, 0.1
    for _ in range(50):
        x, y = rng.normal(size=3), float(rng.integers(0, 2))
        y_hat = float(w @ x + b >= 0)
        new_w, new_b = one_step("perceptron", w, b, x, y, lr)
        # Textbook: misclassified points pull the line towards them, others leave it alone.
        np.testing.assert_allclose(new_w, w + lr * (y - y_hat) * x, atol=1e-15)
        assert new_b == pytest.approx(b + lr * (y - y_hat))


@pytest.mark.parametrize("y", [0.0, 1.0])
def test_logistic_trick(point, y):
    x, lr = point
    for w, b in ((np.zeros(4), 0.0), (np.array([0.3, -1.0, 2.0, 0.5]), 0.7)):
        p = 1 / (1 + np.exp(-(w @ x + b)))
        new_w, new_b = one_step("log_loss", w, b, x, y, lr)
        np.testing.assert_allclose(new_w, w + lr * (y - p) * x, atol=1e-15)
        assert new_b == pytest.approx(b + lr * (y - p))


# ----- stability -------------------------------------------------------------------------
def test_log_loss_is_exact_at_huge_scores():
    loss = LOSSES["log_loss"]
    S = np.array([[-1000.0], [1000.0], [1000.0], [-1000.0]])
    Y = np.array([[1.0], [1.0], [0.0], [0.0]])
    np.testing.assert_array_equal(loss.point_values(S, Y), [1000.0, 0.0, 1000.0, 0.0])
    np.testing.assert_array_equal(loss.point_gradient(S, Y), [[-1.0], [0.0], [1.0], [0.0]])
    for weights in (None, np.array([1.0, 2.0, 3.0, 4.0])):
        value, grad = mean_loss_and_gradient(loss, S, Y, weights)
        assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert mean_loss_and_gradient(loss, S, Y)[0] == 500.0
    assert mean_loss_and_gradient(loss, S, Y, np.array([1.0, 2.0, 3.0, 4.0]))[0] == 400.0


def test_multinomial_is_exact_at_huge_scores():
    loss = LOSSES["multinomial_log_loss"]
    S = np.array([[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0]])
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(loss.point_values(S, Y), [2000.0, 0.0])
    expected_grad = np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(loss.point_gradient(S, Y), expected_grad, atol=1e-300)
    for weights in (None, np.array([1.0, 3.0])):
        value, grad = mean_loss_and_gradient(loss, S, Y, weights)
        assert np.isfinite(value) and np.all(np.isfinite(grad))
    value, grad = mean_loss_and_gradient(loss, S, Y)
    assert value == 1000.0
    np.testing.assert_allclose(grad, expected_grad / 2, atol=1e-300)


def test_stable_in_float32():
    S = np.array([[-1000.0], [1000.0]], dtype=np.float32)
    Y = np.array([[1.0], [0.0]], dtype=np.float32)
    value, grad = mean_loss_and_gradient(LOSSES["log_loss"], S, Y)
    assert value == 1000.0 and grad.dtype == np.float32
    np.testing.assert_array_equal(grad, [[-0.5], [0.5]])


# ----- errors ----------------------------------------------------------------------------
def test_get_loss():
    assert get_loss("log_loss") is LOSSES["log_loss"]
    with pytest.raises(ValueError, match="'cross_entropy'.*'squared_error'.*'hinge'"):
        get_loss("cross_entropy")
    with pytest.raises(ValueError, match="valid losses"):
        get_loss(None)


def test_losses_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        LOSSES["hinge"].name = "other"
    assert isinstance(LOSSES["hinge"], Loss)


def test_sample_weights_must_add_up_to_something():
    S, Y = sample("squared_error", 1)
    with pytest.raises(ValueError, match="sum to a positive number"):
        mean_loss_and_gradient(LOSSES["squared_error"], S, Y, sample_weight=np.zeros(len(S)))
    with pytest.raises(ValueError, match="shape"):
        mean_loss_and_gradient(LOSSES["squared_error"], S, Y, sample_weight=np.ones(3))


def test_scores_and_targets_must_match():
    with pytest.raises(ValueError, match=r"\(n, k\)"):
        mean_loss_and_gradient(LOSSES["hinge"], np.zeros((4, 1)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"\(n, k\)"):
        mean_loss_and_gradient(LOSSES["hinge"], np.zeros(4), np.zeros(4))


KINKS = [  # (name, s, y, dL/ds by the stated convention)
    ("absolute_error", 1.5, 1.5, 0.0),  # sign(0) = 0
    ("perceptron", 0.0, 0.0, 1.0),  # s = 0 predicts 1: a mistake for y = 0
    ("perceptron", 0.0, 1.0, 0.0),
    ("hinge", 1.0, 1.0, 0.0),  # t s = 1 is on the margin, not inside it
    ("hinge", -1.0, 0.0, 0.0),
]


@pytest.mark.parametrize(("name", "s", "y", "slope"), KINKS)
def test_conventions_at_the_kinks_agree_everywhere(name, s, y, slope):
    loss = LOSSES[name]
    S, Y = np.array([[s]]), np.array([[y]])
    assert loss.point_gradient(S, Y)[0, 0] == slope
    assert engine_values_and_gradient(loss, S, Y)[1][0, 0] == slope
    assert mean_loss_and_gradient(loss, S, Y)[1][0, 0] == slope
    assert mean_loss_and_gradient(loss, S, Y, np.array([2.0]))[1][0, 0] == slope


def test_integer_inputs_become_float64():
    S, Y = np.array([[2], [0]]), np.array([[1], [0]])
    value, grad = mean_loss_and_gradient(LOSSES["hinge"], S, Y)
    assert grad.dtype == np.float64
    assert value == 0.5
    np.testing.assert_array_equal(grad, [[0.0], [0.5]])
