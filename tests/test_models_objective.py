"""The closed-form gradients the models descend equal the engine's and the nudged ones."""

import numpy as np
import pytest

import descent as d
from descent.losses import get_loss
from descent.models.linear import LinearObjective
from descent.penalties import engine_penalty

CASES = [
    ("squared_error", 1), ("absolute_error", 1), ("perceptron", 3), ("log_loss", 1),
    ("multinomial_log_loss", 3), ("hinge", 3),
]


def targets(name, n, k, rng):
    if name in ("squared_error", "absolute_error"):
        return rng.normal(size=(n, k))
    if name == "multinomial_log_loss":
        return np.eye(k)[rng.integers(0, k, n)]
    return rng.integers(0, 2, size=(n, k)).astype(float)


@pytest.mark.parametrize("standardize", [False, True])
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize(("name", "k"), CASES)
def test_linear_objective_gradient_matches_engine_and_nudging(name, k, penalty, standardize):
    rng = np.random.default_rng(hash((name, penalty, standardize)) % 2**32)
    n, p = 9, 4
    X = rng.normal(size=(n, p)) * 2 + 1
    Y = targets(name, n, k, rng)
    W, b = rng.normal(size=(p, k)), rng.normal(size=k)
    mean, scale = (X.mean(0), X.std(0)) if standardize else (None, None)
    objective = LinearObjective(get_loss(name), penalty, 0.3, 0.4, mean, scale, True)
    value, (gW, gb) = objective.loss_and_grads([W, b], X, Y, None)

    def f(theta):
        Wt, bt = theta[: p * k].reshape(p, k), theta[p * k:]
        Wr = Wt if scale is None else Wt / scale[:, None]
        br = bt if scale is None else bt - d.Tensor(mean, requires_grad=False) @ Wr
        S = X @ Wr + br
        total = d.mean(get_loss(name).engine(S, Y))
        if penalty is not None:
            total = total + engine_penalty(Wt, penalty, 0.3, 0.4)
        return total

    theta = np.concatenate([W.ravel(), b])
    by_engine = d.grad(f)(theta)
    assert value == pytest.approx(float(f(d.Tensor(theta)).data), rel=1e-12)
    assert np.allclose(np.concatenate([gW.ravel(), gb]), by_engine, rtol=1e-10, atol=1e-12)
    assert np.allclose(by_engine, d.numerical_grad(f, theta), atol=1e-6)
