"""Compiled kernels for the hot loops, used by default wherever they apply.

The estimators ask ``load()`` for the compiled module at fit time, never at import, so
``import descent`` does not import Numba. ``load()`` returns None, and the NumPy path
(the reference) runs instead, when:

- the environment sets ``DESCENT_JIT=0`` (read at every fit, so it can be flipped);
- Numba is not installed, fails to import, or cannot compile the kernels here.

Both paths give the same parameters to rounding (tested to 1e-10 in float64).

Compiled code is cached on disk only in a folder the user alone can write, keyed by the
kernel sources and the compiler versions (``cache`` says which folder and why; an unsafe
folder turns the cache off with one ``KernelCacheWarning``), and a damaged cache entry is
deleted and rebuilt. ``DESCENT_JIT_PORTABLE=1`` builds the kernels without the x86 inline
assembly (the default off x86-64). ``describe()`` reports all of this in one line.

The modules: ``cache`` (the cache folder: trusted, keyed, pruned; no Numba), ``_jit``
(Numba's settings, the decorators and the LLVM helpers), ``pointwise`` (the losses one
point at a time), ``passes`` (one pass over rows: losses and gradient), ``linear`` (the
loops the training loop calls: a whole epoch, a chunked pass), ``runner`` (the Python
side that hands the training loop's state to the loops and back), ``rates``
(learning-rate schedules as arrays), ``stats`` (the fit's set-up pass: scaling and the
check for NaN and infinity), ``order`` (each epoch's shuffled order of rows) and
``network`` (the elementwise passes and Adam step of the MLPs).
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import numpy as np

from .cache import KernelCacheWarning

__all__ = ["KernelCacheWarning", "compiled", "describe", "enabled", "load", "ready"]

logger = logging.getLogger("descent")

SWITCH = "DESCENT_JIT"
_OFF = ("0", "false", "no", "off")
_loaded: dict[str, object] = {}


def enabled() -> bool:
    """False when the environment variable ``DESCENT_JIT`` turns the kernels off."""
    return os.environ.get(SWITCH, "1").strip().lower() not in _OFF


def load():
    """The compiled linear kernels (``descent.kernels.linear``), or None where they cannot run.

    The first call imports Numba; a failure is logged once and the NumPy path takes over
    for good. ``ready(dtype)`` then compiles (or loads from the disk cache) the loops.
    """
    if not enabled():
        return None
    if "module" not in _loaded:
        try:
            from . import linear
        except Exception as err:  # Numba missing or broken: the NumPy path serves
            _loaded["module"] = None
            _loaded["reason"] = f"{type(err).__name__}: {err}"
            logger.info("descent: compiled kernels unavailable (%s); using NumPy",
                        _loaded["reason"])
        else:
            _loaded["module"] = linear
    return _loaded["module"]


def ready(dtype):
    """``load()``, once the loops for ``dtype`` have compiled; None if they cannot.

    Compiling happens here, on a tiny problem, before any training state is touched, so
    a compiler failure costs nothing but the fall back to NumPy.
    """
    module = load()
    if module is None:
        return None
    key = f"ready-{dtype}"
    if key not in _loaded:
        try:
            _probe(module, dtype)
        except Exception as err:  # a compiler failure: NumPy for this dtype from now on
            _loaded[key] = False
            logger.warning("descent: compiled kernels failed to compile for %s (%s: %s); "
                           "using NumPy", dtype, type(err).__name__, err)
        else:
            _loaded[key] = True
    return module if _loaded[key] else None


def _probe(module, dtype) -> None:
    """``module.probe(dtype)`` (``probe()`` without a dtype); once more when it failed while
    Numba loaded its disk cache, after that damaged entry is deleted (one warning)."""
    def run():
        module.probe() if dtype is None else module.probe(dtype)

    try:
        run()
    except Exception as err:
        jit = sys.modules.get(f"{__name__}._jit")
        if jit is None or not jit.discard_damaged(err):
            raise
        run()


def compiled(name: str, dtype=None):
    """The compiled module ``descent.kernels.<name>``, probed once; None where it cannot run.

    The first call for a (name, dtype) imports the module (and so Numba) and runs its
    ``probe(dtype)`` (``probe()`` without a dtype), which compiles its loops or loads them
    from the disk cache on a tiny problem; a failure is logged once and the caller's
    NumPy (or Python) path serves from then on. ``DESCENT_JIT=0`` is read at every call.

    Example:
        >>> module = compiled("order_loop")  # None when DESCENT_JIT=0 or Numba is missing
        >>> module is None or hasattr(module, "shuffle_by")
        True
    """
    if not enabled():
        return None
    key = f"{name}-{'' if dtype is None else np.dtype(dtype)}"
    if key not in _loaded:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
            _probe(module, dtype)
        except Exception as err:  # Numba missing, broken or failing: the fallback serves
            _loaded[key] = None
            logger.info("descent: compiled %s unavailable%s (%s: %s); using the fallback",
                        name, "" if dtype is None else f" for {np.dtype(dtype)}",
                        type(err).__name__, err)
        else:
            _loaded[key] = module
    return _loaded[key]


def describe() -> str:
    """One line: whether the kernels run here, which helpers they use, and the folder Numba
    caches them in or why they are not cached."""
    if not enabled():
        return f"compiled kernels off ({SWITCH}=0)"
    module = load()
    if module is None:
        return f"compiled kernels unavailable: {_loaded.get('reason')}"
    import numba

    from . import _jit

    helpers = "x86-64 assembly helper" if _jit.OPAQUE else "portable helpers"
    where = f"cache: {_jit.CACHE_FOLDER}" if _jit.CACHE else f"not cached: {_jit.CACHE_WHY}"
    return (f"compiled kernels on (Numba {numba.__version__}, {numba.get_num_threads()} "
            f"threads, {helpers}, {where})")
