"""Model files made to hurt (issue 11, item 2, and the model-file fuzzing).

Whatever the bytes, ``load`` either returns a model that predicts, or raises
``ModelFileError`` naming the problem: never another exception, never a hang, never an
unbounded read (a zip bomb, a directory that lies, deep or huge JSON, many members), and
never a file that is not a regular file (folder, FIFO, device) opened for reading.
"""

import functools
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import tracemalloc
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import descent as d
from descent import model_io
from descent.model_io import METADATA, ModelFileError, load

from .test_model_io import CASES, X, fitted, outputs, rewrite

MiB = 1 << 20
HYPOTHESIS = settings(max_examples=200, deadline=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture,
                                             HealthCheck.too_slow])


# ----- helpers -------------------------------------------------------------------------------
@functools.cache
def good_bytes(case: str) -> bytes:
    """The bytes of a real model file of each kind (made once)."""
    with tempfile.TemporaryDirectory() as folder:
        return fitted(case)[0].save(Path(folder) / "m.descent").read_bytes()


@functools.cache
def shapes_of(case: str) -> dict:
    return {name: out.shape for name, out in outputs(fitted(case)[0]).items()}


@functools.cache
def case_of(class_name: str) -> str:
    return next(case for case in CASES if type(fitted(case)[0]).__name__ == class_name)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zipped(contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(dtype: str, shape: tuple) -> bytes:
    """The bytes of a .npy header alone (no data)."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def deflated(prefix: bytes, zero_mib: int, suffix: bytes = b"") -> bytes:
    """A raw deflate stream of prefix + zero_mib MiB of zeros + suffix, made in
    milliseconds: after a full flush the compressor restarts, so every MiB of zeros
    compresses to the same ~1 kB, which is repeated rather than recomputed."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    return head + block * zero_mib + compressor.compress(suffix) + compressor.flush()


def raw_zip(entries: list[tuple[str, bytes, int, int]], *, flags: int = 0, method: int = 8,
            crc: int | None = None) -> bytes:
    """A zip archive written byte by byte, so that its directory says what a test wants.

    entries: (name, stored bytes, declared uncompressed size, CRC-32 of the real data).
    """
    body, directory, offset = [], [], 0
    for name, data, size, entry_crc in entries:
        raw = name.encode()
        fields = (flags, method, 0, 0x21, entry_crc if crc is None else crc, len(data), size,
                  len(raw))
        directory.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, *fields, 0, 0, 0, 0,
                                     0, offset) + raw)
        body.append(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, *fields, 0) + raw + data)
        offset += len(body[-1])
    listing = b"".join(directory)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                      len(listing), offset, 0)
    return b"".join(body) + listing + end


def raw_entries(data: bytes, replace: dict[str, tuple[bytes, int, int]]) -> list:
    """A real file's members as raw_zip entries (deflated), with some replaced."""
    entries = []
    for name, content in members(data).items():
        if name in replace:
            entries.append((name, *replace[name]))
        else:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
            entries.append((name, compressor.compress(content) + compressor.flush(),
                            len(content), zlib.crc32(content)))
    return entries


def with_meta(data: bytes, change) -> bytes:
    """The file with its metadata JSON passed through change(meta) -> meta."""
    contents = members(data)
    contents[METADATA] = json.dumps(change(json.loads(contents[METADATA]))).encode()
    return zipped(contents)


def with_array(data: bytes, member: str, array: np.ndarray, change=None) -> bytes:
    """The file with one array member replaced, its metadata entry matching the new array."""
    def entry(meta):
        for item in meta["arrays"]:
            if item["member"] == member:
                item.update(dtype=array.dtype.str, shape=list(array.shape))
        return change(meta) if change else meta

    contents = members(data)
    contents[member] = npy(array)
    contents[METADATA] = json.dumps(entry(json.loads(contents[METADATA]))).encode()
    return zipped(contents)


def refused(path, match: str = "", **kwargs) -> ModelFileError:
    """load(path) raises ModelFileError whose message, the path left out, matches."""
    with pytest.raises(ModelFileError) as caught:
        load(path, **kwargs)
    message = str(caught.value).replace(str(path), "<path>")
    assert re.search(match, message), f"{match!r} not in: {message}"
    return caught.value


@contextmanager
def time_limit(seconds: float):
    """Fail, rather than hang, when the block runs longer than ``seconds`` (SIGALRM)."""
    def expired(signum, frame):
        raise TimeoutError(f"load ran for more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def loads_and_predicts_or_refuses(data: bytes, case: str, folder: Path) -> None:
    """The one acceptable outcome of any bytes: ModelFileError, or a model that predicts
    the same shapes the real model does."""
    path = folder / "fuzzed.descent"
    path.write_bytes(data)
    with time_limit(20):
        try:
            model = load(path)
        except ModelFileError:
            return
        got = {name: out.shape for name, out in outputs(model).items()}
    # (a spliced file may be whole, of another class: it must predict as that class does)
    assert got == shapes_of(case_of(type(model).__name__))


@contextmanager
def peak_memory():
    """Yields a list that holds, after the block, the peak of traced allocations in bytes."""
    result = []
    tracemalloc.start()
    try:
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


# ----- size bounds ---------------------------------------------------------------------------
def test_the_bounds_are_documented_constants():
    assert model_io.MAX_BYTES >= 1 << 30  # a large network: 32 M float64 weights, 4 copies
    assert model_io.MAX_METADATA_BYTES <= model_io.MAX_BYTES // 4
    assert 1000 <= model_io.MAX_MEMBERS < 0xFFFF
    assert 16 <= model_io.MAX_JSON_DEPTH <= 100
    for name in ("MAX_BYTES", "MAX_METADATA_BYTES", "MAX_MEMBERS", "MAX_JSON_DEPTH"):
        assert name in model_io.__doc__


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path):
    # 2 GiB of zeros in a 2 MB file, under the name and shape of a real member.
    shape, member = (1 << 28,), "arrays/fitted.coef_.npy"
    header = npy_header("<f8", shape)
    bomb = deflated(header, 2048)
    data = raw_zip(raw_entries(
        with_meta(good_bytes("linear"), lambda m: _set_entry(m, member, "<f8", shape)),
        {member: (bomb, len(header) + (2 << 30), 0)}))
    assert len(data) < 3 * MiB
    (tmp_path / "bomb.descent").write_bytes(data)
    with peak_memory() as peak:
        error = refused(tmp_path / "bomb.descent", "too large|zip bomb")
    assert peak[0] < 64 * MiB, f"{peak[0] / MiB:.0f} MiB read before refusing"
    assert "fitted.coef_" in str(error) and "max_bytes" in str(error)


def _set_entry(meta, member, dtype, shape):
    for item in meta["arrays"]:
        if item["member"] == member:
            item.update(dtype=dtype, shape=list(shape))
    return meta


def test_a_lying_directory_is_caught_while_reading(tmp_path):
    # The directory says 200 bytes; the data inflate to 64 MiB. Reading stops at the lie.
    member = "arrays/fitted.coef_.npy"
    header = npy_header("<f8", (8 << 20,))
    data = raw_zip(raw_entries(good_bytes("linear"),
                               {member: (deflated(header, 64), 200, 0)}))
    (tmp_path / "liar.descent").write_bytes(data)
    with peak_memory() as peak:
        refused(tmp_path / "liar.descent", "damaged|too large")
    assert peak[0] < 16 * MiB


def test_a_member_larger_than_it_declares_is_refused(tmp_path):
    # Honest about nothing: declared 100 bytes, CRC made for 100 bytes, 1 MiB inside.
    member = "arrays/fitted.coef_.npy"
    data = raw_zip(raw_entries(good_bytes("linear"),
                               {member: (deflated(npy_header("<f8", (1 << 17,)), 1), 100, 0)}))
    (tmp_path / "big.descent").write_bytes(data)
    refused(tmp_path / "big.descent", "damaged")


def test_an_array_header_that_promises_more_than_its_data_is_refused(tmp_path):
    # A .npy header for 8 TB of floats followed by 8 bytes: no 8 TB allocation is tried.
    member = "arrays/fitted.coef_.npy"
    contents = members(good_bytes("linear"))
    contents[member] = npy_header("<f8", (10**12,)) + bytes(8)
    (tmp_path / "promise.descent").write_bytes(zipped(contents))
    refused(tmp_path / "promise.descent", "damaged")


def test_a_large_network_loads_within_the_default_bounds(tmp_path):
    # An MNIST-sized network (784-512-256-10: half a million weights, four copies of each
    # in the file) is far inside the bounds, which are there for bombs, not for models.
    rng = np.random.default_rng(0)
    X_big, y_big = rng.normal(size=(20, 784)), np.arange(20) % 10
    model = d.MLPClassifier((512, 256), epochs=1, tol=None, random_state=0).fit(X_big, y_big)
    path = model.save(tmp_path / "large.descent")
    with zipfile.ZipFile(path) as archive:
        total = sum(info.file_size for info in archive.infolist())
    assert 16 * MiB < total < model_io.MAX_BYTES // 32
    np.testing.assert_array_equal(load(path).predict_proba(X_big), model.predict_proba(X_big))


def test_the_caller_can_lower_or_raise_the_bound(tmp_path):
    model = fitted("mlp-regressor")[0]
    path = model.save(tmp_path / "m.descent")
    needed = sum(i.file_size for i in zipfile.ZipFile(path).infolist())
    error = refused(path, "too large", max_bytes=needed // 2)
    assert "max_bytes" in str(error)
    assert load(path, max_bytes=needed).predict(X).shape == (len(X),)
    for bad in (0, -1, 1.5, "big", True):
        with pytest.raises((TypeError, ValueError), match="max_bytes"):
            load(path, max_bytes=bad)


# ----- JSON ----------------------------------------------------------------------------------
def test_deep_json_is_refused_without_recursion(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    (tmp_path / "deep.descent").write_bytes(zipped({METADATA: deep}))
    refused(tmp_path / "deep.descent", "nest")


@pytest.mark.parametrize("depth", [40, 900, 5000])
def test_deeply_nested_values_inside_a_real_file_are_refused(tmp_path, depth):
    contents = members(good_bytes("logistic"))
    rate = b'"learning_rate": 0.01'
    assert rate in contents[METADATA]
    contents[METADATA] = contents[METADATA].replace(
        rate, b'"learning_rate": ' + b"[" * depth + b"0.01" + b"]" * depth)
    (tmp_path / "nested.descent").write_bytes(zipped(contents))
    refused(tmp_path / "nested.descent", "nest")


def test_huge_json_is_refused_before_it_is_read(tmp_path):
    # 1 GiB of spaces inside the metadata (1 MB on disk): far beyond any real history.
    text = members(good_bytes("linear"))[METADATA]
    stream = deflated(text[:-1], 1024, b"}")
    data = raw_zip(raw_entries(good_bytes("linear"), {METADATA: (stream, len(text) + (1 << 30),
                                                                 0)}))
    (tmp_path / "huge.descent").write_bytes(data)
    with peak_memory() as peak:
        refused(tmp_path / "huge.descent", "too large")
    assert peak[0] < 64 * MiB


def test_big_numbers_and_bad_text_in_json_are_refused(tmp_path):
    contents = members(good_bytes("linear"))
    for text in (b'{"format": "descent-model", "version": ' + b"9" * 10_000 + b"}",
                 b"\xff\xfe not utf-8", b'{"format": "descent-model", "version": 1e999}'):
        contents[METADATA] = text
        (tmp_path / "bad.descent").write_bytes(zipped(contents))
        refused(tmp_path / "bad.descent", "damaged|not a descent model")


# ----- members -------------------------------------------------------------------------------
def test_too_many_members_are_refused(tmp_path):
    contents = members(good_bytes("linear"))
    contents.update({f"extra/{i}": b"" for i in range(model_io.MAX_MEMBERS + 1)})
    (tmp_path / "many.descent").write_bytes(zipped(contents))
    refused(tmp_path / "many.descent", "members")


def test_a_huge_zip_directory_is_refused_before_it_is_parsed(tmp_path):
    # 12,000 entries with 500-byte names: a 6.6 MB directory, which zipfile would parse in
    # full (a larger one takes longer and more memory still: the check reads its size).
    entries = [(f"{i:06d}" + "x" * 500, b"", 0, 0) for i in range(12_000)]
    assert 12_000 * 546 > model_io.MAX_DIRECTORY_BYTES
    data = raw_zip(entries, method=0)
    (tmp_path / "wide.descent").write_bytes(data)
    with peak_memory() as peak:
        refused(tmp_path / "wide.descent", "directory")
    assert peak[0] < 8 * MiB


def test_unsupported_compression_and_encryption_are_refused(tmp_path):
    base = good_bytes("linear")
    (tmp_path / "lzma.descent").write_bytes(_rezipped(base, zipfile.ZIP_LZMA))
    refused(tmp_path / "lzma.descent", "compress")
    entries = raw_entries(base, {})
    (tmp_path / "method99.descent").write_bytes(raw_zip(entries, method=99))
    refused(tmp_path / "method99.descent", "compress")
    (tmp_path / "secret.descent").write_bytes(raw_zip(entries, flags=1))
    refused(tmp_path / "secret.descent", "encrypt")


def _rezipped(data: bytes, method: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members(data).items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_member_name_twice_is_refused(tmp_path):
    contents = members(good_bytes("linear"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in contents.items():
            archive.writestr(name, content)
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr("arrays/fitted.coef_.npy", npy(np.zeros(3)))
    (tmp_path / "twice.descent").write_bytes(buffer.getvalue())
    refused(tmp_path / "twice.descent", "twice")


def test_one_member_used_for_two_values_is_refused(tmp_path):
    def alias(meta):
        meta["state"]["_x_scale"] = meta["state"]["_x_mean"]
        return meta

    (tmp_path / "alias.descent").write_bytes(with_meta(good_bytes("linear"), alias))
    refused(tmp_path / "alias.descent", "more than one value")


# ----- wrong values in every slot --------------------------------------------------------------
WRONG = [None, True, -1, 0.5, 1e308, "x", [], {}, [[1]], {"tuple": [1]}, {"history": {}},
         {"array": "arrays/nowhere.npy"}, {"strings": "arrays/fitted.coef_.npy"}]


def slots(meta: dict) -> list[tuple[str, ...]]:
    """Every place in the metadata a value sits, two levels down (history columns too)."""
    found = [(key,) for key in meta]
    for section in ("params", "fitted", "state"):
        found += [(section, key) for key in meta[section]]
    found += [("fitted", "history_", "history", key) for key in
              meta["fitted"]["history_"]["history"]]
    found += [("state", "_rng", key) for key in meta["state"]["_rng"]]
    found += [("arrays", 0, key) for key in meta["arrays"][0]]
    return found


def put(meta, where, value):
    meta = json.loads(json.dumps(meta))
    inner = meta
    for key in where[:-1]:
        inner = inner[key]
    inner[where[-1]] = value
    return meta


@pytest.mark.parametrize("case", ["logistic", "mlp-classifier", "linear"])
def test_wrong_types_in_every_metadata_slot(case, tmp_path):
    contents = members(good_bytes(case))
    meta = json.loads(contents[METADATA])
    escaped = []
    for where in slots(meta):
        for value in WRONG:
            contents[METADATA] = json.dumps(put(meta, where, value)).encode()
            try:
                loads_and_predicts_or_refuses(zipped(contents), case, tmp_path)
            except Exception as err:  # noqa: BLE001 - collected, reported together below
                escaped.append(f"{'/'.join(map(str, where))} = {value!r}: "
                               f"{type(err).__name__}: {str(err)[:120]}")
    assert not escaped, "\n".join(escaped)


@pytest.mark.parametrize(("case", "param", "value"), [
    ("logistic", "learning_rate", -1), ("logistic", "learning_rate", "fast"),
    ("logistic", "epochs", 0), ("logistic", "optimizer", "newton"),
    ("logistic", "penalty", "l3"), ("logistic", "tol", -1.0),
    ("logistic", "batch_size", 0), ("logistic", "validation_fraction", 1.5),
    ("logistic", "fit_intercept", "no"), ("logistic", "random_state", -5),
    ("mlp-classifier", "hidden_layer_sizes", [[5]]),
    ("mlp-classifier", "hidden_layer_sizes", {"tuple": [0]}),
    ("mlp-classifier", "activation", "swish"),
    ("mlp-classifier", "hidden_layer_sizes", {"tuple": [6]}),  # valid, but not the arrays' 5
    ("linear", "loss", "cubic"),
])
def test_bad_parameters_are_refused_at_load(case, param, value, tmp_path):
    def change(meta):
        meta["params"][param] = value
        return meta

    (tmp_path / "p.descent").write_bytes(with_meta(good_bytes(case), change))
    refused(tmp_path / "p.descent", param)


def _fitted_set(key, value):
    def change(meta):
        meta["fitted"][key] = value
        return meta
    return change


def _state_set(key, value):
    def change(meta):
        meta["state"][key] = value
        return meta
    return change


# (case, member to replace or None, new array, metadata change, what the message names)
INCONSISTENT = {
    "coef_ wider than n_features_in_": ("logistic", "arrays/fitted.coef_.npy",
                                        np.zeros((4, 5)), None, "coef_"),
    "n_features_in_ beyond the arrays": ("logistic", None, None, _fitted_set("n_features_in_", 7),
                                         "shape"),
    "n_features_in_ zero": ("logistic", None, None, _fitted_set("n_features_in_", 0),
                            "n_features_in_"),
    "one class": ("logistic", "arrays/fitted.classes_.npy", np.array(["ant"]), None,
                  "classes_"),
    "classes_ shorter than coef_": ("logistic", "arrays/fitted.classes_.npy",
                                    np.array(["ant", "bee", "cat"]), None, "shape"),
    "a class twice": ("logistic", "arrays/fitted.classes_.npy",
                      np.array(["ant", "ant", "cat", "dog"]), None, "classes_"),
    "NaN in coef_": ("logistic", "arrays/fitted.coef_.npy",
                     np.full((4, 3), np.nan), None, "coef_"),
    "integer coef_": ("logistic", "arrays/fitted.coef_.npy",
                      np.zeros((4, 3), dtype=np.int64), None, "coef_"),
    "intercept_ short": ("logistic", "arrays/fitted.intercept_.npy", np.zeros(3), None,
                         "intercept_"),
    "_params wrong shape": ("logistic", "arrays/state._params.0.npy", np.zeros((5, 4)), None,
                            "_params"),
    "zero scale": ("logistic", "arrays/state._x_scale.npy", np.zeros(3), None, "_x_scale"),
    "short mean": ("logistic", "arrays/state._x_mean.npy", np.zeros(2), None, "_x_mean"),
    "infinite scale": ("linear", "arrays/state._y_scale.npy", np.array([np.inf]), None,
                       "_y_scale"),
    "n_iter_ negative": ("logistic", None, None, _fitted_set("n_iter_", -1), "n_iter_"),
    "n_iter_ a float": ("logistic", None, None, _fitted_set("n_iter_", 1.5), "n_iter_"),
    "n_iter_ a bool": ("logistic", None, None, _fitted_set("n_iter_", True), "n_iter_"),
    "steps negative": ("logistic", None, None, _state_set("_steps", -3), "_steps"),
    "no random generator": ("logistic", None, None,
                            lambda m: {**m, "state": {k: v for k, v in m["state"].items()
                                                      if k != "_rng"}}, "random generator"),
    "history a number": ("logistic", None, None, _fitted_set("history_", 3), "history_"),
    "no history": ("logistic", None, None,
                   lambda m: {**m, "fitted": {k: v for k, v in m["fitted"].items()
                                              if k != "history_"}}, "history_"),
    "intercept_ a string": ("linear", None, None, _fitted_set("intercept_", "0.5"),
                            "intercept_"),
    "layer widths do not chain": ("mlp-classifier", "arrays/fitted.coefs_.1.npy",
                                  np.zeros((4, 1)), None, "coefs_"),
    "a layer missing": ("mlp-classifier", None, None,
                        lambda m: {**m, "fitted": {**m["fitted"], "intercepts_":
                                                   m["fitted"]["intercepts_"][:1]}},
                        "intercepts_"),
    "float32 and float64 params mixed": ("linear", "arrays/state._params.1.npy",
                                         np.zeros(1, dtype=np.float32), None, "_params"),
}


@pytest.mark.parametrize("name", INCONSISTENT)
def test_inconsistent_fitted_state_is_refused(name, tmp_path):
    case, member, array, change, named = INCONSISTENT[name]
    data = good_bytes(case)
    data = with_array(data, member, array, change) if member else with_meta(data, change)
    (tmp_path / "bad.descent").write_bytes(data)
    refused(tmp_path / "bad.descent", named)


def test_history_columns_must_be_numbers(tmp_path):
    def change(meta):
        meta["fitted"]["history_"]["history"]["epoch"] = ["one", "two"]
        return meta

    (tmp_path / "h.descent").write_bytes(with_meta(good_bytes("linear"), change))
    refused(tmp_path / "h.descent", "history_.epoch")


def test_a_zero_width_path_cannot_stand_for_a_billion_steps(tmp_path):
    model = fitted("linear", record_path=True)[0]
    data = model.save(tmp_path / "p.descent").read_bytes()
    meta = json.loads(members(data)[METADATA])
    path = meta["fitted"]["history_"]["history"]["path"]
    leaves = [leaf["array"] for leaf in path["stacked"]["tuple"]]
    huge = 10**9

    def change(m):
        m["fitted"]["history_"]["history"]["path"]["length"] = huge
        return m

    for leaf in leaves:  # each leaf: a billion steps of nothing, 128 bytes on disk
        data = with_array(data, leaf, np.zeros((huge, 0)), change)
    (tmp_path / "q.descent").write_bytes(data)
    with time_limit(20):
        refused(tmp_path / "q.descent", "path")


# ----- not a regular file ------------------------------------------------------------------------
def test_a_folder_is_refused(tmp_path):
    refused(tmp_path, "folder")


def test_a_device_is_refused_unread():
    error = refused("/dev/zero", "device")
    assert "not a descent model file" in str(error)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    # Opening a FIFO for reading blocks until someone writes; a child process shows whether
    # load waits (killed at the timeout) or refuses at once.
    fifo = tmp_path / "pipe.descent"
    os.mkfifo(fifo)
    code = textwrap.dedent(f"""
        from descent.model_io import ModelFileError, load
        try:
            load({str(fifo)!r})
        except ModelFileError as err:
            print("refused:", err)
    """)
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("load waited on the FIFO for a writer instead of refusing it")
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "FIFO" in done.stdout


def test_a_symlink_to_a_device_is_refused(tmp_path):
    (tmp_path / "zero.descent").symlink_to("/dev/zero")
    refused(tmp_path / "zero.descent", "device")


# ----- fuzzing -------------------------------------------------------------------------------
@HYPOTHESIS
@given(case=st.sampled_from(list(CASES)), data=st.data())
def test_fuzz_flipped_bytes_anywhere_in_the_file(case, data, tmp_path):
    raw = bytearray(good_bytes(case))
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(raw) - 1), st.integers(1, 255)),
                               min_size=1, max_size=8))
    for offset, mask in flips:
        raw[offset] ^= mask
    loads_and_predicts_or_refuses(bytes(raw), case, tmp_path)


@HYPOTHESIS
@given(case=st.sampled_from(list(CASES)), data=st.data())
def test_fuzz_flipped_bytes_in_the_zip_structure(case, data, tmp_path):
    # Aim at the headers and the directory, where zipfile's own parsing can trip.
    raw = bytearray(good_bytes(case))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        infos = archive.infolist()
    starts = [i.header_offset for i in infos] + [raw.rfind(b"PK\x01\x02"),
                                                 raw.rfind(b"PK\x05\x06")]
    starts += [raw.find(b"PK\x01\x02")]
    for _ in range(data.draw(st.integers(1, 4))):
        offset = data.draw(st.sampled_from(starts)) + data.draw(st.integers(0, 45))
        if offset < len(raw):
            raw[offset] ^= data.draw(st.integers(1, 255))
    loads_and_predicts_or_refuses(bytes(raw), case, tmp_path)


@HYPOTHESIS
@given(case=st.sampled_from(list(CASES)), data=st.data())
def test_fuzz_truncated_files(case, data, tmp_path):
    raw = good_bytes(case)
    cut = data.draw(st.integers(0, len(raw) - 1))
    loads_and_predicts_or_refuses(raw[:cut], case, tmp_path)


@HYPOTHESIS
@given(case=st.sampled_from(list(CASES)), data=st.data())
def test_fuzz_edited_metadata_text(case, data, tmp_path):
    contents = members(good_bytes(case))
    text = bytearray(contents[METADATA])
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(text) - 1))
        what = data.draw(st.sampled_from(["flip", "digit", "delete", "bracket"]))
        if what == "flip":
            text[at] ^= data.draw(st.integers(1, 255))
        elif what == "digit":
            text[at:at + 1] = str(data.draw(st.integers(-9, 99))).encode()
        elif what == "delete":
            del text[at:at + data.draw(st.integers(1, 20))]
        else:
            text[at:at] = data.draw(st.sampled_from([b"[", b"{", b"]", b"}", b'"', b","]))
    contents[METADATA] = bytes(text)
    loads_and_predicts_or_refuses(zipped(contents), case, tmp_path)


@HYPOTHESIS
@given(case=st.sampled_from(list(CASES)), data=st.data())
def test_fuzz_edited_array_members(case, data, tmp_path):
    contents = members(good_bytes(case))
    name = data.draw(st.sampled_from([n for n in contents if n != METADATA]))
    raw = bytearray(contents[name])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, min(len(raw) - 1, 140)))  # mostly the .npy header
        raw[at] ^= data.draw(st.integers(1, 255))
    contents[name] = bytes(raw)
    loads_and_predicts_or_refuses(zipped(contents), case, tmp_path)


@HYPOTHESIS
@given(case=st.sampled_from(list(CASES)), donor=st.sampled_from(list(CASES)), data=st.data())
def test_fuzz_spliced_members(case, donor, data, tmp_path):
    contents, given_members = members(good_bytes(case)), members(good_bytes(donor))
    names = list(contents)
    for _ in range(data.draw(st.integers(1, 3))):
        what = data.draw(st.sampled_from(["replace", "drop", "add", "rename"]))
        name = data.draw(st.sampled_from(names))
        if what == "replace":
            contents[name] = given_members[data.draw(st.sampled_from(list(given_members)))]
        elif what == "drop":
            contents.pop(name, None)
        elif what == "add":
            contents[data.draw(st.sampled_from(["arrays/x.npy", "extra", name + "2"]))] = \
                data.draw(st.binary(max_size=64))
        elif name in contents:
            contents[data.draw(st.sampled_from(names))] = contents.pop(name)
    loads_and_predicts_or_refuses(zipped(contents), case, tmp_path)


def test_a_real_file_passes_the_fuzz_check(tmp_path):
    # The check itself: the unaltered file loads and predicts the same shapes.
    for case in CASES:
        loads_and_predicts_or_refuses(good_bytes(case), case, tmp_path)
        assert isinstance(load(rewrite(_write(tmp_path, good_bytes(case)),
                                       tmp_path / "copy.descent")),
                          type(fitted(case)[0]))


def _write(folder: Path, data: bytes) -> Path:
    (folder / "original.descent").write_bytes(data)
    return folder / "original.descent"
