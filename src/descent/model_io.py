"""Model files: save a fitted descent estimator to one file and load it back, safely.

A model file is a zip archive (any file name; ``.descent`` is the suggested extension):

``descent-model.json``
    The metadata, UTF-8 JSON with these keys:

    - ``"format"``: always ``"descent-model"``; tells a model file from any other zip.
    - ``"version"``: the layout version, an integer; this module writes ``FORMAT_VERSION``.
    - ``"descent_version"``, ``"numpy_version"``: what wrote the file (for people only).
    - ``"class"``: the estimator's class name, one of ``ESTIMATORS``.
    - ``"params"``: ``get_params(deep=False)``.
    - ``"fitted"``: the public fitted attributes (``coef_``, ``classes_``, ``n_iter_``,
      ``history_`` ...): every attribute whose name ends in ``_``.
    - ``"state"``: the private training state: ``_params`` (the parameters in training
      units), the scalings ``_x_mean``, ``_x_scale``, ``_y_mean``, ``_y_scale``, the step
      counters, ``_rng`` (the random generator's state) and ``_opt_state`` (the leaves of
      the optimizer's state: its moments and step count).
    - ``"arrays"``: one ``{"member", "dtype", "shape"}`` entry per array member.

``arrays/<where>.npy``
    Every array, written by ``np.save(..., allow_pickle=False)``, named after where it
    sits (``arrays/fitted.coef_.npy``, ``arrays/state._params.0.npy`` ...). The steps of
    ``history_.path`` are stacked, one member per leaf, not one per step.

Inside ``params``, ``fitted`` and ``state`` a value is a JSON number, string, boolean,
null or list, or an object with exactly one tag: ``{"tuple": [...]}``, ``{"dict": [[key,
value], ...]}``, ``{"array": member}``, ``{"scalar": member}`` (a NumPy scalar, kept as a
0-d array so its dtype survives), ``{"strings": member}`` (an object array of strings,
such as string ``classes_``, kept as a Unicode array) and ``{"history": {...}}``.

What comes back: arrays are stored as their bytes and JSON floats use Python's exact
round-trip form, so the loaded model predicts bit for bit as the saved one did. The
random generator and the optimizer's state come back too, so ``partial_fit`` (or ``fit``
with ``warm_start=True``) after loading takes the same steps the saved model would have.

Parameters that are code (a callable ``schedule``, ``callbacks``, an optimizer object, a
``RandomState``) make ``save`` refuse, naming the parameter: a file holds data, never
code, and silently dropping such a parameter would change how a continued fit behaves.
Set a storable value first, e.g. ``model.set_params(callbacks=None)``, and set the
callable again after loading.

Safety: loading never runs code from the file. No member is unpickled (``np.load(...,
allow_pickle=False)``; object arrays are refused), and the class is looked up in the
fixed table ``ESTIMATORS``, never imported by name.

Version policy: a reader ignores JSON keys it does not know, so additions that older
readers may safely skip keep the version; any other change raises it. A file with a
newer version than this descent reads is refused with a request to upgrade; every
version descent has written stays readable.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import reprlib
import tempfile
import zipfile
import zlib
from dataclasses import fields
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError

from . import optim
from .models import (
    History,
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    MLPClassifier,
    MLPRegressor,
    Perceptron,
)
from .optim._tree import tree_map

__all__ = ["ESTIMATORS", "FORMAT", "FORMAT_VERSION", "METADATA", "ModelFileError", "load",
           "save"]

FORMAT = "descent-model"
FORMAT_VERSION = 1
METADATA = "descent-model.json"
#: The only classes a file may name; loading never imports anything else.
ESTIMATORS = {cls.__name__: cls for cls in (
    LinearRegression, Perceptron, LogisticRegression, LinearSVC, MLPClassifier, MLPRegressor)}
_STATE = ("_params", "_x_mean", "_x_scale", "_y_mean", "_y_scale", "_steps", "_steps_per_epoch")
_KINDS = "biufcU"  # bool, integers, floats, complex, Unicode: all load without pickle
_HINTS = {"callbacks": "callbacks=None", "schedule": "schedule='exponential' (a name) or None",
          "optimizer": "optimizer='adam' (a name)", "random_state": "random_state=0 (an int)"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entry dates: the same model gives the same bytes


class ModelFileError(ValueError):
    """A model file that cannot be written or read: foreign, damaged, too new, or unsafe."""


class _Unstorable(Exception):
    def __init__(self, where: str, value):
        super().__init__(where)
        self.where, self.value = where, value


def _descent_version() -> str:
    try:
        return package_version("descent")
    except PackageNotFoundError:  # a source tree that was never installed
        return "0.0.0"


def _leaves(tree) -> list:
    out: list = []
    tree_map(out.append, tree)
    return out


# ----- saving --------------------------------------------------------------------------
class _Writer:
    """Turns values into tagged JSON, collecting the arrays as members."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def _member(self, where: str, array: np.ndarray) -> str:
        member = f"arrays/{where}.npy"
        self.arrays[member] = array
        return member

    def encode(self, value, where: str):
        if isinstance(value, np.generic):
            if value.dtype.kind not in _KINDS:
                raise _Unstorable(where, value)
            return {"scalar": self._member(where, np.asarray(value))}
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "O" and all(isinstance(v, str) for v in value.flat):
                return {"strings": self._member(where, value.astype(str))}
            if value.dtype.kind not in _KINDS:
                raise _Unstorable(where, value)
            return {"array": self._member(where, value)}
        if isinstance(value, list):
            return [self.encode(v, f"{where}.{i}") for i, v in enumerate(value)]
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {"tuple": [self.encode(v, f"{where}.{i}") for i, v in enumerate(value)]}
        if isinstance(value, dict):
            return {"dict": [[self.encode(k, f"{where}.{i}.key"), self.encode(v, f"{where}.{i}")]
                             for i, (k, v) in enumerate(value.items())]}
        if isinstance(value, History):
            body = {f.name: self.encode(getattr(value, f.name), f"{where}.{f.name}")
                    for f in fields(History) if f.name != "path"}
            body["path"] = self._path(value.path, f"{where}.path")
            return {"history": body}
        raise _Unstorable(where, value)

    def _path(self, path: list, where: str):
        """Steps of equal shapes are stacked: one member per leaf instead of one per step."""
        def shapes(step):
            return tree_map(lambda a: (a.shape, a.dtype.str) if isinstance(a, np.ndarray)
                            else None, step)

        first = _leaves(path[0]) if path else []
        if not first or not all(isinstance(a, np.ndarray) for a in first) or any(
                shapes(step) != shapes(path[0]) for step in path):
            return self.encode(path, where)
        columns = iter([np.stack(column) for column in zip(*map(_leaves, path), strict=True)])
        stacked = tree_map(lambda _: next(columns), path[0])
        return {"stacked": self.encode(stacked, where), "length": len(path)}


def _describe(estimator) -> tuple[dict, dict[str, np.ndarray]]:
    """The metadata and array members of a fitted estimator."""
    writer, name = _Writer(), type(estimator).__name__
    params = {}
    for key, value in estimator.get_params(deep=False).items():
        try:
            params[key] = writer.encode(value, f"params.{key}")
        except _Unstorable:
            raise ModelFileError(
                f"cannot save this {name}: its parameter {key}={reprlib.repr(value)} is a "
                f"{type(value).__name__}, and a model file holds only data (numbers, strings, "
                f"booleans, None and lists, tuples or dicts of them), never code. Set a "
                f"storable value first, e.g. model.set_params({_HINTS.get(key, key + '=None')}),"
                f" save, and set {key} again after loading"
            ) from None
    try:
        fitted = {key: writer.encode(value, f"fitted.{key}") for key, value in
                  vars(estimator).items() if key.endswith("_") and key[0] != "_"}
        state = {key: writer.encode(getattr(estimator, key), f"state.{key}")
                 for key in _STATE if hasattr(estimator, key)}
        opt_state = estimator._opt_state
        state["_opt_state"] = None if opt_state is None else writer.encode(
            _leaves(opt_state), "state._opt_state")
    except _Unstorable as err:
        raise ModelFileError(
            f"cannot save this {name}: {err.where} holds a {type(err.value).__name__}, which "
            "a descent model file cannot hold"
        ) from None
    rng = getattr(estimator, "_rng", None)
    if rng is not None:
        state["_rng"] = rng.bit_generator.state
    metadata = {
        "format": FORMAT, "version": FORMAT_VERSION, "descent_version": _descent_version(),
        "numpy_version": np.__version__, "class": name, "params": params, "fitted": fitted,
        "state": state,
        "arrays": [{"member": m, "dtype": a.dtype.str, "shape": list(a.shape)}
                   for m, a in writer.arrays.items()],
    }
    return metadata, writer.arrays


def save(estimator, path) -> Path:
    """Write a fitted descent estimator to one model file, replacing the file atomically.

    The file is written beside ``path`` under a temporary name and renamed into place, so
    a failure (a full disk, an interrupt) leaves any file already at ``path`` untouched.

    Args:
        estimator: a fitted estimator of one of the classes in ``ESTIMATORS``.
        path: the file to write; any name (``.descent`` is suggested, none is added).

    Returns:
        ``path`` as a ``pathlib.Path``.

    Raises:
        NotFittedError: the estimator has not been fitted.
        ModelFileError: a parameter is code (a callable schedule, callbacks ...); the
            message names it and the fix.
        TypeError: the estimator is not one of descent's.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from descent import LinearRegression
        >>> X, y = np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0])
        >>> model = LinearRegression(epochs=20, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = save(model, Path(folder) / "line.descent")
        ...     print(path.name, np.array_equal(load(path).predict(X), model.predict(X)))
        line.descent True
    """
    cls = type(estimator)
    if ESTIMATORS.get(cls.__name__) is not cls:
        raise TypeError(f"descent saves only its own estimators ({', '.join(ESTIMATORS)}), "
                        f"not {cls.__name__}")
    if not hasattr(estimator, "_params"):
        raise NotFittedError(f"this {cls.__name__} is not fitted yet, so there is nothing to "
                             "save: call fit(X, y) first")
    metadata, arrays = _describe(estimator)  # refusals happen here, before any file exists
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder; give a file name, "
                                f"e.g. {path / 'model.descent'}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot save to {path}: the folder {path.parent} does not "
                                "exist; create it first")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                      delete=False)
    try:
        with tmp:
            with zipfile.ZipFile(tmp, "w") as archive:
                archive.writestr(_entry(METADATA), json.dumps(metadata, indent=1))
                for member, array in arrays.items():
                    with archive.open(_entry(member), "w",
                                      force_zip64=array.nbytes > 2**30) as out:
                        np.save(out, array, allow_pickle=False)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, mode)
        os.replace(tmp.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp.name)
        raise
    return path


def _entry(member: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# ----- loading -------------------------------------------------------------------------
class _Reader:
    """Reads one archive; every problem becomes a ModelFileError that names the file."""

    def __init__(self, path: Path, archive: zipfile.ZipFile):
        self.path, self.archive, self.cache = path, archive, {}
        self.declared: dict[str, dict] = {}

    def damaged(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path} is damaged: {what}. Save the model again (or copy "
                              "the file again from where it was saved)")

    def metadata(self) -> dict:
        names = self.archive.namelist()
        if METADATA not in names:
            shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
            raise ModelFileError(
                f"{self.path} is a zip archive but not a descent model file: it has no "
                f"{METADATA} (it holds: {shown or 'nothing'}). descent loads files written "
                "by model.save(path)")
        try:
            meta = json.loads(self.archive.read(METADATA).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise self.damaged(f"its {METADATA} is not valid JSON ({err})") from None
        found = meta.get("format") if isinstance(meta, dict) else None
        if found != FORMAT:
            raise ModelFileError(f"{self.path} is not a descent model file: its {METADATA} "
                                 f"says format {found!r}, not {FORMAT!r}")
        version = meta.get("version")
        if type(version) is not int or version < 1:
            raise self.damaged(f"its format version {version!r} is not a positive integer")
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{self.path} uses descent model format version {version} (written by descent "
                f"{meta.get('descent_version', '?')}), but this descent ({_descent_version()}) "
                f"reads versions up to {FORMAT_VERSION}: upgrade descent to load it")
        entries = meta.get("arrays")
        if not (isinstance(entries, list) and all(
                isinstance(e, dict) and isinstance(e.get("member"), str) for e in entries)):
            raise self.damaged(f"the \"arrays\" list in its {METADATA} is malformed")
        self.declared = {e["member"]: e for e in entries}
        missing = sorted(set(self.declared) - set(names))
        if missing:
            raise self.damaged(f"the array member {missing[0]} listed in {METADATA} is missing")
        for key in ("params", "fitted", "state"):
            if not isinstance(meta.get(key), dict):
                raise self.damaged(f"its {METADATA} has no {key!r} object")
        return meta

    def array(self, member) -> np.ndarray:
        if not isinstance(member, str) or member not in self.declared:
            raise self.damaged(f"it refers to an array {member!r} that {METADATA} does not list")
        if member not in self.cache:
            raw = self.archive.read(member)
            if not raw.startswith(b"\x93NUMPY"):
                raise self.damaged(f"the member {member} is not a .npy array")
            try:
                array = np.load(io.BytesIO(raw), allow_pickle=False)
            except ValueError as err:
                if "Object arrays" in str(err):
                    raise ModelFileError(
                        f"{self.path} is refused: its member {member} holds Python objects, "
                        "and loading those would mean unpickling, which can run code. descent "
                        "never writes such members; the file was altered or made elsewhere"
                    ) from None
                raise self.damaged(f"the member {member} is not a readable array ({err})") \
                    from None
            entry = self.declared[member]
            if array.dtype.kind not in _KINDS or entry.get("dtype") != array.dtype.str or \
                    entry.get("shape") != list(array.shape):
                raise self.damaged(f"the member {member} does not match its entry in {METADATA}")
            self.cache[member] = array
        return self.cache[member]

    def decode(self, value):
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if isinstance(value, dict) and len(value) == 1:
            ((tag, body),) = value.items()
            if tag == "tuple" and isinstance(body, list):
                return tuple(self.decode(v) for v in body)
            if tag == "dict" and isinstance(body, list) and all(
                    isinstance(pair, list) and len(pair) == 2 for pair in body):
                try:
                    return {self.decode(k): self.decode(v) for k, v in body}
                except TypeError:  # a key that cannot be a dict key
                    pass
            if tag == "array":
                return self.array(body)
            if tag == "scalar" and self.array(body).ndim == 0:
                return self.array(body)[()]
            if tag == "strings" and self.array(body).dtype.kind == "U":
                return self.array(body).astype(object)
            if tag == "history" and isinstance(body, dict):
                return self.history(body)
        raise self.damaged(f"it holds a value descent does not recognise: {reprlib.repr(value)}")

    def history(self, body: dict) -> History:
        columns = {f.name for f in fields(History)} - {"path"}
        values = {key: self.decode(v) for key, v in body.items() if key in columns}
        path = body.get("path", [])
        if isinstance(path, dict) and set(path) == {"stacked", "length"}:
            stacked, n = self.decode(path["stacked"]), path["length"]
            if type(n) is not int or not all(isinstance(a, np.ndarray) and a.ndim and
                                             len(a) == n for a in _leaves(stacked)):
                raise self.damaged("the steps of its history_.path do not line up")
            values["path"] = [tree_map(lambda a, i=i: a[i].copy(), stacked) for i in range(n)]
        else:
            values["path"] = self.decode(path)
        if not all(isinstance(v, list) for v in values.values()):
            raise self.damaged("its history_ columns are not lists")
        return History(**values)

    def estimator(self):
        meta = self.metadata()
        name = meta.get("class")
        cls = ESTIMATORS.get(name) if isinstance(name, str) else None
        if cls is None:
            raise ModelFileError(
                f"{self.path} names the class {name!r}, which is not one of descent's "
                f"estimators ({', '.join(ESTIMATORS)}), so descent will not load it; the file "
                "is damaged or was not written by descent")
        params = {key: self.decode(v) for key, v in meta["params"].items()}
        unknown = sorted(set(params) - set(cls().get_params(deep=False)))
        if unknown:
            raise ModelFileError(
                f"{self.path} sets parameters {unknown} that this descent's {name} does not "
                f"have (it was written by descent {meta.get('descent_version', '?')}); "
                "upgrade descent to load it")
        estimator = cls(**params)
        for key, value in meta["fitted"].items():
            if not (key.isidentifier() and key.endswith("_") and key[0] != "_") or \
                    hasattr(cls, key):
                raise self.damaged(f"it sets {key!r}, which is not a fitted attribute")
            setattr(estimator, key, self.decode(value))
        state = meta["state"]
        for key in state:
            if key not in (*_STATE, "_rng", "_opt_state"):
                raise self.damaged(f"it sets {key!r}, which is not part of a model's state")
        if "_params" not in state:
            raise self.damaged("it holds no trained parameters")
        for key in _STATE:
            if key in state:
                setattr(estimator, key, self.decode(state[key]))
        if "_rng" in state:
            estimator._rng = self.generator(state["_rng"])
        estimator._opt_state = self.optimizer_state(estimator, state.get("_opt_state"))
        return estimator

    def generator(self, saved) -> np.random.Generator:
        generator = np.random.Generator(np.random.PCG64())
        try:
            if saved["bit_generator"] != "PCG64":
                raise ValueError("not PCG64")
            generator.bit_generator.state = saved
        except (TypeError, ValueError, KeyError):
            raise self.damaged("its random generator state is not valid") from None
        return generator

    def optimizer_state(self, estimator, saved):
        """The optimizer's state: the stored leaves poured into a freshly made template."""
        if saved is None:
            return None
        leaves = self.decode(saved)
        try:
            template = optim.get_optimizer(estimator.optimizer, estimator.learning_rate) \
                .init(estimator._params)
        except (TypeError, ValueError, AttributeError) as err:
            raise self.damaged(f"its optimizer cannot be rebuilt ({err})") from None
        expected = _leaves(template)

        def fits(stored, like) -> bool:
            if isinstance(like, np.ndarray):
                return isinstance(stored, np.ndarray) and stored.shape == like.shape and \
                    stored.dtype == like.dtype
            return type(stored) is type(like)

        if not (isinstance(leaves, list) and len(leaves) == len(expected) and
                all(map(fits, leaves, expected))):
            raise self.damaged("its optimizer state does not fit the optimizer")
        fill = iter(leaves)
        return tree_map(lambda _: next(fill), template)


def load(path):
    """Read an estimator written by ``save`` (or ``model.save``); no code in the file runs.

    Args:
        path: the model file.

    Returns:
        The estimator, fitted: same parameters, fitted attributes, ``history_`` and
        training state, so it predicts bit for bit as before and can train on.

    Raises:
        FileNotFoundError: nothing is at ``path``.
        ModelFileError: not a model file, damaged or truncated, written by a newer descent,
            or naming a class outside ``ESTIMATORS``; the message says which.

    Example:
        >>> import tempfile
        >>> import numpy as np
        >>> from descent import LogisticRegression
        >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array(["no", "no", "yes", "yes"])
        >>> model = LogisticRegression(epochs=30, random_state=0).fit(X, y)
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     again = load(model.save(Path(folder) / "yes-no.descent"))
        >>> again.predict([[0.0], [3.0]]).tolist(), again.history_.loss == model.history_.loss
        (['no', 'yes'], True)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no model file at {path}: check the path (models are written "
                                "with model.save(path))")
    if path.is_dir():
        raise ModelFileError(f"{path} is a folder, not a descent model file")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        with open(path, "rb") as file:
            looks_like_zip = file.read(4) == b"PK\x03\x04"
        if looks_like_zip:
            raise ModelFileError(
                f"{path} is damaged: it starts like a zip archive but its end is missing or "
                "unreadable (was it cut short while copying?). Copy it again, or save the "
                "model again") from None
        raise ModelFileError(f"{path} is not a descent model file: it is not a zip archive. "
                             "Model files are written by model.save(path)") from None
    with archive:
        reader = _Reader(path, archive)
        try:
            return reader.estimator()
        except (zipfile.BadZipFile, zlib.error, EOFError) as err:
            raise reader.damaged(f"a member cannot be read ({err})") from None
