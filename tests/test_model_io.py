"""Model files: round trips for every estimator, and every kind of bad file refused."""

import io
import json
import os
import zipfile

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import descent as d
from descent import model_io
from descent.model_io import METADATA, ModelFileError, load, save

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3))
Y_REG = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.normal(size=40)
Y_INT = (X[:, 0] + X[:, 1] > 0).astype(int)
Y_STR = np.array(["ant", "bee", "cat", "dog"])[np.arange(40) % 4]
SMALL = dict(epochs=4, tol=None, random_state=0)

CASES = {
    "linear": (lambda: d.LinearRegression(**SMALL), Y_REG),
    "perceptron": (lambda: d.Perceptron(**SMALL), Y_INT),
    "logistic": (lambda: d.LogisticRegression(**SMALL), Y_STR),
    "svc": (lambda: d.LinearSVC(**SMALL), Y_STR.astype(object)),
    "mlp-classifier": (lambda: d.MLPClassifier((5,), **SMALL), Y_INT),
    "mlp-regressor": (lambda: d.MLPRegressor((4, 3), activation="tanh", **SMALL), Y_REG),
}


def fitted(case, **params):
    make, y = CASES[case]
    return make().set_params(**params).fit(X, y), y


def outputs(model):
    """Every prediction the model offers on X, by method name."""
    names = ("predict", "predict_proba", "predict_log_proba", "decision_function")
    return {name: getattr(model, name)(X) for name in names if hasattr(model, name)}


def assert_same(a, b, where="value"):
    """Equal bit for bit, type and dtype included, through lists, tuples, dicts, History."""
    assert type(a) is type(b), f"{where}: {type(a)} != {type(b)}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, d.History):
        assert_same(a.as_dict(), b.as_dict(), f"{where}.columns")
        assert_same(a.path, b.path, f"{where}.path")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    else:
        assert a == b or (a != a and b != b), f"{where}: {a!r} != {b!r}"


def public_fitted(model):
    return {k: v for k, v in vars(model).items() if k.endswith("_") and not k.startswith("_")}


# ----- round trips --------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_round_trip_keeps_everything(case, tmp_path):
    model, _ = fitted(case)
    before = outputs(model)
    path = model.save(tmp_path / "model.descent")
    assert path == tmp_path / "model.descent"
    again = load(path)
    assert type(again) is type(model)
    assert_same(again.get_params(), model.get_params(), "params")
    assert_same(public_fitted(again), public_fitted(model), "fitted")
    for key in model_io._STATE:
        assert_same(getattr(again, key), getattr(model, key), key)
    after = outputs(again)
    assert list(after) == list(before)
    for name in before:
        assert_same(after[name], before[name], name)


@pytest.mark.parametrize("case", CASES)
def test_training_goes_on_exactly_as_without_the_file(case, tmp_path):
    model, y = fitted(case)
    again = load(save(model, tmp_path / "m.descent"))
    model.partial_fit(X, y)
    again.partial_fit(X, y)
    model.set_params(warm_start=True, epochs=2).fit(X, y)
    again.set_params(warm_start=True, epochs=2).fit(X, y)
    for history in (model.history_, again.history_):
        history.time.clear()  # wall-clock seconds: the one column that may differ
    assert_same(public_fitted(again), public_fitted(model), "after training")
    assert again.history_.epoch[-1] == 4 + 1 + 2


@pytest.mark.parametrize("labels", [Y_INT, Y_INT.astype(bool), Y_STR, Y_STR.astype(object)],
                         ids=["int", "bool", "unicode", "object"])
def test_class_labels_keep_their_values_and_dtype(labels, tmp_path):
    model = d.LogisticRegression(**SMALL).fit(X, labels)
    again = load(model.save(tmp_path / "labels.descent"))
    assert_same(again.classes_, model.classes_, "classes_")
    assert_same(again.predict(X), model.predict(X), "predict")
    assert set(again.predict(X).tolist()) <= set(labels.tolist())


@pytest.mark.parametrize("case", ["linear", "mlp-classifier"])
def test_float32_models_stay_float32(case, tmp_path):
    make, y = CASES[case]
    model = make().fit(X.astype(np.float32), y)
    again = load(model.save(tmp_path / "f32.descent"))
    assert again._params[0].dtype == np.float32
    assert_same(again.predict(X.astype(np.float32)), model.predict(X.astype(np.float32)))


@pytest.mark.parametrize("case", ["linear", "mlp-regressor"])
def test_recorded_path_comes_back_step_by_step(case, tmp_path):
    model, _ = fitted(case, record_path=True, batch_size=8)
    assert len(model.history_.path) == 1 + 4 * 5
    again = load(model.save(tmp_path / "path.descent"))
    assert_same(again.history_, model.history_, "history_")
    arrays_per_step = 2 * len(model.history_.path[0][0]) if case.startswith("mlp") else 2
    with zipfile.ZipFile(tmp_path / "path.descent") as archive:  # stacked, not one per step
        assert sum("history_.path" in n for n in archive.namelist()) == arrays_per_step


def test_feature_names_come_back(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["width", "height", "depth"])
    model = d.LinearRegression(**SMALL).fit(frame, Y_REG)
    again = load(model.save(tmp_path / "named.descent"))
    assert_same(again.feature_names_in_, model.feature_names_in_)
    assert_same(again.predict(frame), model.predict(frame))


def test_same_model_same_bytes(tmp_path):
    model, _ = fitted("logistic")
    first = save(model, tmp_path / "a.descent").read_bytes()
    assert save(model, tmp_path / "b.descent").read_bytes() == first


def test_file_is_a_readable_zip_of_json_and_npy(tmp_path):
    model, _ = fitted("mlp-classifier")
    with zipfile.ZipFile(model.save(tmp_path / "m.descent")) as archive:
        meta = json.loads(archive.read(METADATA))
        members = [e["member"] for e in meta["arrays"]]
        assert sorted(archive.namelist()) == sorted([METADATA, *members])
        coef = np.load(io.BytesIO(archive.read("arrays/fitted.coefs_.0.npy")), allow_pickle=False)
    assert (meta["format"], meta["version"], meta["class"]) == ("descent-model", 1,
                                                                "MLPClassifier")
    assert meta["params"]["hidden_layer_sizes"] == {"tuple": [5]}
    assert coef.dtype == np.float64 and coef.shape == (3, 5)


def test_every_private_attribute_is_saved():
    # A new piece of private state must be added to model_io, or loading would drop it.
    for case in CASES:
        model, _ = fitted(case)
        private = {k for k in vars(model) if k.startswith("_")}
        assert private <= {*model_io._STATE, "_rng", "_opt_state"}, case


# ----- what save refuses --------------------------------------------------------------------
def test_unfitted_model_is_refused(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        d.LinearSVC().save(tmp_path / "m.descent")
    assert not (tmp_path / "m.descent").exists()


def test_callable_parameter_is_refused_by_name(tmp_path):
    model, _ = fitted("linear", callbacks=[lambda est, epoch, logs: False])
    with pytest.raises(ModelFileError, match=r"parameter callbacks=.*set_params\(callbacks=None"):
        model.save(tmp_path / "m.descent")
    assert os.listdir(tmp_path) == []
    load(model.set_params(callbacks=None).save(tmp_path / "m.descent"))  # the fix works


def test_foreign_estimator_is_refused(tmp_path):
    from sklearn.linear_model import Ridge

    with pytest.raises(TypeError, match="only its own estimators"):
        save(Ridge().fit(X, Y_REG), tmp_path / "m.descent")


def test_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = fitted("linear")[0].save(tmp_path / "m.descent")
    old = path.read_bytes()
    model, _ = fitted("mlp-regressor")

    def broken_save(*args, **kwargs):
        assert len(os.listdir(tmp_path)) == 2  # the temporary file exists beside the old one
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.descent"]


# ----- what load refuses --------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    return fitted("logistic")[0].save(tmp_path / "good.descent")


def rewrite(source, target, meta=None, replace=None, drop=()):
    """A copy of a model file with its metadata or members changed."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name in drop:
                continue
            data = old.read(name)
            if name == METADATA and meta is not None:
                data = json.dumps(meta(json.loads(data))).encode()
            new.writestr(name, (replace or {}).get(name, data))
    return target


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model file at"):
        load(tmp_path / "nowhere.descent")


def test_not_a_zip(tmp_path):
    (tmp_path / "notes.txt").write_text("x,y\n1,2\n")
    with pytest.raises(ModelFileError, match="not a descent model file: it is not a zip"):
        load(tmp_path / "notes.txt")


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    (tmp_path / "half.descent").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="damaged.*cut short"):
        load(tmp_path / "half.descent")


def test_corrupted_bytes_inside_a_member(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    with zipfile.ZipFile(saved) as archive:
        info = max(archive.infolist(), key=lambda i: i.compress_size)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    (tmp_path / "flipped.descent").write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="damaged"):
        load(tmp_path / "flipped.descent")


def test_foreign_zip(tmp_path):
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match="zip archive but not a descent model.*readme.txt"):
        load(tmp_path / "other.zip")


def test_zip_of_another_format(saved, tmp_path):
    other = rewrite(saved, tmp_path / "o.zip", meta=lambda m: {**m, "format": "other"})
    with pytest.raises(ModelFileError, match="says format 'other'"):
        load(other)


def test_newer_version_asks_for_an_upgrade(saved, tmp_path):
    newer = rewrite(saved, tmp_path / "v2.descent", meta=lambda m: {**m, "version": 2})
    with pytest.raises(ModelFileError, match="version 2.*upgrade descent"):
        load(newer)


def test_class_outside_the_whitelist(saved, tmp_path):
    evil = rewrite(saved, tmp_path / "evil.descent", meta=lambda m: {**m, "class": "os.system"})
    with pytest.raises(ModelFileError, match="'os.system', which is not one of descent's"):
        load(evil)


def test_broken_json(saved, tmp_path):
    broken = rewrite(saved, tmp_path / "b.descent", replace={METADATA: b"{not json"})
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(broken)


def test_missing_array_member(saved, tmp_path):
    gone = rewrite(saved, tmp_path / "g.descent", drop={"arrays/fitted.coef_.npy"})
    with pytest.raises(ModelFileError, match="fitted.coef_.npy .*missing"):
        load(gone)


UNPICKLED = []


class Trap:
    """Records it was unpickled: a stand-in for code a hostile file would run."""

    def __reduce__(self):
        return UNPICKLED.append, ("ran",)


def test_object_array_member_is_never_unpickled(saved, tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, np.array([Trap(), 1], dtype=object), allow_pickle=True)
    hostile = rewrite(saved, tmp_path / "h.descent",
                      replace={"arrays/fitted.coef_.npy": buffer.getvalue()})
    with pytest.raises(ModelFileError, match="holds Python objects"):
        load(hostile)
    assert UNPICKLED == []


def test_pickle_member_is_refused(saved, tmp_path):
    import pickle

    hostile = rewrite(saved, tmp_path / "p.descent",
                      replace={"arrays/fitted.coef_.npy": pickle.dumps(Trap())})
    with pytest.raises(ModelFileError, match="not a .npy array"):
        load(hostile)
    assert UNPICKLED == []


def test_attribute_names_are_checked(saved, tmp_path):
    def sneak(meta):
        meta["fitted"]["__class__"] = "x"
        return meta

    with pytest.raises(ModelFileError, match="not a fitted attribute"):
        load(rewrite(saved, tmp_path / "s.descent", meta=sneak))
