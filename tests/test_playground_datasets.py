"""The model lab's data: built-in sets, the split, the features, uploads and the stores."""

from __future__ import annotations

import numpy as np
import pytest

from descent import Perceptron
from descent.playground.datasets import BOX, DATASETS, DatasetError, make_dataset, split
from descent.playground.errors import InputError
from descent.playground.features import FEATURES, canonical, transform
from descent.playground.stores import Store, StoreFull
from descent.playground.uploads import MAX_ROWS, read_upload

CLASSIFICATION = [name for name, (_, task) in DATASETS.items() if task == "classification"]


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_set_has_its_shape_lies_in_the_box_and_repeats_with_its_seed(name):
    X, y = make_dataset(name, n_points=101, noise=0.2, seed=7)
    again, y_again = make_dataset(name, n_points=101, noise=0.2, seed=7)
    other, _ = make_dataset(name, n_points=101, noise=0.2, seed=8)
    assert X.shape == (101, 2) and y.shape == (101,)
    assert np.all(np.abs(X) <= BOX)
    assert np.array_equal(X, again) and np.array_equal(y, y_again)
    assert not np.array_equal(X, other)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_have_both_labels_in_fair_shares(name):
    _, y = make_dataset(name, n_points=400, seed=0)
    assert set(np.unique(y).tolist()) == {0, 1}
    assert 0.25 < y.mean() < 0.75


def test_the_shapes_are_what_their_names_say():
    X, y = make_dataset("xor", n_points=300, noise=0.0, seed=1)
    assert np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))
    X, y = make_dataset("circle", n_points=300, noise=0.0, seed=1)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius[y == 1].max() < radius[y == 0].min()
    X, y = make_dataset("curve", n_points=300, noise=0.0, seed=1, curve="x^2 - 1")
    assert np.array_equal(y, (X[:, 1] > X[:, 0] ** 2 - 1).astype(int))
    X, y = make_dataset("plane", n_points=50, noise=0.0, seed=1)
    assert np.allclose(y, (X[:, 0] + 2 * X[:, 1]) / (3 * BOX))


def test_the_linearly_separable_set_is_separable_without_noise():
    X, y = make_dataset("linear", n_points=200, noise=0.0, seed=3)
    model = Perceptron(batch_size=None, tol=None, epochs=200, random_state=0).fit(X, y)
    assert model.score(X, y) == 1.0


def test_noise_blurs_the_classes():
    X, y = make_dataset("xor", n_points=400, noise=1.0, seed=1)
    assert not np.array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(int))


@pytest.mark.parametrize("curve, words", [
    ("__import__('os').system('ls')", "column"),
    ("x + y", "only x"),
    ("100", "every point lies below"),
    ("", "empty"),
    ("x" + "+x" * 150, "limit"),
])
def test_a_bad_curve_is_refused_on_its_field(curve, words):
    with pytest.raises(DatasetError) as caught:
        make_dataset("curve", n_points=50, curve=curve)
    assert caught.value.field == "curve" and words in str(caught.value)


def test_a_curve_with_no_variable_or_undefined_values_still_works():
    _, y = make_dataset("curve", n_points=100, noise=0.0, seed=0, curve="0.5")
    assert 0 < y.mean() < 1
    _, y = make_dataset("curve", n_points=100, noise=0.0, seed=0, curve="log(x)")
    assert 0 < y.mean() < 1  # log of a negative x is NaN there: those points count as below


def test_an_unknown_set_is_refused():
    with pytest.raises(DatasetError) as caught:
        make_dataset("moons")
    assert caught.value.field == "dataset" and "circle" in str(caught.value)


def test_the_split_is_seeded_disjoint_and_keeps_both_parts():
    X, y = np.arange(40.0).reshape(20, 2), np.arange(20)
    X_train, X_test, y_train, y_test = split(X, y, train_ratio=0.7, seed=4)
    assert (len(y_train), len(y_test)) == (14, 6)
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    assert np.array_equal(split(X, y, 0.7, 4)[2], y_train)
    assert not np.array_equal(split(X, y, 0.7, 5)[2], y_train)
    assert [len(p) for p in split(X[:10], y[:10], 0.9999, 0)[2:]] == [9, 1]


def test_features_compute_their_columns_in_the_models_order():
    X = np.array([[1.0, 2.0], [-0.5, 3.0]])
    names = canonical(["sin(x2)", "x1*x2", "x1^2", "x1"])
    assert names == ("x1", "x1^2", "x1*x2", "sin(x2)")
    Z = transform(X, names)
    assert np.allclose(Z, np.column_stack([X[:, 0], X[:, 0] ** 2, X[:, 0] * X[:, 1],
                                           np.sin(X[:, 1])]))
    assert transform(X, list(FEATURES)).shape == (2, 7)
    with pytest.raises(ValueError, match="unknown feature"):
        canonical(["x3"])


# ----- uploads -------------------------------------------------------------------------
def test_an_upload_with_text_labels_is_a_classification_scaled_into_the_box():
    data = read_upload("area,rooms,kind\n10,1,flat\n30,2,house\n20,2,flat\n50,4,house\n")
    assert data.task == "classification" and data.classes == ["flat", "house"]
    assert data.columns == ["area", "rooms", "kind"]
    assert data.X[:, 0].tolist() == [-3.0, 0.0, -1.5, 3.0]
    assert data.scale == [(10.0, 50.0), (1.0, 4.0)]
    assert data.y.tolist() == ["flat", "house", "flat", "house"]


def test_an_upload_with_two_numbers_is_a_classification_and_with_many_a_regression():
    two = read_upload("a,b,label\n1,2,0\n2,3,1\n3,1,0\n4,4,1\n")
    assert two.task == "classification" and two.classes == [0, 1]
    assert two.y.dtype.kind == "i"
    many = read_upload("a,b,price\n1,2,10.5\n2,3,11\n3,1,12\n4,4,30\n")
    assert many.task == "regression" and many.classes == []
    assert many.y.tolist() == [10.5, 11.0, 12.0, 30.0]


@pytest.mark.parametrize("text, words", [
    ("1,2,0\n2,3,1\n3,1,0\n4,4,1\n", "no header"),
    ("a,b,label\nx,2,0\ny,3,1\nz,1,0\nw,4,1\n", "not numeric"),
    ("a,label\n1,0\n2,1\n3,0\n4,1\n", "exactly three"),
    ("a,b,c,label\n1,2,3,0\n2,3,4,1\n3,1,5,0\n4,4,6,1\n", "exactly three"),
    ("a,b,label\n1,2,0\n2,3,1\n", "rows"),
    ("a,b,label\n1,2,cat\n2,3,dog\n3,1,cow\n4,4,dog\n", "3 distinct"),
    ("a,b,label\n1,2,1\n2,3,1\n3,1,1\n4,4,1\n", "1 distinct"),
    ("a,b,label\n1,,0\n2,3,1\n3,1,0\n4,4,1\n", "missing"),
    ("   \n", "empty"),
])
def test_a_bad_upload_is_refused_on_the_file_field_without_naming_a_temporary_path(text, words):
    with pytest.raises(DatasetError) as caught:
        read_upload(text)
    assert isinstance(caught.value, InputError) and caught.value.status == 422
    message = str(caught.value)
    assert caught.value.field == "file" and words in message, message
    assert "descent-upload-" not in message and "/tmp" not in message


def test_a_very_wide_upload_is_refused_at_once():
    text = ",".join(f"c{i}" for i in range(80_000)) + "\n" + ",".join("1" * 80_000) + "\n"
    with pytest.raises(DatasetError, match="80,000 columns"):
        read_upload(text)


def test_an_upload_over_the_row_limit_is_refused():
    rows = "".join(f"{i},{i % 7},{i % 2}\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(DatasetError, match="rows"):
        read_upload("a,b,label\n" + rows)


# ----- stores ---------------------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_store_evicts_the_least_recently_used_idle_item_when_full():
    clock, dropped = Clock(), []
    store = Store(capacity=2, idle_seconds=100, clock=clock, keep_seconds=10,
                  on_drop=dropped.append)
    a, b = store.add("a"), store.add("b")
    clock.now = 5
    with pytest.raises(StoreFull):  # both used in the last 10 s: neither is pushed out
        store.add("c")
    clock.now = 11
    assert store.get(a) == "a"
    store.add("c")
    assert store.get(b) is None and store.get(a) == "a" and len(store) == 2
    assert dropped == ["b"]


def test_an_item_that_leaves_the_store_is_handed_to_on_drop():
    clock, dropped = Clock(), []
    store = Store(capacity=5, idle_seconds=10, clock=clock, on_drop=dropped.append)
    a, _ = store.add("a"), store.add("b")
    assert store.remove(a) and dropped == ["a"]
    clock.now = 20
    assert len(store) == 0 and dropped == ["a", "b"]


def test_a_full_store_of_busy_items_refuses():
    store = Store(capacity=2, idle_seconds=100, busy=lambda item: True)
    store.add("a"), store.add("b")
    with pytest.raises(StoreFull):
        store.add("c")


def test_items_expire_when_idle_unless_busy():
    clock, busy = Clock(), set()
    store = Store(capacity=5, idle_seconds=10, busy=lambda item: item in busy, clock=clock)
    a, b = store.add("a"), store.add("b")
    clock.now = 5
    store.get(a)
    clock.now = 12  # b idle 12 s: gone; a used at 5: kept
    assert store.get(b) is None and store.get(a) == "a"
    busy.add("a")
    clock.now = 100
    assert len(store) == 1  # busy: kept however long
    busy.clear()
    assert len(store) == 0
    assert store.remove(a) is False


def test_a_first_line_longer_than_the_csv_field_limit_is_refused_on_the_file_field():
    with pytest.raises(InputError) as caught:
        read_upload("x" * 200_000 + ",1,2\n1,2,3\n")
    assert caught.value.field == "file" and len(caught.value.message) < 200
