"""scikit-learn's own estimator checks over every descent estimator."""

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
