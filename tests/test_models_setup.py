"""A fit's set-up: the one pass over X (scaling and the NaN/infinity check), the labels, and
the default batch size."""

import numpy as np
import pytest

import descent as d
from descent.cli.app import UserError
from descent.cli.train_commands import _convert
from descent.kernels import stats
from descent.models._validation import auto_batch_size, resolve_batch_size
from descent.models.base import unique_labels
from descent.models.linear import LinearObjective

from .subprocesses import assert_second_process_starts_warm


def compiled_available(dtype=np.float64) -> bool:
    return stats._loops(dtype) is not None


needs_numba = pytest.mark.skipif(not compiled_available(), reason="compiled kernels cannot run")
RNG = np.random.default_rng(3)


def reference_stats(A, sw=None):
    """The textbook two-pass weighted mean and standard deviation, in float64."""
    A = A.astype(np.float64)
    w = np.ones(len(A)) if sw is None else np.asarray(sw, dtype=np.float64)
    w = w / w.sum()
    mean = w @ A
    return mean, np.sqrt(w @ (A - mean) ** 2)


# ----- column_stats: the scaling pass ----------------------------------------------------
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_column_stats_equal_numpys_two_pass_formula(compiled, dtype, weighted):
    A = (RNG.normal(size=(9000, 7)) * [1, 2, 3, 0.1, 5, 1e-3, 1] + [0, 1, -2, 3, 1e3, 0, 9])
    A = A.astype(dtype)
    sw = RNG.uniform(0.1, 3.0, size=len(A)) if weighted else None
    mean, scale = stats.column_stats(A, sw, compiled=compiled)
    expected_mean, expected_scale = reference_stats(A, sw)
    assert mean.dtype == dtype and scale.dtype == dtype
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(mean, expected_mean.astype(dtype), rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(scale, expected_scale.astype(dtype), rtol=rtol)


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_column_stats_keep_precision_for_a_large_offset(compiled):
    A = RNG.normal(size=(20_000, 3)) * [1.0, 1e-3, 0.0] + [1e9, -1e6, 7.0]
    sw = RNG.uniform(0.1, 2.0, size=len(A))
    mean, scale = stats.column_stats(A, sw, compiled=compiled)
    expected_mean, expected_scale = reference_stats(A, sw)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-14)
    np.testing.assert_allclose(scale[:2], expected_scale[:2], rtol=1e-7)
    assert scale[2] == 1.0  # a constant column is left unscaled


@needs_numba
def test_compiled_pass_equals_numpy_and_has_the_same_bits_on_any_number_of_threads():
    A = RNG.normal(size=(300_000, 5)) + [0, 1, 2, 3, 4]  # several chunks: the parallel pass
    sw = RNG.uniform(0.5, 1.5, size=len(A))
    one = stats.column_stats(A, sw, workers=1, compiled=True)
    two = stats.column_stats(A, sw, workers=2, compiled=True)
    three = stats.column_stats(A, sw, workers=3, compiled=True)
    numpy = stats.column_stats(A, sw, compiled=False)
    for got in (two, three):
        assert np.array_equal(got[0], one[0]) and np.array_equal(got[1], one[1])
    np.testing.assert_allclose(one[0], numpy[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(one[1], numpy[1], rtol=1e-12)


def test_column_stats_read_fortran_ordered_and_sliced_data():
    A = np.asfortranarray(RNG.normal(size=(500, 4)))
    for view in (A, A[::2], np.ascontiguousarray(A)[:, ::2]):
        mean, scale = stats.column_stats(view)
        expected_mean, expected_scale = reference_stats(view)
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(scale, expected_scale, rtol=1e-12)


def test_column_stats_refuse_what_they_cannot_use():
    with pytest.raises(ValueError, match="at least one row"):
        stats.column_stats(np.empty((0, 3)))
    if not compiled_available():
        with pytest.raises(RuntimeError, match="cannot run"):
            stats.column_stats(np.ones((2, 2)), compiled=True)


# ----- the NaN and infinity check -------------------------------------------------------
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("bad", "words"), [(np.nan, "NaN"), (np.inf, "infinity"),
                                            (-np.inf, "infinity")])
def test_both_passes_name_the_first_bad_entry_and_the_fix(compiled, dtype, bad, words,
                                                          monkeypatch):
    A = RNG.normal(size=(20_000, 6)).astype(dtype)
    A[12_345, 4] = bad
    A[15_000, 1] = bad
    sw = np.ones(len(A))
    sw[12_345] = 0.0  # a zero weight does not hide it
    match = f"Input X contains {words} \\(first at row 12345, column 4\\)"
    with pytest.raises(ValueError, match=match) as err:
        stats.column_stats(A, sw, compiled=compiled)
    assert "before fitting" in str(err.value)
    monkeypatch.setenv("DESCENT_JIT", "1" if compiled else "0")  # the check alone
    with pytest.raises(ValueError, match=match):
        stats.check_finite(A)


@pytest.mark.parametrize("jit", ["1", "0"])
def test_huge_finite_values_are_no_false_alarm(jit, monkeypatch):
    monkeypatch.setenv("DESCENT_JIT", jit)
    A = np.full((5000, 3), 1e308)  # the sum overflows; the entries are finite
    stats.check_finite(A)
    stats.check_finite(np.full((5000, 3), 3e38, dtype=np.float32))
    assert stats.nonfinite_error(A) is None


@pytest.mark.parametrize("jit", ["1", "0"])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("make", [d.LogisticRegression, d.LinearRegression, d.Perceptron])
@pytest.mark.parametrize(("bad", "words"), [(np.nan, "NaN"), (np.inf, "infinity")])
def test_fits_refuse_nan_and_infinity_with_or_without_scaling(jit, standardize, make, bad,
                                                              words, monkeypatch):
    monkeypatch.setenv("DESCENT_JIT", jit)
    X = RNG.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    X[17, 2] = bad
    model = make(standardize=standardize, epochs=2)
    with pytest.raises(ValueError, match=f"Input X contains {words} \\(first at row 17, "
                                         f"column 2\\); {make.__name__} needs finite"):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


def test_continued_fits_check_new_data_too():
    X = RNG.normal(size=(100, 2))
    y = (X[:, 0] > 0).astype(int)
    bad = X.copy()
    bad[3, 1] = np.nan
    warm = d.LogisticRegression(warm_start=True, epochs=2, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="contains NaN"):
        warm.fit(bad, y)
    partial = d.LogisticRegression(random_state=0).partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="contains NaN"):
        partial.partial_fit(bad, y)


def test_nan_targets_are_still_refused():
    X = RNG.normal(size=(10, 2))
    with pytest.raises(ValueError, match="NaN"):
        d.LinearRegression().fit(X, np.r_[np.nan, np.ones(9)])


def test_assume_finite_skips_the_separate_check_as_scikit_learn_does():
    import sklearn

    X = RNG.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    X[0, 0] = np.inf
    with sklearn.config_context(assume_finite=True):  # the user vouches for the data
        with pytest.raises(ValueError, match="infinity"):  # scaling still sees it
            d.LogisticRegression(epochs=1).fit(X, y)


# ----- labels ------------------------------------------------------------------------------
@pytest.mark.parametrize("y", [
    np.array([3, 1, 3, 2, 1]), np.array([-128, 127, 0], dtype=np.int8),
    np.array([True, False, True]), np.array([7, 7, 7], dtype=np.uint16),
    np.array([10**12, -3, 5]), np.array([2**63 + 5, 2**63 + 1], dtype=np.uint64),
    np.array([0.5, 1.5, 0.5]), np.array(["b", "a", "b"]), np.array(["x", "y"], dtype=object),
])
def test_unique_labels_equal_numpys_unique(y):
    got, expected = unique_labels(y), np.unique(y)
    assert got.dtype == expected.dtype and np.array_equal(got, expected)


def test_class_weights_are_looked_up_per_row():
    X = RNG.normal(size=(60, 2))
    y = np.array(["a"] * 10 + ["b"] * 20 + ["c"] * 30)
    model = d.LogisticRegression(class_weight="balanced")
    model.classes_ = unique_labels(y)
    sw = model._apply_class_weight(y, np.ones(60))
    assert sw.tolist() == [2.0] * 10 + [1.0] * 20 + [60 / 90] * 30
    assert d.LogisticRegression(class_weight="balanced", epochs=2).fit(X, y).classes_.tolist() \
        == ["a", "b", "c"]


# ----- batch_size="auto" --------------------------------------------------------------------
def test_auto_batch_size_is_32_for_small_data_and_grows_to_256():
    sizes = {n: auto_batch_size(n) for n in (1, 1000, 31_999, 32_000, 63_999, 64_000,
                                             127_999, 128_000, 500_000, 10**8)}
    assert sizes == {1: 32, 1000: 32, 31_999: 32, 32_000: 64, 63_999: 64, 64_000: 128,
                     127_999: 128, 128_000: 256, 500_000: 256, 10**8: 256}
    for n in (32_000, 64_000, 128_000):  # an epoch keeps at least 500 steps
        assert n // auto_batch_size(n) >= 500
    assert resolve_batch_size("auto", 100) == 32
    assert resolve_batch_size(None, 100) is None and resolve_batch_size(8, 100) == 8


@pytest.mark.parametrize("make", [d.LinearRegression, d.LogisticRegression, d.Perceptron,
                                  d.LinearSVC])
def test_linear_estimators_default_to_auto(make):
    assert make().batch_size == "auto"


@pytest.mark.parametrize(("n", "steps"), [(1000, 32), (40_000, 625)])
def test_a_fit_takes_the_auto_batch_size_for_its_rows(n, steps):
    X = RNG.normal(size=(n, 2))
    y = (X[:, 0] > 0).astype(int)
    model = d.LogisticRegression(epochs=1, tol=None, random_state=0).fit(X, y)
    assert model._steps_per_epoch == steps  # 1000 / 32 rounded up; 40,000 / 64
    assert model.batch_size == "auto"  # the parameter itself is left as given


@pytest.mark.parametrize("value", ["big", 0, 2.5, True])
def test_bad_batch_sizes_are_named_with_what_is_accepted(value):
    with pytest.raises(ValueError, match="batch_size must be None .* or 'auto'"):
        d.LinearRegression(batch_size=value).fit([[1.0], [2.0]], [1.0, 2.0])


def test_auto_round_trips_through_a_model_file_and_the_cli(tmp_path):
    X = RNG.normal(size=(40, 2))
    model = d.LogisticRegression(epochs=2, random_state=0).fit(X, (X[:, 0] > 0).astype(int))
    back = d.load(model.save(tmp_path / "m.descent"))
    assert back.get_params()["batch_size"] == "auto"
    assert _convert("batch_size", "auto") == "auto" and _convert("batch_size", "AUTO") == "auto"
    assert _convert("batch_size", "full") is None and _convert("batch_size", "64") == 64
    with pytest.raises(UserError, match="'auto'"):
        _convert("batch_size", "lots")


# ----- the validation loss, compiled where the training loop is ------------------------------
@needs_numba
@pytest.mark.parametrize("loss", ["log_loss", "hinge", "squared_error"])
@pytest.mark.parametrize("weighted", [False, True])
def test_the_compiled_validation_loss_equals_numpys(loss, weighted):
    from descent.losses import get_loss

    X = RNG.normal(size=(3000, 4))
    Y = (X[:, :1] > 0).astype(np.float64)
    sw = RNG.uniform(0.5, 2.0, size=3000) if weighted else None
    params = [RNG.normal(size=(4, 1)), np.array([0.3])]
    common = dict(point_loss=get_loss(loss), penalty="l2", alpha=0.01, l1_ratio=0.15,
                  x_mean=X.mean(0), x_scale=X.std(0), fit_intercept=True)
    numpy = LinearObjective(**common).loss(params, X, Y, sw)
    objective = LinearObjective(**common, optimizer="adam")
    assert objective._compiled_loss(params, X, Y, sw) is not None
    assert objective.loss(params, X, Y, sw) == pytest.approx(numpy, rel=1e-10)


# ----- the compiled set-up loops load from the disk cache ------------------------------------
LOAD_AND_REPORT = """
import json, numpy as np
from descent.kernels import stats
A = np.random.default_rng(0).normal(size=(40, 3))
stats.column_stats(A); stats.check_finite(A)
loops = stats._loops(np.float64)
print(json.dumps({name: [sum(getattr(loops, name).stats.cache_hits.values()),
                         sum(getattr(loops, name).stats.cache_misses.values())]
                  for name in ("moments", "finite_sums")}))
"""


@needs_numba
def test_a_second_process_loads_the_set_up_loops_from_the_cache():
    report = assert_second_process_starts_warm(LOAD_AND_REPORT)
    assert set(report) == {"moments", "finite_sums"}
