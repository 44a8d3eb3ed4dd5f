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
such as string ``classes_``, kept as a Unicode array) and ``{"history": {...}}`` (one
key per field of ``History``; a field the file lacks, written by an older descent, takes
its default).

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
fixed table ``ESTIMATORS``, never imported by name. A hostile or damaged file ends in
``ModelFileError`` and nothing else, within these bounds, all checked before anything is
read and again while reading (a zip directory can lie about sizes):

- ``MAX_BYTES`` (1 GiB): all members together, uncompressed, as they would sit in
  memory; ``load(path, max_bytes=...)`` raises or lowers it for one call. 1 GiB holds a
  network of 32 million float64 weights four times over (the fitted weights, the
  training parameters and Adam's two moments), far beyond what descent trains on a CPU.
- ``MAX_METADATA_BYTES`` (a sixteenth of the bound, 64 MiB; at least 1 MiB whatever
  ``max_bytes`` is): the JSON metadata, which holds ``history_`` as text, some 400,000
  epochs.
- ``MAX_MEMBERS`` (10,000) members, and a zip directory of at most
  ``MAX_DIRECTORY_BYTES``, checked from the archive's end record before zipfile parses
  it; a network of 100 layers needs about 1,000 members.
- ``MAX_JSON_DEPTH`` (32) levels of nesting in the metadata (descent writes 9), checked
  by counting brackets, without recursion, before the JSON is parsed.

Only regular files are read: a folder, a FIFO or a device is refused without being read.
Only the deflate and stored methods (what zip tools write by default) are read. The
parameters pass the estimator's own checks, and the fitted arrays must fit together
(shapes against ``n_features_in_``, ``classes_`` and the layer sizes; finite floats for
weights and scalings; counters non-negative integers), so a file that loads predicts.

Saving: the file is written under a temporary name beside the target
(``.<name>.<random>.tmp``), locked while written, and renamed over the target only when
complete, so the target is whole (old or new) whatever happens. A save killed midway
leaves its temporary file behind; the next save of that target removes such leftovers
(see ``STALE_SECONDS``).

Version policy: a reader ignores JSON keys it does not know, so additions that older
readers may safely skip keep the version; any other change raises it. A file with a
newer version than this descent reads is refused with a request to upgrade; every
version descent has written stays readable.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import numbers
import os
import re
import reprlib
import stat
import struct
import tempfile
import time
import warnings
import zipfile
import zlib
from dataclasses import MISSING, fields
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

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

try:  # advisory locks mark a save in progress; where there are none, age alone tells
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["ESTIMATORS", "FORMAT", "FORMAT_VERSION", "MAX_BYTES", "MAX_DIRECTORY_BYTES",
           "MAX_JSON_DEPTH", "MAX_MEMBERS", "MAX_METADATA_BYTES", "METADATA", "STALE_SECONDS",
           "ModelFileError", "load", "save"]

FORMAT = "descent-model"
FORMAT_VERSION = 1
METADATA = "descent-model.json"
#: The only classes a file may name; loading never imports anything else.
ESTIMATORS = {cls.__name__: cls for cls in (
    LinearRegression, Perceptron, LogisticRegression, LinearSVC, MLPClassifier, MLPRegressor)}

#: The most bytes all members of a file may take uncompressed (``load``'s ``max_bytes``).
MAX_BYTES = 1 << 30
#: The most bytes the JSON metadata may take: this share of ``max_bytes``.
MAX_METADATA_BYTES = MAX_BYTES // 16
#: The most members a model file may have.
MAX_MEMBERS = 10_000
#: The most bytes of zip directory (about 100 bytes an entry in descent's files).
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 512
#: The deepest nesting of arrays and objects the metadata may have.
MAX_JSON_DEPTH = 32
#: A temporary file of a save is removed by a later save once it has not changed for this
#: many seconds and no process holds its lock (see ``_remove_stale_temporaries``).
STALE_SECONDS = 60

_STATE = ("_params", "_x_mean", "_x_scale", "_x_constant", "_y_mean", "_y_scale", "_steps",
          "_steps_per_epoch", "_same_rows_as_scaling")
_KINDS = "biufcU"  # bool, integers, floats, complex, Unicode: all load without pickle
_HINTS = {"callbacks": "callbacks=None", "schedule": "schedule='exponential' (a name) or None",
          "optimizer": "optimizer='adam' (a name)", "random_state": "random_state=0 (an int)"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entry dates: the same model gives the same bytes
_CHUNK = 1 << 20  # members are inflated this many bytes at a time
_FOREIGN_FLAGS = 0x1 | 0x20 | 0x40 | 0x2000  # encrypted, patched, strongly encrypted, masked
_SHORT = reprlib.Repr()  # values from a file, quoted in messages: short, escaped
_SHORT.maxstring = _SHORT.maxother = 60


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


def _quote(value) -> str:
    """A value read from a file, for a message: repr'd (so escaped) and cut short."""
    return _SHORT.repr(value)


def _size(n: int) -> str:
    """Bytes for people: '2.0 GiB'."""
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"


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
    a failure (a full disk, an interrupt, a killed process) leaves any file already at
    ``path`` untouched. Temporary files that earlier, killed saves of ``path`` left
    behind are removed first.

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
        OSError: the file could not be written (a full disk, no permission ...): the
            system's error class and ``errno``, with a message that names the file, the
            problem and the fix, and says that any earlier file is intact.

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
    existed = path.exists()
    mode = path.stat().st_mode & 0o777 if existed else 0o644
    _remove_stale_temporaries(path)  # first: on a full disk, their space may be what is needed
    try:
        _write_atomically(path, mode, lambda file: _write_archive(file, metadata, arrays))
    except OSError as err:
        raise _save_error(path, err, existed) from err
    return path


def _write_archive(file, metadata: dict, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(_entry(METADATA), json.dumps(metadata, indent=1))
        for member, array in arrays.items():
            with archive.open(_entry(member), "w", force_zip64=array.nbytes > 2**30) as out:
                np.save(out, array, allow_pickle=False)


def _entry(member: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _write_atomically(path: Path, mode: int, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, then rename it over ``path``.

    The temporary file is locked from its creation until it bears its final name: the
    lock tells a later save's clean-up that this file is in use (the lock dies with the
    process, even on ``kill -9``, so a leftover of a killed save is unlocked). On any
    failure the temporary file is removed and ``path`` is as it was.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with open(fd, "wb") as file:
            if fcntl is not None:
                fcntl.flock(file.fileno(), fcntl.LOCK_EX)
            write(file)
            file.flush()
            os.fsync(file.fileno())
            if fcntl is not None:  # rename while still locked: never an unlocked, whole tmp
                _publish(tmp, path, mode)
        if fcntl is None:  # pragma: no cover - Windows renames only closed files
            _publish(tmp, path, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _publish(tmp: str, path: Path, mode: int) -> None:
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _save_error(path: Path, err: OSError, existed: bool) -> OSError:
    """The OSError of a failed save, told plainly: what happened, that nothing was lost,
    and what to do. The class and ``errno`` stay the system's, so callers can test them."""
    told = f" ({err.strerror})" if err.strerror else ""  # the system's words, for searching
    if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        problem, fix = f"the disk is full or your quota is used up{told}", \
            "free some space, or save to another disk"
    elif err.errno == errno.EFBIG:
        problem, fix = "the file is too large for the file size limit this process runs " \
            f"under{told}, see ulimit -f", "raise the limit, or save a smaller model"
    else:
        problem = err.strerror or str(err)
        fix = "check that the folder is writable and the disk is working, or save elsewhere"
    kept = f"the existing {path.name} is intact" if existed else "no file was written"
    cls = type(err) if type(err).__module__ == "builtins" else OSError
    error = cls(f"cannot save the model to {path}: {problem}; {kept}. Fix: {fix}")
    error.errno = err.errno  # kept for callers; str(error) stays the message alone
    return error


def _temporary_name(path: Path) -> re.Pattern:
    """The names ``_write_atomically`` gives the temporary files of ``path`` (tempfile's
    random part has no dot, so another target's temporary files never match)."""
    return re.compile(re.escape(f".{path.name}.") + r"[a-z0-9_]+\.tmp")


def _remove_stale_temporaries(path: Path) -> list[str]:
    """Remove what killed saves of ``path`` left behind; return the names removed.

    Only files named as this target's temporary files are considered, and of those only
    regular files (not links) owned by this user, unchanged for ``STALE_SECONDS``, whose
    lock no process holds. The lock is what protects a save in progress: a live save
    holds it until its file is renamed into place, and the kernel drops it when the
    process dies, however it dies. The age closes the one gap, the instant between a
    save creating its file and locking it, and stands in where there are no locks.
    """
    pattern, removed = _temporary_name(path), []
    try:
        names = [entry.name for entry in os.scandir(path.parent) if pattern.fullmatch(entry.name)]
    except OSError:
        return removed
    for name in names:
        if _remove_if_abandoned(path.parent / name):
            removed.append(name)
    return removed


def _remove_if_abandoned(tmp: Path) -> bool:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(tmp, flags)
    except OSError:  # gone already, a link, or not ours to read
        return False
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or time.time() - info.st_mtime < STALE_SECONDS or (
                hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
            return False
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # held: a save is writing it
                return False
        now = os.lstat(tmp)  # still the file checked, not one put in its place since
        if (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            return False
        os.unlink(tmp)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


# ----- loading: the file and the archive -------------------------------------------------
_KIND_NAMES = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((name for test, name in _KIND_NAMES if test(mode)), "not a regular file")
    raise ModelFileError(f"{path} is {kind}, not a descent model file, so descent did not read "
                         "it; give the path of a file written by model.save(path)")


def _open_regular(path: Path):
    """``path`` opened for reading, refused unread unless it is a regular file.

    The first check (``os.stat``) keeps a FIFO or a device from even being opened
    (opening one can block or have effects); the open does not block (O_NONBLOCK) and the
    second check, on the opened file, catches a path swapped in between.
    """
    try:
        _refuse_unless_regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path}: check the path (models are written "
                                "with model.save(path))") from None
    try:
        _refuse_unless_regular(path, os.fstat(fd).st_mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")


def _directory_sizes(file) -> list[int]:
    """Every size the archive's end records claim for its central directory, read as
    zipfile will read them (the classic record, and the zip64 record if there is one),
    so that a huge directory is refused before zipfile parses it entry by entry."""
    end = file.seek(0, os.SEEK_END)
    start = max(0, end - _END.size - 0xFFFF)  # the record, then a comment of up to 64 KiB
    file.seek(start)
    tail = file.read()
    at = len(tail) - _END.size if tail[-_END.size:][:4] == b"PK\x05\x06" else tail.rfind(
        b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END.size:
        return []  # no end record: zipfile refuses the file
    sizes = [_END.unpack_from(tail, at)[5]]
    locator_at = start + at - _END64_LOCATOR.size
    if locator_at >= 0:
        file.seek(locator_at)
        locator = file.read(_END64_LOCATOR.size)
        if locator[:4] == b"PK\x06\x07":
            offset = _END64_LOCATOR.unpack(locator)[2]
            for where in (locator_at - _END64.size, offset):  # where readers look for it
                if 0 <= where <= end - _END64.size:
                    file.seek(where)
                    record = file.read(_END64.size)
                    if record[:4] == b"PK\x06\x06":
                        sizes.append(_END64.unpack(record)[8])
    return sizes


def _open_archive(path: Path, file) -> zipfile.ZipFile:
    biggest = max(_directory_sizes(file), default=0)
    if biggest > MAX_DIRECTORY_BYTES:
        raise ModelFileError(
            f"{path} is refused: its zip directory claims {_size(biggest)}, more than the "
            f"{_size(MAX_DIRECTORY_BYTES)} a descent model file can need (at most "
            f"{MAX_MEMBERS} members); it is damaged or was made to exhaust memory")
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except zipfile.BadZipFile:
        file.seek(0)
        if file.read(4) == b"PK\x03\x04":
            raise ModelFileError(
                f"{path} is damaged: it starts like a zip archive but its end is missing or "
                "unreadable (was it cut short while copying?). Copy it again, or save the "
                "model again") from None
        raise ModelFileError(f"{path} is not a descent model file: it is not a zip archive. "
                             "Model files are written by model.save(path)") from None
    except NotImplementedError as err:  # e.g. a zip version or feature zipfile lacks
        raise ModelFileError(f"{path} is refused: it needs a zip feature descent does not "
                             f"read ({err}); descent model files never do") from None
    names = archive.namelist()
    problem = None
    if len(names) > MAX_MEMBERS:
        problem = f"it has {len(names)} members, more than the {MAX_MEMBERS} descent reads"
    elif len(set(names)) < len(names):
        seen: set[str] = set()
        twice = next(name for name in names if name in seen or seen.add(name))
        problem = f"the member name {_quote(twice)} appears twice"
    if problem:
        archive.close()
        raise ModelFileError(f"{path} is refused: {problem}; descent never writes such a file, "
                             "so it is damaged or was made elsewhere")
    return archive


# How zipfile and zlib meet a damaged member (a bad CRC, a cut stream, an undecodable
# name, a flag they do not support): the reader says which member.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, UnicodeDecodeError, NotImplementedError,
               struct.error)

# The last resort: the reader's own checks name every problem the tests and the fuzzing
# found, and this net turns anything else a file makes zipfile, json, NumPy or the
# estimator raise into ModelFileError too (naming the exception), never a traceback.
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, struct.error, OverflowError,
           NotImplementedError, LookupError, TypeError, AttributeError, RecursionError,
           ValueError)


def load(path, *, max_bytes: int = MAX_BYTES):
    """Read an estimator written by ``save`` (or ``model.save``); no code in the file runs.

    Every problem with the file (not a model file, damaged, truncated, written by a newer
    descent, hostile) raises ``ModelFileError``, whose message names it; see the module's
    docstring for the bounds a file must keep.

    Args:
        path: the model file: a regular file (a folder, a FIFO or a device is refused
            without being read).
        max_bytes: the most bytes the file's members may take in memory together,
            uncompressed; ``MAX_BYTES`` (1 GiB) unless given. Raise it only for a file
            you trust that holds a larger model.

    Returns:
        The estimator, fitted: same parameters, fitted attributes, ``history_`` and
        training state, so it predicts bit for bit as before and can train on.

    Raises:
        FileNotFoundError: nothing is at ``path``.
        ModelFileError: the file is not a model descent can load; the message says why.

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
    if not (isinstance(max_bytes, numbers.Integral) and not isinstance(max_bytes, bool)):
        raise TypeError(f"max_bytes must be a whole number of bytes, got {max_bytes!r}")
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    path = Path(path)
    with _open_regular(path) as file:
        reader = _Reader(path, max_bytes)
        try:
            with _open_archive(path, file) as archive:
                return reader.estimator(archive)
        except ModelFileError:
            raise
        except OSError as err:
            if err.errno != errno.EINVAL:  # a disk's error, not the file's (EINVAL: a seek
                raise                      # to where no byte can be, from a bad offset)
            raise reader.damaged(f"it points outside itself ({err})") from None
        except _DAMAGE as err:
            raise reader.damaged(f"it cannot be read ({type(err).__name__}: "
                                 f"{_quote(str(err))})") from None


class _Bad(Exception):
    """A problem found in a file's content; the reader turns it into ModelFileError."""


# ----- loading: the members and the metadata -----------------------------------------------
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]++")


def _json_depth(text: bytes, limit: int) -> int:
    """How deeply JSON text nests arrays and objects, counted without parsing it (json's
    parser recurses, and deep input exhausts the stack): strings are dropped, then the
    brackets are summed a chunk at a time. Stops counting once past ``limit``.

    Example:
        >>> _json_depth(b'{"a": [1, [2]], "b": "[[[["}', 10)
        3
    """
    brackets = np.frombuffer(_NOT_BRACKET.sub(b"", _JSON_STRING.sub(b"", text)), np.uint8)
    depth = deepest = 0
    for start in range(0, len(brackets), _CHUNK):
        chunk = brackets[start:start + _CHUNK]
        running = depth + np.cumsum(np.where((chunk == ord("[")) | (chunk == ord("{")), 1, -1))
        deepest, depth = max(deepest, int(running.max())), int(running[-1])
        if deepest > limit:
            break
    return deepest


def _is_entry(entry) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get("member"), str) and \
        isinstance(entry.get("dtype"), str) and isinstance(entry.get("shape"), list) and \
        all(type(n) is int and n >= 0 for n in entry["shape"])


def _default(field):
    return field.default if field.default is not MISSING else field.default_factory()


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fits_field(value, default) -> bool:
    """Whether a History value read from a file has its field's type: a list column of
    numbers, or a value of the default's own type (a str such as why the fit stopped)."""
    if isinstance(default, list):
        return isinstance(value, list) and all(map(_is_number, value))
    if _is_number(default):
        return _is_number(value)
    return default is None or type(value) is type(default)


class _Reader:
    """Reads one archive; every problem becomes a ModelFileError that names the file."""

    def __init__(self, path: Path, max_bytes: int):
        self.path, self.max_bytes, self.left = path, max_bytes, max_bytes
        self.archive: zipfile.ZipFile | None = None
        self.declared: dict[str, dict] = {}
        self.used: set[str] = set()

    def damaged(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path} is damaged: {what}. Save the model again (or copy "
                              "the file again from where it was saved)")

    def refused(self, what: str) -> ModelFileError:
        return ModelFileError(f"{self.path} is refused: {what}")

    def too_large(self, what: str, size: int, limit: int, *, at_least=False) -> ModelFileError:
        return ModelFileError(
            f"{self.path} is too large to load: {what} would take "
            f"{'at least ' if at_least else ''}{_size(size)} ({size:,} bytes) in memory, more "
            f"than the {limit:,} bytes descent allows it (max_bytes={self.max_bytes:,} bounds "
            "all members together, and the metadata to a sixteenth of that, at least 1 MiB); "
            "a small file that inflates this much is a zip bomb. If you trust this file and "
            "its model is really this large, load it with descent.load(path, max_bytes="
            f"{max(2 * size, self.max_bytes)})")

    def charge(self, what: str, size: int) -> None:
        """Count ``size`` bytes of memory against the bound, refusing past it."""
        if size > self.left:
            raise self.too_large(what, size, self.left)
        self.left -= size

    # ----- members ----------------------------------------------------------------------
    def read(self, name: str, limit: int) -> bytes:
        """A member's bytes, bounded before reading (by what the directory declares) and
        while reading (the directory can lie): never more than ``limit`` bytes inflated."""
        info = self.archive.getinfo(name)
        if info.flag_bits & _FOREIGN_FLAGS:
            raise self.refused(f"its member {_quote(name)} is encrypted or patched (zip flags "
                               f"{info.flag_bits:#x}), and descent model files never are; save "
                               "the model again with descent")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise self.refused(
                f"its member {_quote(name)} is compressed with zip method "
                f"{info.compress_type}; descent reads deflate and stored members (what "
                "model.save and zip tools write by default). Save the model again with descent")
        limit = min(limit, self.left)
        if info.file_size > limit:
            raise self.too_large(f"its member {_quote(name)}", info.file_size, limit)
        chunks, size = [], 0
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise self.too_large(f"its member {_quote(name)}", size, limit,
                                             at_least=True)
                    chunks.append(chunk)
        except _UNREADABLE as err:  # zipfile's and zlib's ways of meeting damage
            raise self.damaged(f"its member {_quote(name)} cannot be read ({type(err).__name__}"
                               f": {_quote(str(err))})") from None
        self.left -= size
        return b"".join(chunks)

    def metadata(self) -> dict:
        names = self.archive.namelist()
        if METADATA not in names:
            shown = ", ".join(map(_quote, names[:5])) + (", ..." if len(names) > 5 else "")
            raise ModelFileError(
                f"{self.path} is a zip archive but not a descent model file: it has no "
                f"{METADATA} (it holds: {shown or 'nothing'}). descent loads files written "
                "by model.save(path)")
        infos = self.archive.infolist()
        declared = sum(info.file_size for info in infos)
        if declared > self.max_bytes:  # said before anything is read
            largest = max(infos, key=lambda info: info.file_size)
            raise self.too_large(f"its members together (the largest, {_quote(largest.filename)},"
                                 f" {_size(largest.file_size)})", declared, self.max_bytes)
        # the metadata's share of the bound, as MAX_METADATA_BYTES is of MAX_BYTES
        share = max(self.max_bytes * MAX_METADATA_BYTES // MAX_BYTES, 1 << 20)
        meta = self.parse_json(self.read(METADATA, share))
        found = meta.get("format") if isinstance(meta, dict) else None
        if found != FORMAT:
            raise ModelFileError(f"{self.path} is not a descent model file: its {METADATA} "
                                 f"says format {_quote(found)}, not {FORMAT!r}")
        version = meta.get("version")
        if type(version) is not int or version < 1:
            raise self.damaged(f"its format version {_quote(version)} is not a positive integer")
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{self.path} uses descent model format version {version} (written by descent "
                f"{_written_by(meta)}), but this descent ({_descent_version()}) reads versions "
                f"up to {FORMAT_VERSION}: upgrade descent to load it")
        entries = meta.get("arrays")
        if not (isinstance(entries, list) and all(map(_is_entry, entries))):
            raise self.damaged(f"the \"arrays\" list in its {METADATA} is malformed")
        self.declared = {e["member"]: e for e in entries}
        missing = sorted(set(self.declared) - set(names))
        if missing:
            raise self.damaged(f"the array member {_quote(missing[0])} listed in {METADATA} "
                               "is missing")
        for key in ("params", "fitted", "state"):
            if not isinstance(meta.get(key), dict):
                raise self.damaged(f"its {METADATA} has no {key!r} object")
        return meta

    def parse_json(self, raw: bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.damaged(f"its {METADATA} is not UTF-8 text") from None
        depth = _json_depth(raw, MAX_JSON_DEPTH)
        if depth > MAX_JSON_DEPTH:
            raise self.refused(
                f"its {METADATA} nests arrays and objects {depth}{'+' * (depth > 100)} levels "
                f"deep, beyond the {MAX_JSON_DEPTH} descent reads (its own files nest 9); it is "
                "damaged or was made to exhaust the parser")
        try:
            return json.loads(text)
        except (ValueError, RecursionError) as err:  # JSONDecodeError, or an int too long
            raise self.damaged(f"its {METADATA} is not valid JSON ({_quote(str(err))})") \
                from None

    def array(self, member) -> np.ndarray:
        if not isinstance(member, str) or member not in self.declared:
            raise self.damaged(f"it refers to an array {_quote(member)} that {METADATA} does "
                               "not list")
        if member in self.used:
            raise self.damaged(f"the member {_quote(member)} is used for more than one value")
        self.used.add(member)
        array = self.npy(member, self.read(member, self.left))
        entry = self.declared[member]
        if entry["dtype"] != array.dtype.str or entry["shape"] != list(array.shape):
            raise self.damaged(f"the member {_quote(member)} does not match its entry in "
                               f"{METADATA}")
        # byte order is the machine's from here on: the compiled kernels expect it
        return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))

    def npy(self, member: str, raw: bytes) -> np.ndarray:
        """A .npy member as an array, its header checked against its length first (NumPy
        would allocate whatever shape the header claims before reading the data)."""
        if not raw.startswith(b"\x93NUMPY"):
            raise self.damaged(f"the member {_quote(member)} is not a .npy array")
        stream = io.BytesIO(raw)
        try:
            version = np.lib.format.read_magic(stream)
            header = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if header is None:
                raise ValueError(f".npy version {version}")
            with warnings.catch_warnings():  # NumPy's literal_eval warns on odd escapes
                warnings.simplefilter("ignore")
                shape, _, dtype = header(stream)
        except Exception as err:  # noqa: BLE001 - NumPy's header parser on hostile bytes
            raise self.damaged(f"the member {_quote(member)} has no readable .npy header "
                               f"({_quote(str(err))})") from None
        if dtype.hasobject:
            raise self.refused(
                f"its member {_quote(member)} holds Python objects, and loading those would "
                "mean unpickling, which can run code. descent never writes such members; the "
                "file was altered or made elsewhere")
        promised = math.prod(shape) * dtype.itemsize
        if dtype.kind not in _KINDS or any(n < 0 for n in shape) or \
                promised != len(raw) - stream.tell():
            raise self.damaged(f"the member {_quote(member)} does not hold the array its "
                               f"header describes ({_quote(dtype.str)}, shape {shape})")
        try:
            return np.load(io.BytesIO(raw), allow_pickle=False)
        except ValueError as err:
            raise self.damaged(f"the member {_quote(member)} is not a readable array "
                               f"({_quote(str(err))})") from None

    # ----- values -----------------------------------------------------------------------
    def decode(self, value):
        """A value from the metadata, tags resolved (depth bounded by MAX_JSON_DEPTH)."""
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
                pairs = [(self.decode(k), self.decode(v)) for k, v in body]
                with contextlib.suppress(TypeError):  # a key that cannot be a dict key
                    return dict(pairs)
            if tag == "array":
                return self.array(body)
            if tag == "scalar" and (array := self.array(body)).ndim == 0:
                return array[()]
            if tag == "strings" and (array := self.array(body)).dtype.kind == "U":
                self.charge(f"its member {_quote(body)} as Python strings", 64 * array.size)
                return array.astype(object)
            if tag == "history" and isinstance(body, dict):
                return self.history(body)
        raise self.damaged(f"it holds a value descent does not recognise: {_quote(value)}")

    def history(self, body: dict) -> History:
        """A History, field by field as its type says; a field the file lacks (written
        before the field existed) keeps its default."""
        values = {}
        for field in fields(History):
            if field.name not in body:
                continue
            if field.name == "path":
                values["path"] = self.path_steps(body["path"])
                continue
            value, default = self.decode(body[field.name]), _default(field)
            if not _fits_field(value, default):
                kind = "a list of numbers" if isinstance(default, list) else \
                    f"a {type(default).__name__}"
                raise self.damaged(f"its history_.{field.name} is {_quote(value)}, not {kind}")
            values[field.name] = value
        return History(**values)

    def path_steps(self, saved) -> list:
        if not (isinstance(saved, dict) and set(saved) == {"stacked", "length"}):
            steps = self.decode(saved)
            if not isinstance(steps, list):
                raise self.damaged("its history_.path is not a list of steps")
            return steps
        stacked, n = self.decode(saved["stacked"]), saved["length"]
        leaves = _leaves(stacked)
        if not (type(n) is int and n >= 0 and leaves and all(
                isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.ndim and len(a) == n
                and a.size >= n for a in leaves)):
            raise self.damaged("the steps of its history_.path do not line up")
        # each step becomes Python objects (a tuple, one small array a leaf): count them
        self.charge("its history_.path, step by step,", 128 * n * len(leaves))
        return [tree_map(lambda a, i=i: a[i].copy(), stacked) for i in range(n)]

    # ----- the estimator ----------------------------------------------------------------
    def estimator(self, archive: zipfile.ZipFile):
        self.archive = archive
        meta = self.metadata()
        name = meta.get("class")
        cls = ESTIMATORS.get(name) if isinstance(name, str) else None
        if cls is None:
            raise ModelFileError(
                f"{self.path} names the class {_quote(name)}, which is not one of descent's "
                f"estimators ({', '.join(ESTIMATORS)}), so descent will not load it; the file "
                "is damaged or was not written by descent")
        params = {key: self.decode(v) for key, v in meta["params"].items()}
        unknown = sorted(set(params) - set(cls().get_params(deep=False)))
        if unknown:
            raise ModelFileError(
                f"{self.path} sets parameters {_quote(unknown)} that this descent's {name} "
                f"does not have (it was written by descent {_written_by(meta)}); upgrade "
                "descent to load it")
        estimator = cls(**params)
        self.check_params(estimator)
        for key, value in meta["fitted"].items():
            if not (key.isidentifier() and key.endswith("_") and key[0] != "_") or \
                    hasattr(cls, key):
                raise self.damaged(f"it sets {_quote(key)}, which is not a fitted attribute")
            setattr(estimator, key, self.decode(value))
        state = meta["state"]
        for key in state:
            if key not in (*_STATE, "_rng", "_opt_state"):
                raise self.damaged(f"it sets {_quote(key)}, which is not part of a model's "
                                   "state")
        for key in ("_params", "_rng"):
            if key not in state:
                raise self.damaged("it holds no trained parameters" if key == "_params" else
                                   "it holds no random generator state")
        for key in _STATE:
            if key in state:
                setattr(estimator, key, self.decode(state[key]))
        try:
            _check_consistent(estimator)
        except _Bad as err:
            raise self.damaged(str(err)) from None
        estimator._rng = self.generator(state["_rng"])
        estimator._opt_state = self.optimizer_state(estimator, state.get("_opt_state"))
        self.probe(estimator)
        return estimator

    def check_params(self, estimator) -> None:
        """The parameters through the estimator's own checks, now rather than at the
        first fit; booleans must be booleans and the seed a seed."""
        try:
            for key, default in type(estimator)().get_params(deep=False).items():
                value = getattr(estimator, key)
                if isinstance(default, bool) and not isinstance(value, bool):
                    raise ValueError(f"{key} must be True or False, got {_quote(value)}")
            estimator._check_params()
            try:
                check_random_state(estimator.random_state)
            except ValueError as err:
                raise ValueError(f"random_state={_quote(estimator.random_state)} is not a "
                                 f"seed ({err})") from None
        except (ValueError, TypeError) as err:
            raise self.refused(f"its parameters are not valid: {err}. The file is damaged or "
                               "was altered; save the model again") from None

    def generator(self, saved) -> np.random.Generator:
        generator = np.random.Generator(np.random.PCG64())
        try:
            if saved["bit_generator"] != "PCG64":
                raise ValueError("not PCG64")
            generator.bit_generator.state = saved
        except (TypeError, ValueError, KeyError, OverflowError):
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
            return type(stored) is type(like) and not (isinstance(like, int) and stored < 0)

        if not (isinstance(leaves, list) and len(leaves) == len(expected) and
                all(map(fits, leaves, expected))):
            raise self.damaged("its optimizer state does not fit the optimizer")
        fill = iter(leaves)
        return tree_map(lambda _: next(fill), template)

    def probe(self, estimator) -> None:
        """Predict two rows of zeros: what the checks above promise, tried."""
        X = np.zeros((2, estimator.n_features_in_), dtype=estimator._params[0].dtype)
        for name in ("predict", "decision_function", "predict_proba"):
            if not hasattr(estimator, name):
                continue
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    out = np.asarray(getattr(estimator, name)(X))
            except Exception as err:  # noqa: BLE001 - whatever it is, the file caused it
                raise self.damaged(f"it cannot predict ({type(err).__name__}: "
                                   f"{_quote(str(err))})") from None
            if len(out) != 2 or (out.dtype.kind in "fc" and not np.isfinite(out).all()):
                raise self.damaged(f"its {name} gives no finite answer")


def _written_by(meta: dict) -> str:
    found = meta.get("descent_version")
    return _quote(found) if isinstance(found, str) else "?"


# ----- loading: do the fitted arrays fit together? -------------------------------------------
def _floats(value, where: str, shape: tuple, why: str = "", *, positive=False) -> None:
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f" and
            value.dtype.itemsize in (4, 8)):
        raise _Bad(f"its {where} is not an array of float32 or float64 numbers")
    if value.shape != shape:
        raise _Bad(f"its {where} has shape {value.shape}, but {why or 'the model'} makes it "
                   f"{shape}")
    if not np.isfinite(value).all():
        raise _Bad(f"its {where} holds NaN or infinity")
    if positive and not (value > 0).all():
        raise _Bad(f"its {where} holds values that are not positive")


def _counter(estimator, name: str, least: int) -> int:
    value = getattr(estimator, name, None)
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and
            value >= least):
        raise _Bad(f"its {name} is {_quote(value)}, not a whole number >= {least}")
    return int(value)


def _n_outputs(estimator) -> tuple[int, str]:
    """The score columns the model has, and what makes it so, checking classes_."""
    if not estimator._is_classifier:
        return 1, "1 output"
    classes = getattr(estimator, "classes_", None)
    if not (isinstance(classes, np.ndarray) and classes.ndim == 1 and (
            classes.dtype.kind in "biuU" or classes.dtype.kind == "f" and
            np.isfinite(classes).all() or classes.dtype.kind == "O" and
            all(isinstance(c, str) for c in classes.tolist()))):
        raise _Bad("its classes_ is not an array of class labels")
    if len(classes) < 2:
        raise _Bad(f"its classes_ holds {len(classes)} class, and a classifier needs 2 or more")
    if len(np.unique(classes)) != len(classes):
        raise _Bad("its classes_ names a class twice")
    return (1 if len(classes) == 2 else len(classes)), f"{len(classes)} classes"


def _check_consistent(estimator) -> None:
    """Raise _Bad unless the fitted attributes and the state fit together, so that the
    model predicts (and trains on) without an error deep inside NumPy."""
    n_features = _counter(estimator, "n_features_in_", 1)
    _counter(estimator, "n_iter_", 0)
    if not isinstance(getattr(estimator, "history_", None), History):
        raise _Bad("its history_ is missing or not a training history")
    n_outputs, outputs = _n_outputs(estimator)
    network = isinstance(estimator, MLPClassifier | MLPRegressor)
    widths = (n_features, *estimator._sizes(), n_outputs) if network else (n_features, n_outputs)
    why = f"n_features_in_={n_features}, " + (
        f"hidden_layer_sizes={estimator.hidden_layer_sizes} " if network else "") + f"and {outputs}"
    shapes = [s for a, b in zip(widths[:-1], widths[1:], strict=True) for s in ((a, b), (b,))]
    params = _arrays(estimator, "_params", len(shapes))
    for i, (array, shape) in enumerate(zip(params, shapes, strict=True)):
        _floats(array, f"_params[{i}]", shape, why)
    if len({array.dtype for array in params}) > 1:
        raise _Bad("its _params mix float32 and float64 arrays")
    if network:
        for name, chosen in (("coefs_", shapes[0::2]), ("intercepts_", shapes[1::2])):
            for i, (array, shape) in enumerate(zip(_arrays(estimator, name, len(chosen)),
                                                   chosen, strict=True)):
                _floats(array, f"{name}[{i}]", shape, why)
    elif isinstance(estimator, LinearRegression):
        _floats(getattr(estimator, "coef_", None), "coef_", (n_features,), why)
        intercept = getattr(estimator, "intercept_", None)
        if not (_is_number(intercept) and math.isfinite(intercept)):
            raise _Bad(f"its intercept_ is {_quote(intercept)}, not a finite number")
    else:
        _floats(getattr(estimator, "coef_", None), "coef_", (n_outputs, n_features), why)
        _floats(getattr(estimator, "intercept_", None), "intercept_", (n_outputs,), why)
    _check_scaling(estimator, "_x_mean", "_x_scale", n_features)
    _check_scaling(estimator, "_y_mean", "_y_scale", 0 if estimator._is_classifier else n_outputs)
    constant = getattr(estimator, "_x_constant", None)  # which columns are constant
    if constant is not None and not (isinstance(constant, np.ndarray) and
                                     constant.dtype == bool and constant.shape == (n_features,)):
        raise _Bad(f"its _x_constant is not {n_features} booleans, one a feature")
    if not isinstance(getattr(estimator, "_same_rows_as_scaling", False), bool):
        raise _Bad("its _same_rows_as_scaling is not a boolean")
    _counter(estimator, "_steps", 0)
    if hasattr(estimator, "_steps_per_epoch"):
        _counter(estimator, "_steps_per_epoch", 1)
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None and not (isinstance(names, np.ndarray) and names.shape == (n_features,)
                                  and all(isinstance(n, str) for n in names.tolist())):
        raise _Bad(f"its feature_names_in_ are not {n_features} names, one a feature")


def _arrays(estimator, name: str, count: int) -> list:
    found = getattr(estimator, name, None)
    if not (isinstance(found, list) and len(found) == count):
        held = f"{len(found)} arrays" if isinstance(found, list) else _quote(found)
        raise _Bad(f"its {name} holds {held} where the model has {count}")
    return found


def _check_scaling(estimator, mean_name: str, scale_name: str, n: int) -> None:
    """Both None (no scaling), or n finite means and n finite, positive scales; a
    classifier (n = 0) scales no target."""
    mean, scale = getattr(estimator, mean_name, None), getattr(estimator, scale_name, None)
    if mean is None and scale is None:
        return
    if n == 0:
        raise _Bad(f"it scales the target of a classifier ({mean_name})")
    _floats(mean, mean_name, (n,), f"{n} columns")
    _floats(scale, scale_name, (n,), f"{n} columns", positive=True)
