"""Numba when it can run: a trusted, keyed cache folder, the decorators, five LLVM helpers.

Importing this module imports Numba, so only ``descent.kernels.load`` (and ``compiled``)
does it, inside a ``try``: a missing or broken Numba leaves the NumPy path in charge.

The cache folder is chosen here, before anything is compiled (``descent.kernels.cache``
says how): ``NUMBA_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/descent/numba``
(``~/.cache/descent/numba``), else ``<temp dir>/descent-numba-<user id>``; only a folder
the user alone owns and can write, created 0700, and inside it ``<key>/``, the key a hash
of the kernel sources and the compiler versions. A folder someone else could write turns
the cache off with one ``KernelCacheWarning``; with no writable folder the kernels still
compile, each new process anew. ``CACHE_REASON``, ``CACHE_FOLDER`` and ``CACHE_WHY`` say
what was chosen.

A kernel made by ``jit()`` or ``njit(cache=True)`` loads from that folder only; an entry
that fails to load (a truncated or garbage index or data file) is deleted, recompiled and
saved again, with one ``KernelCacheWarning`` per process.

The opaque helper is x86 inline assembly: it is built only when LLVM targets x86-64 and
``DESCENT_JIT_PORTABLE`` is not set (read at import); elsewhere LLVM would abort the
process, so a plain identity serves, with the same results.

Every kernel takes its sizes, flags and dtypes as arguments: a kernel that reads a
module global is compiled with the value frozen in, and Numba will not cache it.
"""

from __future__ import annotations

import glob
import logging
import math
import os
import sys
import warnings
from pathlib import Path

import llvmlite
import numba
import numpy as np
from llvmlite import binding, ir
from numba import types
from numba.core import caching
from numba.extending import intrinsic

from . import cache as _cache
from .cache import KernelCacheWarning

HERE = Path(__file__).resolve().parent
logger = logging.getLogger("descent")

# No "nnan"/"ninf": the loops must see NaN and infinity to report divergence. "reassoc"
# lets LLVM vectorise sums (a different, fixed summation order: same bits every run on
# one machine), "contract" fuses multiply-adds.
FASTMATH = frozenset({"reassoc", "contract", "nsz"})

# The target LLVM compiles for; inline assembly only where it is x86-64 (and not switched off).
TARGET = binding.get_process_triple()
ASSEMBLY = _cache.inline_asm_allowed(TARGET) and not _cache.portable_requested()


def versions() -> dict[str, str]:
    """What the machine code depends on besides the sources: part of the cache key."""
    return {"python": f"{sys.version} {sys.implementation.cache_tag}",
            "numba": numba.__version__, "llvmlite": llvmlite.__version__,
            "numpy": np.__version__, "target": TARGET,
            "path": "assembly" if ASSEMBLY else "portable"}


def cache_candidates() -> list[tuple[str, Path]]:
    """The cache roots tried, in order, each with the reason it is tried."""
    return _cache.candidates()


def choose_cache() -> tuple[str, Path | None]:
    """Point Numba at the key folder of the first usable root; ``("off", None)`` when
    there is none or a root is unsafe. Prunes old key folders of that root."""
    global CACHE_WHY
    key = _cache.source_key(HERE, versions())
    choice = _cache.choose(key)
    CACHE_WHY = choice.why
    if choice.folder is None:
        return "off", None
    numba.config.CACHE_DIR = str(choice.folder)  # also for kernels made by numba.njit
    try:
        _cache.prune(choice.root, key)
    except OSError:  # pruning is housekeeping: never in the way
        pass
    return choice.reason, choice.folder


CACHE_WHY = ""
CACHE_REASON, CACHE_FOLDER = choose_cache()
CACHE = CACHE_FOLDER is not None
_warned_damage = False


def _damaged(err: BaseException, where: Path, pattern: str) -> None:
    """Delete the cache files of ``where`` matching ``pattern``; warn once a process."""
    global _warned_damage
    _cache.discard(where, pattern)
    if not _warned_damage:
        _warned_damage = True
        warnings.warn(f"descent: a damaged compiled-kernel cache entry in {where} "
                      f"({type(err).__name__}: {err}) was deleted; the kernels are rebuilt "
                      f"and cached again.", KernelCacheWarning, stacklevel=3)
    else:
        logger.info("descent: damaged cache entry in %s deleted (%s)", where, err)


def _cache_frames(err: BaseException):
    """The frames of Numba's cache module that ``err``, or an error it came from, passed."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        trace = err.__traceback__
        while trace is not None:
            if trace.tb_frame.f_code.co_filename.endswith(os.path.join("core", "caching.py")):
                yield trace.tb_frame
            trace = trace.tb_next
        err = err.__cause__ or err.__context__


def _inside(path, folder) -> bool:
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return os.path.commonpath([path, folder]) == folder


def discard_damaged(err: BaseException) -> bool:
    """After ``err`` came from Numba loading a cache index or data file in the key folder
    (for kernels made by plain ``numba.njit``, which load without ``njit``'s guard), delete
    that function's cache files, warn (once a process) and return True; False otherwise."""
    if not CACHE:
        return False
    for frame in _cache_frames(err):
        index = getattr(frame.f_locals.get("self"), "_index_path", None)  # IndexDataCacheFile
        if isinstance(index, str) and index.endswith(".nbi") and _inside(index, CACHE_FOLDER):
            base = os.path.basename(index)[: -len(".nbi")]
            _damaged(err, Path(os.path.dirname(index)), f"{glob.escape(base)}.*")
            return True
    return False


class _TrustedCache(caching.FunctionCache):
    """Numba's cache for one function, in the key folder only; an entry that fails to load
    is deleted and reported as a miss, so the function is compiled and saved afresh."""

    def __init__(self, py_func):
        super().__init__(py_func)
        if not _inside(self.cache_path, CACHE_FOLDER):
            # Numba falls back to other folders (the package's __pycache__) when the
            # chosen one cannot be written: none of them was checked.
            raise RuntimeError(f"Numba chose {self.cache_path}, outside {CACHE_FOLDER}")

    def load_overload(self, sig, target_context):
        try:
            return super().load_overload(sig, target_context)
        except Exception as err:  # any damage: unpickling errors, truncation, bad fields
            base = getattr(getattr(self, "_impl", None), "filename_base", None)
            pattern = f"{glob.escape(base)}.*" if base else "*"
            _damaged(err, Path(self.cache_path), pattern)
            return None


def njit(**options):
    """``numba.njit(**options)`` where ``cache=True`` means descent's checked key folder
    (and nothing when caching is off), and a damaged entry is rebuilt instead of raised.

    Example:
        >>> twice = njit(cache=True)(lambda x: 2 * x)  # lambdas are never cached: no file
        >>> twice(2.0)
        4.0
    """
    cached = bool(options.pop("cache", False)) and CACHE

    def decorate(function):
        dispatcher = numba.njit(**options)(function)
        if cached:
            try:
                dispatcher._cache = _TrustedCache(dispatcher.py_func)  # as enable_caching()
            except Exception as err:  # no file to key it by, or no checked folder: uncached
                logger.info("descent: %s is not cached (%s)", function.__name__, err)
        return dispatcher

    return decorate


def jit():
    """Numba's ``njit`` with descent's settings: cached, NumPy's error model, no bounds checks,
    no GIL, and no reference counting (``_nrt=False``).

    NumPy's error model drops the division-by-zero branch that blocks vectorising. Without
    reference counting a loop may not allocate, but passing arrays to helpers costs
    nothing; with it, each step of a stochastic loop paid a dozen atomic updates.
    """
    return njit(cache=True, fastmath=set(FASTMATH), error_model="numpy", boundscheck=False,
                nogil=True, _nrt=False)


# Small helpers the loops call per row: inlined where they are called (a call per row
# would cost more than the helper), and never compiled on their own.
jit_inline = numba.njit(inline="always", error_model="numpy", fastmath=set(FASTMATH))


# ----- five LLVM helpers, each with a plain fallback -------------------------------------
def _prefetch_to(locality: int):
    """An intrinsic ``(array, offset)`` that hints the CPU to start loading ``array[offset]``
    (LLVM's llvm.prefetch, read): into every cache level (locality 3: x86's prefetcht0)
    or into L2 and below only (locality 2: prefetcht1)."""

    def prefetch_intrinsic(typingctx, array, offset):
        if not isinstance(array, types.Array) or not isinstance(offset, types.Integer):
            return None

        def codegen(context, builder, signature, args):
            ary_type, _ = signature.args
            ary = context.make_array(ary_type)(context, builder, args[0])
            element = builder.gep(ary.data, [args[1]])
            raw = builder.bitcast(element, ir.IntType(8).as_pointer())
            fn_type = ir.FunctionType(ir.VoidType(), [raw.type, ir.IntType(32), ir.IntType(32),
                                                      ir.IntType(32)])
            fn = builder.module.declare_intrinsic("llvm.prefetch", [raw.type], fn_type)
            builder.call(fn, [raw, ir.Constant(ir.IntType(32), 0),
                              ir.Constant(ir.IntType(32), locality),
                              ir.Constant(ir.IntType(32), 1)])
            return context.get_dummy_value()

        return types.void(array, offset), codegen

    prefetch_intrinsic.__name__ = prefetch_intrinsic.__qualname__ = f"_prefetch_{locality}"
    return intrinsic(prefetch_intrinsic)


_prefetch_intrinsic = _prefetch_to(3)
# A stream read once per pass goes to L2 only (the block being worked on is what L1
# holds): on the 2-core machine here the streaming pass took 2-5% less time with L2
# prefetches than with the same ones into L1.
_prefetch_l2_intrinsic = _prefetch_to(2)


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """Reinterpret an int64's bits as a float64."""
    if not isinstance(bits, types.Integer) or bits.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(bits), codegen


@intrinsic
def _opaque_intrinsic(typingctx, x):
    """x, unchanged, through an empty inline-assembly block the optimizer cannot see into
    (x86-64 only: "=x" names an SSE register).

    With "reassoc", LLVM rewrites (c / s) * x[j] as (c * x[j]) / s: a division per
    element of a loop instead of one before it. Passing c / s through here keeps it one.
    """
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        return None

    def codegen(context, builder, signature, args):
        fn_type = ir.FunctionType(ir.DoubleType(), [ir.DoubleType()])
        return builder.call(ir.InlineAsm(fn_type, "", "=x,0"), [args[0]])

    return types.float64(x), codegen


@intrinsic
def _zero_of_intrinsic(typingctx, array):
    """0 in ``array``'s dtype: a float32 sum started from it stays in float32 (a 0.0
    literal is a float64, and would turn the whole sum into float64)."""
    if not isinstance(array, types.Array):
        return None

    def codegen(context, builder, signature, args):
        return context.get_constant(signature.return_type, 0)

    return array.dtype(array), codegen


@numba.njit(inline="always")
def _pow2_bits(k):
    """2.0 ** k for an integer k in [-1022, 1023], built from its exponent bits."""
    return _int64_bits_as_float64((k + 1023) << 52)


@numba.njit(inline="always")
def _pow2_call(k):
    return math.ldexp(1.0, k)


@numba.njit(inline="always")
def _no_prefetch(array, offset):
    pass


@numba.njit(inline="always")
def _identity(x):
    return float(x)


@numba.njit(inline="always")
def _float_zero(array):
    return 0.0


@njit(cache=True)
def _probe(a):
    _prefetch_intrinsic(a, 1)
    _prefetch_l2_intrinsic(a, 2)
    return _pow2_bits(np.int64(3)) + _pow2_bits(np.int64(-2)) + _zero_of_intrinsic(a)


@njit(cache=True)
def _probe_opaque(x):
    return _opaque_intrinsic(x)


def _works(probe, argument, expected) -> bool:
    """Compile and run a probe of helpers once; a failure selects their plain fallbacks."""
    try:
        return probe(argument) == expected
    except Exception:  # an LLVM or Numba change, another CPU: fall back, never fail
        return False


HELPERS = _works(_probe, np.zeros(4), 8.25)
# x86 inline assembly: never even compiled elsewhere (LLVM aborts, no except can catch it).
OPAQUE = ASSEMBLY and _works(_probe_opaque, 0.25, 0.25)
prefetch = _prefetch_intrinsic if HELPERS else _no_prefetch
prefetch_l2 = _prefetch_l2_intrinsic if HELPERS else _no_prefetch
pow2 = _pow2_bits if HELPERS else _pow2_call
zero_of = _zero_of_intrinsic if HELPERS else _float_zero
opaque = _opaque_intrinsic if OPAQUE else _identity
