"""scikit-learn's own estimator checks over every descent estimator."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import descent as d

ESTIMATORS = [
    d.LinearRegression(random_state=0),
    d.LinearRegression(loss="absolute_error", random_state=0),
    d.Perceptron(random_state=0),
    d.LogisticRegression(random_state=0),
    d.LinearSVC(random_state=0),
    d.MLPClassifier((8,), random_state=0),
    d.MLPRegressor((8,), random_state=0),
]

SHUFFLED_BATCHES = (
    "default fits use shuffled mini-batches of 32: repeating a row changes which rows share "
    "a batch, so weights cannot equal repetition exactly (as for scikit-learn's SGD)"
)


def expected_failures(estimator) -> dict[str, str]:
    if estimator.batch_size is not None:
        return {"check_sample_weight_equivalence_on_dense_data": SHUFFLED_BATCHES}
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_scikit_learn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("make", [lambda: d.LogisticRegression(random_state=0),
                                  lambda: d.MLPRegressor((4,), random_state=0)])
def test_clean_arrays_skip_conversion_but_not_the_checks(make):
    # Plain float arrays skip scikit-learn's conversions (a fast path for many small calls);
    # the results equal those of lists, and bad values are still refused.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int) if make().__class__.__name__.startswith("Log") else X[:, 0]
    fast, slow = make(), make()
    kwargs = {"classes": [0, 1]} if y.dtype.kind == "i" else {}
    for _ in range(3):
        fast.partial_fit(X, y, **kwargs)
        slow.partial_fit(X.tolist(), y.tolist(), **kwargs)
    np.testing.assert_array_equal(fast.predict(X), slow.predict(X.tolist()))
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fast.predict(bad)
    with pytest.raises(ValueError, match="NaN"):
        fast.partial_fit(bad, y)
    with pytest.raises(ValueError, match="features"):
        fast.predict(X[:, :2])
