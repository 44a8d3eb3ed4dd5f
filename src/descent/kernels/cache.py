"""Where the compiled kernels are cached, and whether that folder can be trusted.

Numba's cache index is a pickle, and its data files hold machine code: whoever can write
the folder can run code as whoever imports descent. So the folder must be the user's own,
and the cache is keyed by what the machine code was built from. This module decides both
and imports no Numba (``_jit`` applies its choice):

- candidates, in order: ``NUMBA_CACHE_DIR`` when the user sets it, the per-user cache
  (``$XDG_CACHE_HOME/descent/numba``, else ``~/.cache/descent/numba``), then
  ``<temp dir>/descent-numba-<user id>``. A folder that cannot be created or written is
  skipped quietly; missing folders are created with mode 0700.
- a folder that exists but is a symbolic link, is not owned by the user, or can be
  written by the group or others is refused: the cache is off for the process and one
  ``KernelCacheWarning`` names the folder and the fix (pip treats its own cache the same
  way). The package's ``__pycache__`` is never a candidate: an install can be shared.
- inside the chosen root, the kernels live in ``<root>/<key>/``, the key a hash of every
  ``.py`` file of ``descent.kernels`` and of the Python, Numba, llvmlite and NumPy versions
  (and which of the two opaque-helper paths is built). Numba alone checks only the time
  stamp of the file a kernel is defined in, so an edited helper in another file would run
  as stale machine code. Old key folders beyond the newest few are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

KEY_LENGTH = 20  # hex digits of the SHA-256 kept in a key folder's name
KEEP = 8  # key folders kept in a root (the one in use and the most recently used others)
PORTABLE = "DESCENT_JIT_PORTABLE"
_ON = ("1", "true", "yes", "on")
HERE = Path(__file__).resolve().parent


class KernelCacheWarning(RuntimeWarning):
    """The compiled-kernel cache was refused, or found damaged and rebuilt."""


class UnsafeFolder(Exception):
    """A cache folder that someone other than the user could have written."""


class Choice(NamedTuple):
    """The cache chosen: ``reason`` ("NUMBA_CACHE_DIR", "user", "temp" or "off"), the
    ``root`` folder, the key ``folder`` Numba writes to (None when off), and ``why`` off."""

    reason: str
    root: Path | None
    folder: Path | None
    why: str = ""


def portable_requested(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``DESCENT_JIT_PORTABLE`` asks for the portable kernels (no inline assembly).

    Example:
        >>> portable_requested({"DESCENT_JIT_PORTABLE": "1"}), portable_requested({})
        (True, False)
    """
    environ = os.environ if environ is None else environ
    return environ.get(PORTABLE, "").strip().lower() in _ON


def inline_asm_allowed(triple: str) -> bool:
    """Whether the x86 inline assembly of the opaque helper may be emitted for this LLVM
    target triple: x86-64 only. Elsewhere LLVM aborts the process on its "=x" constraint.

    Example:
        >>> inline_asm_allowed("x86_64-unknown-linux-gnu"), inline_asm_allowed("arm64-apple-darwin")
        (True, False)
    """
    return triple.split("-", 1)[0].lower() in ("x86_64", "amd64")


def candidates(environ: Mapping[str, str] | None = None) -> list[tuple[str, Path]]:
    """The cache roots to try, in order, each with the reason it is tried."""
    environ = os.environ if environ is None else environ
    found = []
    if environ.get("NUMBA_CACHE_DIR"):
        found.append(("NUMBA_CACHE_DIR", Path(environ["NUMBA_CACHE_DIR"])))
    home = environ.get("XDG_CACHE_HOME") or os.path.join(
        environ.get("HOME") or os.path.expanduser("~"), ".cache")
    found.append(("user", Path(home) / "descent" / "numba"))
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    temp = environ.get("TMPDIR") or tempfile.gettempdir()
    found.append(("temp", Path(temp) / f"descent-numba-{uid}"))
    return found


def problem(folder: Path) -> str | None:
    """Why ``folder`` may not hold compiled code, or None when only its owner can write it.

    ``os.lstat``: a symbolic link is refused, not followed (it could be swapped later).
    """
    try:
        info = os.lstat(folder)
    except OSError as err:
        return f"cannot be examined ({err.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link"
    if not stat.S_ISDIR(info.st_mode):
        return "is not a folder"
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return f"is owned by user id {info.st_uid}, not by you (user id {os.geteuid()})"
    if os.name == "posix" and info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"can be written by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def _make_private(folder: Path, parents: bool) -> None:
    """Create ``folder`` (and its missing parents when ``parents``) with mode 0700."""
    missing = []
    for level in (folder, *folder.parents) if parents else (folder,):
        if os.path.lexists(level):
            break
        missing.append(level)
    for level in reversed(missing):
        try:
            os.mkdir(level, 0o700)
        except FileExistsError:  # another process made it first: checked below like any other
            pass


def _checked(folder: Path) -> Path:
    reason = problem(folder)
    if reason is not None:
        # The user's own folder can be closed; another's, or a link, only removed.
        fix = (f"make it yours alone (chmod 700 {folder})" if reason.startswith("can be")
               else f"remove {folder}")
        raise UnsafeFolder(f"{folder} {reason}", fix)
    return folder


def prepare(root: Path, key: str, parents: bool = True) -> Path:
    """``root/key``, created private, checked and writable; OSError when it cannot be made
    or written (try the next root), ``UnsafeFolder`` when it must not be used at all."""
    _make_private(root, parents)
    folder = _checked(root) / key
    _make_private(folder, parents=False)
    _checked(folder)
    with tempfile.TemporaryFile(dir=folder):
        pass
    os.utime(folder)  # its time is its last use: prune() keeps the recently used ones
    return folder


def choose(key: str, environ: Mapping[str, str] | None = None) -> Choice:
    """The first usable root's key folder; off, with the reason, when a root is unsafe
    (then ``warnings.warn`` once) or none can be written."""
    tried = []
    for reason, root in candidates(environ):
        try:
            folder = prepare(root, key, parents=reason != "temp")
        except UnsafeFolder as err:
            unsafe, fix = err.args
            why = f"{unsafe}; code loaded from it could run as you"
            warnings.warn(f"descent: compiled kernels are not cached: {why}. To cache them, "
                          f"{fix}, or set NUMBA_CACHE_DIR to a folder only you can write.",
                          KernelCacheWarning, stacklevel=2)
            return Choice("off", None, None, why)
        except OSError as err:
            tried.append(f"{root} ({err.strerror or err})")
            continue
        return Choice(reason, root, folder)
    return Choice("off", None, None, "no folder can be written: " + ", ".join(tried))


def sources(kernel_dir: Path = HERE) -> list[Path]:
    """The files the compiled code is built from: every ``.py`` file of the kernels package.

    The kernels import no compiled code from the rest of descent; a kernel that ever does
    must add that file here.
    """
    return sorted(kernel_dir.glob("*.py"))


def source_key(kernel_dir: Path, versions: Mapping[str, str]) -> str:
    """A hex key of the kernel sources in ``kernel_dir`` and of ``versions``: any edit to a
    source, or another version, gives another key (and so another cache folder)."""
    digest = hashlib.sha256(b"descent kernel cache 1\n")
    for name, value in sorted(versions.items()):
        digest.update(f"{name}={value}\n".encode())
    for path in sources(kernel_dir):
        data = path.read_bytes()
        digest.update(f"{path.name} {len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()[:KEY_LENGTH]


def is_key_name(name: str) -> bool:
    """Whether ``name`` looks like a key folder's (and so may be pruned)."""
    return len(name) == KEY_LENGTH and all(c in "0123456789abcdef" for c in name)


def prune(root: Path, current: str, keep: int = KEEP) -> list[Path]:
    """Remove key folders of ``root`` beyond the ``keep`` most recently used (``current``
    always kept). Only real folders named like a key and owned by the user are touched,
    never a link; a folder that cannot be removed is left. Returns those removed."""
    found = []
    for entry in os.scandir(root):
        if entry.name == current or not is_key_name(entry.name):
            continue
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode) and (not hasattr(os, "geteuid")
                                            or info.st_uid == os.geteuid()):
            found.append((info.st_mtime, Path(entry.path)))
    found.sort(reverse=True)
    removed = []
    for _, folder in found[max(keep - 1, 0):]:
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            removed.append(folder)
    return removed


def discard(folder: Path, pattern: str = "*") -> None:
    """Remove the cache files matching ``pattern`` anywhere under ``folder`` (the key folder)."""
    for path in folder.rglob(pattern):
        if path.is_file() and not path.is_symlink():
            try:
                path.unlink()
            except OSError:  # already gone, or held by another process: rewritten later
                pass
