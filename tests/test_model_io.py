"""Model files: round trips for every estimator, and every kind of bad file refused."""

import contextlib
import dataclasses
import errno
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import descent as d
from descent import model_io
from descent.model_io import METADATA, ModelFileError, load, save

from .subprocesses import run_python

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


def _history_fields():
    return [(f.name, f.default if f.default is not dataclasses.MISSING else f.default_factory())
            for f in dataclasses.fields(d.History) if f.name != "path"]


def test_every_history_field_comes_back_by_its_type(tmp_path):
    # Lists of numbers and plain values alike (History.stopped, a str, says why a fit
    # ended); a field added to History needs no change here.
    model, _ = fitted("linear")
    for name, default in _history_fields():
        value = [1.5, -2.0] if isinstance(default, list) else \
            "interrupted" if isinstance(default, str) else default
        setattr(model.history_, name, value)
    again = load(model.save(tmp_path / "h.descent")).history_
    for name, _ in _history_fields():
        assert_same(getattr(again, name), getattr(model.history_, name), name)


@pytest.mark.parametrize("name", [name for name, _ in _history_fields()])
def test_a_file_from_before_a_history_field_loads_with_its_default(name, tmp_path):
    path = fitted("linear")[0].save(tmp_path / "new.descent")

    def older(meta):
        del meta["fitted"]["history_"]["history"][name]
        return meta

    again = load(rewrite(path, tmp_path / "old.descent", meta=older))
    assert_same(getattr(again.history_, name), dict(_history_fields())[name], name)
    assert again.predict(X).shape == (len(X),)


@pytest.mark.parametrize("name", [name for name, _ in _history_fields()])
def test_a_history_field_of_the_wrong_type_is_refused(name, tmp_path):
    path = fitted("linear")[0].save(tmp_path / "good.descent")
    wrong = "x" if isinstance(dict(_history_fields())[name], list) else [1]

    def spoil(meta):
        meta["fitted"]["history_"]["history"][name] = wrong
        return meta

    with pytest.raises(ModelFileError, match=rf"history_\.{name} is"):
        load(rewrite(path, tmp_path / "bad.descent", meta=spoil))


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


# ----- a full disk (issue 11, item 7) --------------------------------------------------------
BIG = "import descent as d\nmodel = d.MLPRegressor((100, 100), epochs=1, tol=None, " \
      "random_state=0).fit(X, y)"  # some 300 KB compressed: more than the disks below hold


def big_model():
    namespace = {"X": X, "y": Y_REG}
    exec(BIG, namespace)  # the same model a child process builds from BIG
    return namespace["model"]


@contextlib.contextmanager
def mounted_tmpfs(folder: Path, options: str):
    """A tmpfs mounted on ``folder`` for the block (root may mount one here and in CI;
    where a container forbids it, the test is skipped: the file-size-limit test below
    still fills a 'disk' without any mount)."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB disk."""
    with mounted_tmpfs(tmp_path / "disk", "size=64k,mode=0755") as disk:
        yield disk


def test_save_on_a_full_disk_says_so_and_keeps_the_old_file(tiny_disk):
    path = fitted("logistic")[0].save(tiny_disk / "m.descent")
    old = path.read_bytes()
    with pytest.raises(OSError) as caught:
        big_model().save(path)
    error = caught.value
    assert type(error) is OSError and error.errno == errno.ENOSPC
    message = str(error)
    for words in (f"cannot save the model to {path}", "the disk is full",
                  "(No space left on device)", "the existing m.descent is intact",
                  "free some space"):
        assert words in message, message
    assert "\n" not in message and "Errno" not in message
    assert path.read_bytes() == old
    assert os.listdir(tiny_disk) == ["m.descent"]  # no temporary file left
    assert_same(load(path).predict(X), fitted("logistic")[0].predict(X))


def test_a_killed_save_that_filled_the_disk_is_cleaned_up_by_the_next_save(tiny_disk):
    # A leftover of a killed save holds most of the disk; the next save removes it first
    # and fits. (Its clock is set back: a leftover counts as stale after STALE_SECONDS.)
    leftover = tiny_disk / ".m.descent.k1lled00.tmp"
    leftover.write_bytes(os.urandom(60_000))  # 15 of the disk's 16 pages of 4 KiB
    age(leftover)
    with pytest.raises(OSError):
        (tiny_disk / "filler").write_bytes(os.urandom(8192))  # the disk is indeed full
    (tiny_disk / "filler").unlink()
    model = fitted("mlp-regressor")[0]  # 8 KiB: more than is free until the leftover goes
    assert_same(load(model.save(tiny_disk / "m.descent")).predict(X), model.predict(X))
    assert os.listdir(tiny_disk) == ["m.descent"]


def test_save_past_the_file_size_limit_says_so_and_keeps_the_old_file(tmp_path):
    # Needs no mount: under RLIMIT_FSIZE, write() fails with EFBIG (SIGXFSZ ignored, as
    # Python does anyway) where a full disk fails it with ENOSPC; the same code path.
    path = fitted("logistic")[0].save(tmp_path / "m.descent")
    old = path.read_bytes()
    report = run_python(textwrap.dedent(f"""
        import json, resource, signal
        import numpy as np
        X = np.random.default_rng(0).normal(size=(40, 3))
        y = X @ np.array([1.0, -2.0, 0.5])
        {BIG.replace(chr(10), chr(10) + "        ")}
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
        try:
            model.save({str(path)!r})
        except OSError as err:
            print(json.dumps({{"class": type(err).__name__, "errno": err.errno,
                              "message": str(err)}}))
    """))
    assert report["class"] == "OSError" and report["errno"] == errno.EFBIG
    for words in (f"cannot save the model to {path}", "too large for the file size limit",
                  "the existing m.descent is intact", "raise the limit"):
        assert words in report["message"], report["message"]
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == ["m.descent"]


def test_save_into_a_read_only_folder_says_so(tmp_path):
    with mounted_tmpfs(tmp_path / "disk", "size=64k,ro") as disk:
        with pytest.raises(OSError) as caught:
            fitted("linear")[0].save(disk / "m.descent")
        assert caught.value.errno == errno.EROFS
        assert str(caught.value).startswith(f"cannot save the model to {disk / 'm.descent'}: "
                                            "Read-only file system; no file was written")
        assert "Fix: check that the folder is writable" in str(caught.value)


# ----- what killed saves leave behind (issue 11, item 6) -----------------------------------
def age(path: Path, seconds: float = 3600) -> None:
    """Set a file's clock back, as if it had been left that long (links: the link's own);
    an hour is well past model_io.STALE_SECONDS."""
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)


def temporaries(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


KILLED_SAVE = """
import sys
import numpy as np
import descent as d
X = np.random.default_rng(0).normal(size=(4, 1000))
model = d.MLPRegressor((1000,), epochs=1, batch_size=None, tol=None, random_state=0)
model.fit(X, X[:, 0])  # 4 x 1M weights to compress: a second or more of saving
print("saving", flush=True)
model.save(sys.argv[1])
print("saved", flush=True)
"""


def test_a_save_killed_midway_leaves_a_temporary_the_next_save_removes(tmp_path):
    target = tmp_path / "m.descent"
    old = fitted("linear")[0].save(target).read_bytes()
    child = subprocess.Popen([sys.executable, "-c", KILLED_SAVE, str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "DESCENT_JIT": "0"})
    try:
        assert child.stdout.readline() == "saving\n", child.stderr.read()
        deadline = time.monotonic() + 120
        while not temporaries(tmp_path) and child.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.002)
        os.kill(child.pid, signal.SIGKILL)  # kill -9, mid-save
    finally:
        child.kill()
        child.wait()
    left = temporaries(tmp_path)
    assert left, "the save ended before it could be killed"
    assert target.read_bytes() == old  # the target is whole: the old model
    again = fitted("mlp-regressor")[0]
    again.save(target)  # a leftover younger than STALE_SECONDS may be a live save: kept
    assert temporaries(tmp_path) == left
    for name in left:
        age(tmp_path / name)
    again.save(target)
    assert os.listdir(tmp_path) == ["m.descent"]
    assert_same(load(target).predict(X), again.predict(X))


def test_the_temporary_of_a_save_in_progress_is_never_removed(tmp_path):
    # A save in progress holds its temporary file's lock (a real second process here,
    # holding it as save does); however old the file looks, a second save leaves it.
    target, live = tmp_path / "m.descent", tmp_path / ".m.descent.l1ve0000.tmp"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time\n"
         "file = open(sys.argv[1], 'wb')\nfcntl.flock(file, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\ntime.sleep(300)", str(live)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        age(live)
        fitted("linear")[0].save(target)
        assert live.exists()
    finally:
        holder.kill()
        holder.wait()
    fitted("linear")[0].save(target)  # its process is gone, and the lock with it
    assert not live.exists()


def test_only_this_targets_own_stale_temporaries_are_removed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("keep me")
    stale = [".m.descent.abc123xy.tmp", ".m.descent.z_9.tmp"]
    kept = [".m.descent.young000.tmp",  # too young: may be a save just starting
            ".other.descent.abc123xy.tmp", ".m.descent.x.abc123xy.tmp",  # other targets
            "m.descent.abc123xy.tmp", ".m.descent.abc123xy.tmp.bak", ".m.descent..tmp"]
    for name in stale + kept:
        (tmp_path / name).write_bytes(b"half a model")
    for name in stale + kept[1:]:
        age(tmp_path / name)
    (tmp_path / ".m.descent.link0000.tmp").symlink_to(elsewhere / "precious")
    (tmp_path / ".m.descent.fold0000.tmp").mkdir()
    kept += [".m.descent.link0000.tmp", ".m.descent.fold0000.tmp"]
    if os.geteuid() == 0:  # root can give a file away: another user's is not ours to remove
        (tmp_path / ".m.descent.their000.tmp").write_bytes(b"theirs")
        os.chown(tmp_path / ".m.descent.their000.tmp", 12345, 12345)
        kept.append(".m.descent.their000.tmp")
    for name in kept[-3:]:
        age(tmp_path / name)
    fitted("linear")[0].save(tmp_path / "m.descent")
    assert sorted(os.listdir(tmp_path)) == sorted([*kept, "m.descent", "elsewhere"])
    assert (elsewhere / "precious").read_text() == "keep me"


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
    with pytest.raises(ModelFileError, match="fitted.coef_.npy.* is missing"):
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
