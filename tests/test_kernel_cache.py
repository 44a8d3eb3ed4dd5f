"""The compiled-kernel cache: only folders the user alone can write, keyed by the kernel sources
and the compiler versions, rebuilt when damaged; and kernels that compile on every CPU.

What only a new process shows (which folder an import picks, what it loads from there, the
warnings it prints) runs in second processes, most on copies of the package with their caches
in ``tmp_path``. The portable-kernel fit uses the user's cache, as the warm-cache tests do, so
that a second run of the suite compiles nothing.
"""

import importlib.util
import os
import pickle
import platform
import shutil
import stat
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

import descent
from descent.kernels import cache
from descent.kernels.order import _python_shuffle_by

from .subprocesses import run_child, run_children

SRC = Path(descent.__file__).resolve().parent
needs_numba = pytest.mark.skipif(importlib.util.find_spec("numba") is None,
                                 reason="Numba is not installed")
UID = os.geteuid() if hasattr(os, "geteuid") else None
WARNING = "KernelCacheWarning"


def blocked(folder: Path, name: str) -> str:
    """A path no one can create, not even root: it lies under a plain file."""
    (folder / "a-file").write_text("not a folder")
    return str(folder / "a-file" / name)


def package_copy(folder: Path) -> Path:
    """A copy of ``descent`` under ``folder`` (for PYTHONPATH) whose kernels/__pycache__ is a
    file, so no cache can be written next to the sources (the old in-tree candidate)."""
    shutil.copytree(SRC, folder / "descent", ignore=shutil.ignore_patterns("__pycache__"))
    (folder / "descent" / "kernels" / "__pycache__").write_text("")
    return folder


def child_env(copy: Path, temp: Path, **extra) -> dict:
    """A child importing ``copy``: no NUMBA_CACHE_DIR, no user cache, ``temp`` as temp dir."""
    temp.mkdir(parents=True, exist_ok=True)
    env = {"PYTHONPATH": str(copy), "DESCENT_JIT": "1", "NUMBA_CACHE_DIR": None,
           "DESCENT_JIT_PORTABLE": None, "XDG_CACHE_HOME": blocked(temp.parent, "xdg"),
           "HOME": blocked(temp.parent, "home"), "TMPDIR": str(temp),
           "PYTHONDONTWRITEBYTECODE": "1"}
    return {**env, **extra}


# The child: the shuffle loop (small, quick to compile) and the _jit probes, and what it saw.
SHUFFLE = """
import json, numpy as np
from descent import kernels
loop = kernels.compiled("order_loop")
order = np.arange(6, dtype=np.int64)
if loop is not None:
    loop.shuffle_by(order, np.linspace(0.05, 0.95, 6))
from descent.kernels import _jit
kernels_seen = {"shuffle_by": getattr(loop, "shuffle_by", None), "_probe": _jit._probe}
extra = kernels.compiled("plain_loop") if EXTRA else None
if extra is not None:
    kernels_seen["twice"] = extra.twice
print(json.dumps({
    "compiled": loop is not None, "extra": extra is not None, "order": order.tolist(),
    "helpers": bool(_jit.HELPERS), "cache": bool(_jit.CACHE), "folder": str(_jit.CACHE_FOLDER),
    "describe": kernels.describe(),
    "counts": {name: [sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values())]
               for name, k in kernels_seen.items() if k is not None}}))
"""


def shuffle_child(env: dict, extra: bool = False) -> tuple[dict, str]:
    return run_child(SHUFFLE.replace("EXTRA", str(extra)), env)


def expected_order() -> list[int]:
    order = np.arange(6, dtype=np.int64)
    _python_shuffle_by(order, np.linspace(0.05, 0.95, 6))
    return order.tolist()


# ----- 1. security: compiled code is loaded only from a folder the user alone can write -----
class MakesMarker:
    """Unpickling this creates the folder ``path``: proof that a planted pickle was loaded."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def plant(folder: Path, marker: Path) -> int:
    """Replace every cache index under ``folder`` with a pickle that creates ``marker``."""
    indexes = list(folder.rglob("*.nbi"))
    for index in indexes:
        index.write_bytes(pickle.dumps(MakesMarker(marker)))
    return len(indexes)


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A package copy and a cache folder filled by it (as ``<temp>/descent-numba-<uid>``)."""
    base = tmp_path_factory.mktemp("filled")
    copy = package_copy(base / "src")
    report, _ = shuffle_child(child_env(copy, base / "temp"))
    assert report["cache"] and report["compiled"]
    return copy, base / "temp" / f"descent-numba-{UID}"


@needs_numba
@pytest.mark.skipif(UID is None, reason="POSIX owners and modes")
@pytest.mark.parametrize("attack", ["world-writable", "other-owner", "symlink",
                                    "group-writable NUMBA_CACHE_DIR"])
def test_a_planted_cache_folder_is_never_loaded(filled, tmp_path, attack):
    copy, template = filled
    temp = tmp_path / "temp"
    env = child_env(copy, temp)
    folder = temp / template.name
    shutil.copytree(template, folder, symlinks=True)
    marker = tmp_path / "planted-code-ran"
    assert plant(folder, marker) >= 2  # the probes' indexes at least
    if attack == "world-writable":
        folder.chmod(0o777)
        why = "other users"
    elif attack == "other-owner":
        if UID != 0:
            pytest.skip("only root can give a folder to another user")
        os.chown(folder, 12345, 12345)
        why = "owned by user id 12345"
    elif attack == "symlink":
        hidden = tmp_path / "attacker"
        folder.rename(hidden)
        folder.symlink_to(hidden, target_is_directory=True)
        why = "symbolic link"
    else:
        folder.chmod(0o775)
        env["NUMBA_CACHE_DIR"] = str(folder)
        env["TMPDIR"] = str(tmp_path / "unused")  # a safe fallback it must not quietly take
        (tmp_path / "unused").mkdir()
        why = "other users"
    report, stderr = shuffle_child(env)
    assert not marker.exists(), "descent unpickled a cache index from an unsafe folder"
    assert stderr.count(WARNING) == 1, stderr
    assert str(folder) in stderr and why in stderr and "NUMBA_CACHE_DIR" in stderr
    fix = f"chmod 700 {folder}" if "other users" in why else f"remove {folder}"
    assert fix in stderr
    # Kernels still compile and run, uncached; describe() says why.
    assert report["compiled"] and report["order"] == expected_order()
    assert not report["cache"] and report["folder"] == "None"
    assert "not cached" in report["describe"] and str(folder) in report["describe"]
    assert not (tmp_path / "unused" / template.name).exists()


@pytest.mark.skipif(UID is None, reason="POSIX owners and modes")
def test_problem_names_what_makes_a_folder_unsafe(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    assert cache.problem(mine) is None
    mine.chmod(0o755)  # others may read (the code is not secret), never write
    assert cache.problem(mine) is None
    for mode, words in [(0o777, "other users"), (0o770, "other users"),
                        (0o757, "other users")]:
        mine.chmod(mode)
        assert words in cache.problem(mine) and oct(mode)[2:] in cache.problem(mine)
    mine.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(mine, target_is_directory=True)
    assert "symbolic link" in cache.problem(link)
    (tmp_path / "file").write_text("")
    assert "not a folder" in cache.problem(tmp_path / "file")
    if UID == 0:
        os.chown(mine, 12345, 12345)
        assert "owned by user id 12345" in cache.problem(mine)


@pytest.mark.skipif(UID is None, reason="POSIX owners and modes")
def test_cache_folders_are_created_private_and_per_user_first(tmp_path):
    environ = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home"),
               "TMPDIR": str(tmp_path / "temp")}
    assert [reason for reason, _ in cache.candidates(environ)] == ["user", "temp"]
    before = os.umask(0)  # even a permissive umask gives private folders
    try:
        choice = cache.choose("0" * cache.KEY_LENGTH, environ)
    finally:
        os.umask(before)
    root = tmp_path / "xdg" / "descent" / "numba"
    assert (choice.reason, choice.root, choice.folder) == ("user", root, root / ("0" * 20))
    for created in (tmp_path / "xdg", tmp_path / "xdg" / "descent", root, choice.folder):
        assert stat.S_IMODE(os.lstat(created).st_mode) == 0o700, created
    # The first root that can be made and written wins; one that cannot is skipped quietly.
    environ["NUMBA_CACHE_DIR"] = blocked(tmp_path, "numba")
    assert cache.choose("1" * cache.KEY_LENGTH, environ).reason == "user"
    # NUMBA_CACHE_DIR, set by the user, comes first; without XDG_CACHE_HOME, ~/.cache.
    environ = {"NUMBA_CACHE_DIR": str(tmp_path / "mine"), "HOME": str(tmp_path / "home")}
    found = cache.candidates(environ)
    assert found[0] == ("NUMBA_CACHE_DIR", tmp_path / "mine")
    assert found[1] == ("user", tmp_path / "home" / ".cache" / "descent" / "numba")
    assert found[2][0] == "temp" and found[2][1].name == f"descent-numba-{UID}"


@pytest.mark.skipif(UID is None, reason="POSIX owners and modes")
def test_an_open_key_folder_inside_a_private_root_is_refused(tmp_path):
    environ = {"XDG_CACHE_HOME": str(tmp_path / "xdg")}
    key = "2" * cache.KEY_LENGTH
    folder = cache.choose(key, environ).folder
    folder.chmod(0o777)
    with pytest.warns(cache.KernelCacheWarning, match="other users") as caught:
        choice = cache.choose(key, environ)
    assert len(caught) == 1 and choice.folder is None and str(folder) in choice.why


def test_no_usable_folder_turns_the_cache_off_quietly(tmp_path):
    environ = {"NUMBA_CACHE_DIR": blocked(tmp_path, "n"), "XDG_CACHE_HOME": blocked(tmp_path, "x"),
               "TMPDIR": blocked(tmp_path, "t")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing unsafe, so nothing to warn about
        choice = cache.choose("0" * cache.KEY_LENGTH, environ)
    assert choice.folder is None and choice.reason == "off"
    assert "no folder" in choice.why and blocked(tmp_path, "x") in choice.why


# ----- 3. portable kernels ---------------------------------------------------------------------
def test_inline_assembly_only_for_x86_64():
    assert cache.inline_asm_allowed("x86_64-unknown-linux-gnu")
    assert cache.inline_asm_allowed("x86_64-apple-darwin23.1.0")
    for triple in ["aarch64-unknown-linux-gnu", "arm64-apple-darwin23.1.0", "i686-pc-linux-gnu",
                   "powerpc64le-unknown-linux-gnu", "riscv64-unknown-linux-gnu", ""]:
        assert not cache.inline_asm_allowed(triple), triple
    assert cache.portable_requested({"DESCENT_JIT_PORTABLE": "1"})
    assert not cache.portable_requested({"DESCENT_JIT_PORTABLE": "0"})
    assert not cache.portable_requested({})


FIT = """
import json, numpy as np, descent as d
from descent import kernels
rng = np.random.default_rng(0)
X = rng.normal(size=(80, 5)); y = (X @ [1.0, -2.0, 0.5, 0.0, 1.5] + 0.3 > 0).astype(int)
models = [d.LinearSVC(C=0.5, batch_size=1, optimizer="gd", epochs=4, tol=None,
                      random_state=0),
          d.Perceptron(batch_size=1, optimizer="gd", penalty="l2", alpha=1e-2, epochs=4,
                       tol=None, random_state=0)]
fits = [m.fit(X, y) for m in models]
from descent.kernels import _jit
print(json.dumps({"coef": [m.coef_.ravel().tolist() + np.ravel(m.intercept_).tolist()
                           for m in fits], "opaque": bool(_jit.OPAQUE),
                  "identity": _jit.opaque is _jit._identity, "loaded": kernels.load() is not None,
                  "folder": str(_jit.CACHE_FOLDER), "describe": kernels.describe()}))
"""


@needs_numba
def test_the_portable_path_fits_the_same_as_the_assembly_path():
    (native, _), (portable, _) = run_children(FIT, [
        {"DESCENT_JIT": "1", "DESCENT_JIT_PORTABLE": None},
        {"DESCENT_JIT": "1", "DESCENT_JIT_PORTABLE": "1"}])
    assert native["loaded"] and portable["loaded"]
    assert portable["identity"] and not portable["opaque"]
    assert "portable" in portable["describe"]
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert native["opaque"] and not native["identity"]
    for a, b in zip(native["coef"], portable["coef"], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    # Each path has its own cache folder: the assembly path's code never serves the other.
    assert native["folder"] != portable["folder"]


# ----- 4. stale kernels: the cache follows the code ------------------------------------------
VERSIONS = {"python": "3.11.7", "numba": "0.68.1", "llvmlite": "0.50.0", "numpy": "2.4.6",
            "machine": "x86_64", "path": "asm"}


def test_the_key_follows_every_kernel_source_and_version(tmp_path):
    kernels = tmp_path / "kernels"
    shutil.copytree(SRC / "kernels", kernels, ignore=shutil.ignore_patterns("__pycache__"))
    key = cache.source_key(kernels, VERSIONS)
    assert cache.is_key_name(key) and key == cache.source_key(kernels, dict(VERSIONS))
    (kernels / "__pycache__").mkdir()  # byte code and the cache itself are not sources
    (kernels / "__pycache__" / "x.nbi").write_bytes(b"anything")
    assert cache.source_key(kernels, VERSIONS) == key
    seen = {key}
    for name, value in [("numba", "0.69.0"), ("llvmlite", "0.51.0"), ("numpy", "2.5.0"),
                        ("python", "3.12.1"), ("path", "portable")]:
        seen.add(cache.source_key(kernels, {**VERSIONS, name: value}))
    passes = kernels / "passes.py"
    text = passes.read_text()
    stamp = passes.stat()
    passes.write_text(text.replace("def ", "def  ", 1)[:-1] + "\n")
    os.utime(passes, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the same time: no help
    seen.add(cache.source_key(kernels, VERSIONS))
    passes.write_text(text)
    assert cache.source_key(kernels, VERSIONS) == key
    (kernels / "new_loop.py").write_text("")
    seen.add(cache.source_key(kernels, VERSIONS))
    assert len(seen) == 8


HELPER = "from ._jit import jit_inline\n\n\n@jit_inline\ndef helper():\n    return {value}\n"
LOOP = """from ._jit import jit
from .stale_helper import helper


@jit()
def answer():
    return helper()


def probe():
    answer()
"""
ANSWER = """
import json
from descent import kernels
from descent.kernels import _jit
module = kernels.compiled("stale_loop")
stats = module.answer.stats
print(json.dumps({"answer": module.answer(), "folder": str(_jit.CACHE_FOLDER),
                  "hits": sum(stats.cache_hits.values())}))
"""


@needs_numba
def test_an_edited_helper_never_runs_as_stale_machine_code(tmp_path):
    # A loop in one file inlines a helper from another: Numba alone only checks the loop's
    # file (its time stamp) and the loop's own byte code, so it would load the old helper.
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "descent", ignore=shutil.ignore_patterns("__pycache__"))
    kernels = copy / "descent" / "kernels"
    (kernels / "stale_loop.py").write_text(LOOP)
    (kernels / "stale_helper.py").write_text(HELPER.format(value="1.0"))
    env = {"PYTHONPATH": str(copy), "DESCENT_JIT": "1", "NUMBA_CACHE_DIR": None,
           "XDG_CACHE_HOME": str(tmp_path / "xdg"), "PYTHONDONTWRITEBYTECODE": "1"}
    first, _ = run_child(ANSWER, env)
    again, _ = run_child(ANSWER, env)
    assert first["answer"] == again["answer"] == 1.0 and again["hits"] == 1  # cached
    (kernels / "stale_helper.py").write_text(HELPER.format(value="20.0"))
    edited, _ = run_child(ANSWER, env)
    assert edited["answer"] == 20.0 and edited["hits"] == 0
    assert edited["folder"] != first["folder"]
    assert Path(edited["folder"]).parent == Path(first["folder"]).parent


def test_old_key_folders_are_pruned_newest_kept(tmp_path):
    root = tmp_path / "root"
    root.mkdir(mode=0o700)
    names = [f"{i:020x}" for i in range(12)]
    for age, name in enumerate(names):  # names[0] is the newest
        (root / name).mkdir(mode=0o700)
        (root / name / "x.nbi").write_bytes(b"")
        then = time.time() - 1000 * (age + 1)
        os.utime(root / name, (then, then))
    (root / "notes").mkdir()  # not a key: never touched
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("")
    (root / f"{99:020x}").symlink_to(outside)  # a link named like a key: not followed
    current = names[-1]  # the oldest, but the one in use
    removed = cache.prune(root, current, keep=4)
    left = sorted(p.name for p in root.iterdir())
    assert sorted(p.name for p in removed) == sorted(names[3:-1])
    assert left == sorted([*names[:3], current, "notes", f"{99:020x}"])
    assert (outside / "keep.txt").exists()


# ----- 4. a damaged cache entry is discarded and rebuilt, with one warning ---------------------
PLAIN = """import numba

from ._jit import CACHE


@numba.njit(cache=CACHE)
def twice(x):
    return 2.0 * x


def probe():
    if twice(1.5) != 3.0:
        raise RuntimeError("wrong")
"""


def damage(root: Path) -> list[Path]:
    """Truncate two cache indexes and fill one data file with garbage, under ``root``."""
    hurt = []
    for pattern, how in [("order_loop.shuffle_by-*.nbi", "half"), ("_jit._probe-*.nbc", "junk"),
                         ("plain_loop.twice-*.nbi", "ten")]:
        found = sorted(root.rglob(pattern))
        assert found, pattern
        for path in found:
            data = path.read_bytes()
            path.write_bytes({"half": data[: len(data) // 2], "ten": data[:10],
                              "junk": os.urandom(len(data))}[how])
            hurt.append(path)
    return hurt


@needs_numba
def test_a_damaged_cache_entry_is_rebuilt_once_with_one_warning(tmp_path):
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "descent", ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "descent" / "kernels" / "plain_loop.py").write_text(PLAIN)
    env = {"PYTHONPATH": str(copy), "DESCENT_JIT": "1", "NUMBA_CACHE_DIR": None,
           "XDG_CACHE_HOME": str(tmp_path / "xdg"), "PYTHONDONTWRITEBYTECODE": "1"}
    filled, stderr = shuffle_child(env, extra=True)
    assert filled["cache"] and filled["extra"] and WARNING not in stderr
    damage(tmp_path)
    rebuilt, stderr = shuffle_child(env, extra=True)
    assert stderr.count(WARNING) == 1, stderr
    assert "damaged" in stderr and "rebuilt" in stderr
    assert rebuilt["compiled"] and rebuilt["extra"] and rebuilt["helpers"]
    assert rebuilt["order"] == expected_order()
    for name in ("shuffle_by", "_probe"):  # loaded from nothing: compiled afresh
        assert rebuilt["counts"][name] == [0, 1], (name, rebuilt["counts"])
    # The next process starts warm from the rebuilt entries, with nothing to say.
    warm, stderr = shuffle_child(env, extra=True)
    assert WARNING not in stderr
    for name, (hits, misses) in warm["counts"].items():
        assert hits > 0 and misses == 0, (name, warm["counts"])
