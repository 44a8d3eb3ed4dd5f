"""Networks: the fused backward pass against the engine, Grokking ML's formulas, real data."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

import descent as d
from descent.losses import get_loss
from descent.models.mlp import NetworkObjective

from .data import load_book_points


def network(sizes, rng, dtype=np.float64):
    params = []
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        params += [rng.normal(size=(a, b)).astype(dtype), rng.normal(size=b).astype(dtype)]
    return params


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "identity"])
@pytest.mark.parametrize(
    ("loss", "k"), [("log_loss", 1), ("multinomial_log_loss", 3), ("squared_error", 1)])
@pytest.mark.parametrize("penalty", [None, "l2", "elasticnet"])
@pytest.mark.parametrize("standardize", [False, True])
def test_fused_backprop_equals_the_engine(activation, loss, k, penalty, standardize):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 4)) * 3 + 1
    Y = (np.eye(k)[rng.integers(0, k, 12)] if k > 1
         else rng.integers(0, 2, (12, 1)).astype(float))
    sw = rng.random(12) + 0.5
    params = network((4, 5, 3, k), rng)
    mean, scale = (X.mean(0), X.std(0)) if standardize else (None, None)
    kw = dict(point_loss=get_loss(loss), activation=activation, penalty=penalty, alpha=0.1,
              l1_ratio=0.3, x_mean=mean, x_scale=scale, n_layers=3)
    for weights in (None, sw):
        v1, g1 = NetworkObjective(**kw, backprop="fused").loss_and_grads(params, X, Y, weights)
        v2, g2 = NetworkObjective(**kw, backprop="engine").loss_and_grads(params, X, Y, weights)
        assert v1 == pytest.approx(v2, rel=1e-12)
        for a, b in zip(g1, g2, strict=True):
            assert np.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_one_point_gradients_follow_seed_000s_formulas():
    """One hidden sigmoid layer, one point: the derivatives Grokking ML (appendix B) works out."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=3), 1.0
    V, b, W, c = rng.normal(size=(3, 4)), rng.normal(size=4), rng.normal(size=(4, 1)), 0.2
    h = 1 / (1 + np.exp(-(x @ V + b)))
    yhat = 1 / (1 + np.exp(-(h @ W[:, 0] + c)))
    objective = NetworkObjective(get_loss("log_loss"), "sigmoid", None, 0.0, 0.0, None, None, 2)
    _, (gV, gb, gW, gc) = objective.loss_and_grads(
        [V, b, W, np.array([c])], x[None, :], np.array([[y]]), None)
    assert np.allclose(gW[:, 0], (yhat - y) * h)
    assert np.allclose(gc, yhat - y)
    assert np.allclose(gV, (yhat - y) * np.outer(x, W[:, 0] * h * (1 - h)))
    assert np.allclose(gb, (yhat - y) * W[:, 0] * h * (1 - h))


def test_fit_with_engine_backprop_matches_fused_fit():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    kw = dict(hidden_layer_sizes=(6,), epochs=5, tol=None, random_state=0)
    a = d.MLPClassifier(backprop="fused", **kw).fit(X, y)
    b = d.MLPClassifier(backprop="engine", **kw).fit(X, y)
    for wa, wb in zip(a.coefs_, b.coefs_, strict=True):
        assert np.allclose(wa, wb, rtol=1e-9)


@pytest.mark.parametrize("name", ["one_circle.csv", "two_circles.csv"])
def test_mlp_on_the_books_circles_matches_scikit_learn(name):
    X, y = load_book_points(name)
    reference = SkMLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0)
    reference_accuracy = reference.fit(X, y).score(X, y)
    ours = d.MLPClassifier((16,), activation="tanh", random_state=0).fit(X, y)
    assert ours.score(X, y) >= reference_accuracy


def test_regressor_folds_the_scalings_into_its_weights():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 2)) * [100, 0.01] + [1000, 0]
    y = 500 + 3 * (X[:, 0] - 1000) + 2000 * X[:, 1]
    net = d.MLPRegressor((8,), activation="identity", random_state=0).fit(X, y)
    assert net.score(X, y) > 0.999
    manual = (X @ net.coefs_[0] + net.intercepts_[0]) @ net.coefs_[1] + net.intercepts_[1]
    assert np.allclose(manual[:, 0], net.predict(X))


def test_bad_network_parameters_are_named():
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        d.MLPClassifier((0,)).fit([[0.0], [1.0]], [0, 1])
    with pytest.raises(ValueError, match="activation must be one of"):
        d.MLPClassifier(activation="swish").fit([[0.0], [1.0]], [0, 1])
