"""Linear estimators: the seeds' tricks, independent optima, and the training features."""

import logging

import numpy as np
import pytest
from scipy.optimize import linprog, minimize
from sklearn.linear_model import Lasso

import descent as d

SEED_STEP = dict(batch_size=1, shuffle=False, epochs=1, init="zeros", optimizer="gd",
                 penalty=None, standardize=False, tol=None)


# ----- the tricks: one point, one plain step ----------------------------------------------
@pytest.mark.parametrize("y", [3.0, -2.0])
def test_square_trick(y):
    x, lr = np.array([[2.0, -1.0]]), 0.1
    m = d.LinearRegression(learning_rate=lr, **SEED_STEP).fit(x, [y])
    assert np.array_equal(m.coef_, lr * (y - 0.0) * x[0])
    assert m.intercept_ == lr * (y - 0.0)


@pytest.mark.parametrize("y", [3.0, -2.0])
def test_absolute_trick(y):
    x, lr = np.array([[2.0, -1.0]]), 0.1
    m = d.LinearRegression(loss="absolute_error", learning_rate=lr, **SEED_STEP).fit(x, [y])
    assert np.array_equal(m.coef_, lr * np.sign(y) * x[0])
    assert m.intercept_ == lr * np.sign(y)


def test_perceptron_trick_moves_only_on_a_mistake():
    x, lr = np.array([[2.0, -1.0]]), 0.5
    # Zero weights score 0, which predicts 1: a negative point is a mistake, w -= lr x, b -= lr.
    neg = d.Perceptron(learning_rate=lr, **SEED_STEP).partial_fit(x, [0], classes=[0, 1])
    assert np.array_equal(neg.coef_[0], -lr * x[0]) and neg.intercept_[0] == -lr
    pos = d.Perceptron(learning_rate=lr, **SEED_STEP).partial_fit(x, [1], classes=[0, 1])
    assert np.array_equal(pos.coef_[0], [0.0, 0.0]) and pos.intercept_[0] == 0.0
    # From w = -lr x a positive point scores negative: the trick adds lr x and lr back.
    neg.partial_fit(x, [1])
    assert np.allclose(neg.coef_[0], 0.0) and neg.intercept_[0] == 0.0


@pytest.mark.parametrize("y", [0, 1])
def test_logistic_trick(y):
    x, lr = np.array([[2.0, -1.0]]), 0.3
    m = d.LogisticRegression(learning_rate=lr, **SEED_STEP).partial_fit(x, [y], classes=[0, 1])
    assert np.allclose(m.coef_[0], lr * (y - 0.5) * x[0], rtol=0, atol=1e-15)
    assert m.intercept_[0] == pytest.approx(lr * (y - 0.5), abs=1e-15)


# ----- independent optima -------------------------------------------------------------------
FULL_GD = dict(optimizer="gd", batch_size=None, tol=None, penalty=None)


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3)) * [1.0, 3.0, 0.5] + [2.0, -1.0, 0.0]
    y = X @ [1.5, -2.0, 0.7] + 4.0 + rng.normal(scale=0.5, size=200)
    return X, y


@pytest.mark.parametrize("standardize", [True, False])
def test_squared_error_reaches_least_squares(regression_data, standardize):
    X, y = regression_data
    m = d.LinearRegression(learning_rate=0.1 if standardize else 0.05, epochs=5000,
                           standardize=standardize, **FULL_GD).fit(X, y)
    exact, *_ = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), y, rcond=None)
    assert np.allclose(np.append(m.coef_, m.intercept_), exact, rtol=1e-6, atol=0)


def test_book_chapter_3_rooms_and_prices_converge_to_the_least_squares_line():
    X = np.array([[1.0], [2.0], [3.0], [5.0], [6.0], [7.0]])
    y = np.array([155.0, 197.0, 244.0, 356.0, 407.0, 448.0])
    m = d.LinearRegression(learning_rate=0.04, epochs=20_000, standardize=False, **FULL_GD)
    m.fit(X, y)
    slope, intercept = np.polyfit(X[:, 0], y, 1)
    assert m.coef_[0] == pytest.approx(slope, rel=1e-8)
    assert m.intercept_ == pytest.approx(intercept, rel=1e-8)


def test_absolute_error_is_within_one_percent_of_the_lad_optimum(regression_data):
    X, y = regression_data
    n, p = X.shape
    # LAD as a linear program: minimise sum(u + v) with X w + b + u - v = y, u, v >= 0.
    c = np.concatenate([np.zeros(p + 1), np.ones(2 * n)])
    A = np.hstack([X, np.ones((n, 1)), np.eye(n), -np.eye(n)])
    bounds = [(None, None)] * (p + 1) + [(0, None)] * (2 * n)
    lp = linprog(c, A_eq=A, b_eq=y, bounds=bounds, method="highs")
    best = lp.fun / n
    m = d.LinearRegression(loss="absolute_error", optimizer="adam", learning_rate=0.01,
                           batch_size=None, epochs=4000, tol=None, random_state=0).fit(X, y)
    reached = np.mean(np.abs(y - m.predict(X)))
    assert best <= reached <= 1.01 * best


def test_l2_logistic_regression_matches_lbfgs_on_the_same_objective():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=300) > 0).astype(int)
    alpha = 0.01

    def objective(theta):
        w, b = theta[:-1], theta[-1]
        z = X @ w + b
        p = 1 / (1 + np.exp(-z))
        value = np.mean(np.logaddexp(0, z) - y * z) + alpha / 2 * w @ w
        grad = np.append(X.T @ (p - y) / len(y) + alpha * w, np.mean(p - y))
        return value, grad

    ref = minimize(objective, np.zeros(5), jac=True, method="L-BFGS-B",
                   options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000})
    m = d.LogisticRegression(optimizer="gd", learning_rate=1.0, batch_size=None, epochs=5000,
                             tol=None, penalty="l2", alpha=alpha, standardize=False).fit(X, y)
    assert np.allclose(np.append(m.coef_[0], m.intercept_), ref.x, rtol=1e-5, atol=1e-7)


def test_linear_svm_matches_a_direct_solve_of_its_objective():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 2))
    y = (X @ [1.0, 1.0] + 0.3 * rng.normal(size=40) > 0).astype(int)
    t = 2 * y - 1
    C = 1.0

    def primal(theta):
        w, b = theta[:2], theta[2]
        return C * np.maximum(0, 1 - t * (X @ w + b)).sum() + 0.5 * w @ w

    # The same objective as a smooth problem with slack variables, solved by SLSQP.
    def qp(v):
        return 0.5 * v[:2] @ v[:2] + C * v[3:].sum()

    cons = [{"type": "ineq", "fun": lambda v: t * (X @ v[:2] + v[2]) - 1 + v[3:]},
            {"type": "ineq", "fun": lambda v: v[3:]}]
    ref = minimize(qp, np.concatenate([np.zeros(3), np.ones(40)]), constraints=cons,
                   method="SLSQP", options={"maxiter": 500, "ftol": 1e-12})
    m = d.LinearSVC(C=C, optimizer="adam", learning_rate=0.01, batch_size=None, epochs=6000,
                    tol=None, standardize=False, random_state=0).fit(X, y)
    ours = primal(np.append(m.coef_[0], m.intercept_))
    assert ref.success and ours <= primal(ref.x[:3]) * 1.01


# ----- regularization -----------------------------------------------------------------------
def test_l1_sets_irrelevant_coefficients_exactly_to_zero_and_spares_the_intercept():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 5))
    y = 3 * X[:, 0] + 10.0 + rng.normal(scale=0.1, size=300)
    m = d.LinearRegression(penalty="l1", alpha=0.5, optimizer="gd", learning_rate=0.05,
                           batch_size=None, epochs=2000, tol=None, standardize=False).fit(X, y)
    assert np.all(m.coef_[1:] == 0.0)
    # The same objective, 1/(2n) ||y - X w - b||^2 + alpha ||w||_1, by coordinate descent.
    lasso = Lasso(alpha=0.5, tol=1e-12, max_iter=100_000).fit(X, y)
    assert np.allclose(m.coef_, lasso.coef_, atol=1e-6)
    assert m.intercept_ == pytest.approx(lasso.intercept_, abs=1e-6)


def test_l2_shrinks_the_weights_and_not_the_intercept(regression_data):
    X, y = regression_data
    kw = dict(optimizer="gd", learning_rate=0.05, batch_size=None, epochs=3000, tol=None)
    free = d.LinearRegression(**kw).fit(X, y)
    tight = d.LinearRegression(penalty="l2", alpha=10.0, **kw).fit(X, y)
    assert np.linalg.norm(tight.coef_) < 0.2 * np.linalg.norm(free.coef_)
    assert tight.intercept_ == pytest.approx(np.mean(y), rel=0.05)


# ----- the training record and controls -------------------------------------------------------
def test_history_records_every_epoch_and_the_path():
    X = np.array([[1.0], [2.0], [3.0]])
    m = d.LinearRegression(epochs=5, tol=None, batch_size=2, record_path=True,
                           random_state=0).fit(X, [1.0, 2.0, 3.0])
    h = m.history_
    assert len(h) == 5 == m.n_iter_ and h.epoch == [1, 2, 3, 4, 5]
    assert all(len(col) == 5 for col in (h.loss, h.grad_norm, h.learning_rate, h.time))
    assert h.time == sorted(h.time) and all(g >= 0 for g in h.grad_norm)
    assert len(h.path) == 1 + 5 * 2  # the start, then 2 steps per epoch
    coef, intercept = h.path[-1]
    assert np.allclose(coef[0], m.coef_) and np.allclose(intercept[0], m.intercept_)


def test_same_seed_gives_bitwise_identical_coefficients():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(100, 3)), rng.integers(0, 2, 100)
    a = d.LogisticRegression(random_state=7, init="random", epochs=20).fit(X, y)
    b = d.LogisticRegression(random_state=7, init="random", epochs=20).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    c = d.LogisticRegression(random_state=8, init="random", epochs=20).fit(X, y)
    assert not np.array_equal(a.coef_, c.coef_)


def test_a_callback_can_stop_training_and_verbose_logs(caplog):
    seen = []

    def stop_at_three(estimator, epoch, logs):
        seen.append((epoch, logs["loss"]))
        return epoch == 3

    X = np.arange(10.0)[:, None]
    with caplog.at_level(logging.INFO, logger="descent"):
        m = d.LinearRegression(callbacks=[stop_at_three], tol=None, verbose=1).fit(X, X[:, 0])
    assert m.n_iter_ == 3 and [e for e, _ in seen] == [1, 2, 3]
    assert "epoch 3: loss" in caplog.text


def test_early_stopping_watches_a_validation_split():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 20))
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    m = d.LogisticRegression(early_stopping=True, n_iter_no_change=3, epochs=500,
                             random_state=0).fit(X, y)
    assert len(m.history_.val_loss) == m.n_iter_ < 500


def test_partial_fit_continues_and_respects_the_schedule():
    X = np.linspace(-1, 1, 20)[:, None]
    y = (X[:, 0] > 0).astype(int)
    m = d.LogisticRegression(schedule="inverse_scaling", learning_rate=0.5, batch_size=5)
    for _ in range(3):
        m.partial_fit(X, y, classes=[0, 1])
    assert m.n_iter_ == 3 and m.history_.epoch == [1, 2, 3]
    rates = m.history_.learning_rate
    assert rates[0] > rates[1] > rates[2]  # the schedule counts steps across calls
    assert rates[2] == pytest.approx(0.5 / 12**0.25)


def test_warm_start_continues_from_the_previous_fit():
    X = np.linspace(0, 1, 30)[:, None]
    y = 2 * X[:, 0]
    m = d.LinearRegression(warm_start=True, epochs=3, tol=None, random_state=0).fit(X, y)
    first = m.coef_.copy()
    m.fit(X, y)
    cold = d.LinearRegression(epochs=3, tol=None, random_state=0).fit(X, y)
    assert np.array_equal(cold.coef_, first) and not np.array_equal(m.coef_, first)


def test_balanced_class_weight_equals_the_matching_sample_weights():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(90, 2))
    y = np.array([0] * 70 + [1] * 20)
    kw = dict(batch_size=None, epochs=50, tol=None)
    a = d.LogisticRegression(class_weight="balanced", **kw).fit(X, y)
    sw = np.where(y == 0, 90 / (2 * 70), 90 / (2 * 20))
    b = d.LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    assert np.allclose(a.coef_, b.coef_, rtol=1e-12)


def test_divergence_raises_with_advice_and_keeps_finite_parameters():
    X = np.array([[1.0], [2.0], [3.0]]) * 100
    m = d.LinearRegression(optimizer="gd", learning_rate=10.0, batch_size=None, tol=None,
                           standardize=False)
    with pytest.raises(d.DivergenceError, match=r"learning_rate=10.*smaller.*learning_rate=1\b"):
        m.fit(X, [1.0, 2.0, 3.0])
    assert np.all(np.isfinite(m.coef_)) and np.isfinite(m.intercept_)
    # nothing half-set: n_iter_ counts the epochs the history holds, and says why it ended
    assert m.n_iter_ == len(m.history_.loss) > 0 and m.history_.stopped == "diverged"


def test_float32_data_trains_in_float32():
    X = np.random.default_rng(7).normal(size=(50, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    m = d.LogisticRegression(epochs=5).fit(X, y)
    assert m.coef_.dtype == np.float32 and m.predict_proba(X).dtype == np.float32


@pytest.mark.parametrize(
    ("make", "X", "y", "match"),
    [
        (d.LinearRegression, [[1.0], [np.nan]], [1.0, 2.0], "NaN"),
        (d.LinearRegression, [[1.0], [np.inf]], [1.0, 2.0], "infinity"),
        (d.LinearRegression, [[1.0], [2.0]], [1.0], "inconsistent numbers of samples"),
        (d.LogisticRegression, [[1.0], [2.0]], [1, 1], "only one class"),
        (d.LogisticRegression, [[1.0], [2.0]], [0.5, 1.5], "Unknown label type"),
        (d.LinearRegression, np.array([["a"], ["b"]], dtype=object), [1.0, 2.0], "convert"),
        (d.LinearRegression, np.empty((0, 2)), [], "0 sample"),
    ],
)
def test_bad_data_gets_a_clear_error(make, X, y, match):
    with pytest.raises(ValueError, match=match):
        make().fit(X, y)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (dict(learning_rate=0), "learning_rate must be a positive number"),
        (dict(epochs=0), "epochs must be a positive integer"),
        (dict(batch_size=0), "batch_size must be"),
        (dict(optimizer="sgdx"), "optimizer must be one of"),
        (dict(penalty="l3"), "penalty"),
        (dict(loss="huber"), "loss must be"),
        (dict(init="ones"), "init must be"),
    ],
)
def test_unknown_parameter_values_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        d.LinearRegression(**params).fit([[1.0], [2.0]], [1.0, 2.0])


@pytest.mark.parametrize("make", [
    lambda: d.LogisticRegression(early_stopping=True, epochs=3, tol=None, random_state=0),
    lambda: d.LogisticRegression(early_stopping=True, epochs=3, tol=None, batch_size=1,
                                 optimizer="gd", random_state=0),
    lambda: d.MLPClassifier((4,), early_stopping=True, epochs=2, tol=None, random_state=0),
], ids=["mini-batch", "stochastic", "network"])
@pytest.mark.parametrize("jit", ["1", "0"])
def test_early_stopping_holds_rows_out_without_copying_x(make, jit, monkeypatch):
    import tracemalloc

    monkeypatch.setenv("DESCENT_JIT", jit)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 50))  # 8 MB
    y = (X[:, 0] + rng.normal(size=20_000) > 0).astype(int)
    make().fit(X[:500], y[:500])  # compile and import outside the measurement
    tracemalloc.start()
    try:
        model = make().fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert model.history_.val_loss[-1] is not None
    # the held-out 10% is copied; the 90% trained on is read in place
    assert peak < 0.4 * X.nbytes, f"peak {peak / 1e6:.1f} MB for an X of {X.nbytes / 1e6:.0f} MB"
