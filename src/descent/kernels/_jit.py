"""Numba when it can run: a cache folder that works, the decorator, five LLVM helpers.

Importing this module imports Numba, so only ``descent.kernels.load`` does it, inside a
``try``: a missing or broken Numba leaves the NumPy path in charge. The cache folder is
chosen here, before anything is compiled, because Numba raises when a function asks
for ``cache=True`` and no folder it knows about is writable. In order:

1. ``NUMBA_CACHE_DIR``, when it is set and writable;
2. the ``__pycache__`` folder next to the kernels (Numba's own default);
3. ``$XDG_CACHE_HOME/descent/numba`` (``~/.cache/descent/numba``);
4. ``<temp dir>/descent-numba-<user id>``;
5. none: the kernels still compile, each new process anew.

Every kernel takes its sizes, flags and dtypes as arguments: a kernel that reads a
module global is compiled with the value frozen in, and Numba will not cache it.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

HERE = Path(__file__).resolve().parent

# No "nnan"/"ninf": the loops must see NaN and infinity to report divergence. "reassoc"
# lets LLVM vectorise sums (a different, fixed summation order: same bits every run on
# one machine), "contract" fuses multiply-adds.
FASTMATH = frozenset({"reassoc", "contract", "nsz"})


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True


def cache_candidates() -> list[tuple[str, Path]]:
    """The folders tried for Numba's cache, in order, each with the reason it is tried."""
    found = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        found.append(("NUMBA_CACHE_DIR", Path(os.environ["NUMBA_CACHE_DIR"])))
    found.append(("package", HERE / "__pycache__"))
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    found.append(("user", Path(home) / "descent" / "numba"))
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    found.append(("temp", Path(tempfile.gettempdir()) / f"descent-numba-{uid}"))
    return found


def choose_cache() -> tuple[str, Path | None]:
    """Point Numba at the first writable folder; ``("off", None)`` when there is none."""
    for reason, folder in cache_candidates():
        if _writable(folder):
            # The package folder is Numba's in-tree default; an empty CACHE_DIR selects it.
            numba.config.CACHE_DIR = "" if reason == "package" else str(folder)
            return reason, folder
    return "off", None


CACHE_REASON, CACHE_FOLDER = choose_cache()
CACHE = CACHE_FOLDER is not None


def jit():
    """Numba's ``njit`` with descent's settings: cached, NumPy's error model, no bounds checks,
    no GIL, and no reference counting (``_nrt=False``).

    NumPy's error model drops the division-by-zero branch that blocks vectorising. Without
    reference counting a loop may not allocate, but passing arrays to helpers costs
    nothing; with it, each step of a stochastic loop paid a dozen atomic updates.
    """
    return numba.njit(cache=CACHE, fastmath=set(FASTMATH), error_model="numpy",
                      boundscheck=False, nogil=True, _nrt=False)


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
    """x, unchanged, through an empty inline-assembly block the optimizer cannot see into.

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


@numba.njit(cache=CACHE)
def _probe(a):
    _prefetch_intrinsic(a, 1)
    _prefetch_l2_intrinsic(a, 2)
    return _pow2_bits(np.int64(3)) + _pow2_bits(np.int64(-2)) + _zero_of_intrinsic(a)


@numba.njit(cache=CACHE)
def _probe_opaque(x):
    return _opaque_intrinsic(x)


def _works(probe, argument, expected) -> bool:
    """Compile and run a probe of helpers once; a failure selects their plain fallbacks."""
    try:
        return probe(argument) == expected
    except Exception:  # an LLVM or Numba change, another CPU: fall back, never fail
        return False


HELPERS = _works(_probe, np.zeros(4), 8.25)
OPAQUE = _works(_probe_opaque, 0.25, 0.25)  # x86 inline assembly: not on every CPU
prefetch = _prefetch_intrinsic if HELPERS else _no_prefetch
prefetch_l2 = _prefetch_l2_intrinsic if HELPERS else _no_prefetch
pow2 = _pow2_bits if HELPERS else _pow2_call
zero_of = _zero_of_intrinsic if HELPERS else _float_zero
opaque = _opaque_intrinsic if OPAQUE else _identity
