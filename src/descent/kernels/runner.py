"""The Python side of the compiled loops: when they apply, and the hand-over both ways.

The training loop stays the one in ``descent.models.training``; a ``LinearRunner``
replaces the part of it that touches the data:

- large batches (``batch rows x features >= PARALLEL_WORK``, a full batch included):
  ``loss_and_grads`` reads the batch's rows in one parallel pass, and the loop goes on
  as before (optimizer, L1 clipping, path, divergence check, all in NumPy);
- small batches: ``epoch`` runs the whole epoch compiled, optimizer step included, and
  hands back what the NumPy loop would have built: the parameters, the optimizer state
  (the same NamedTuples, so ``partial_fit``, warm starts and saved models carry on
  either way), the summed loss, the last gradient and the recorded path.

Nothing here imports Numba; ``descent.kernels.ready`` does, on first use.
"""

from __future__ import annotations

import inspect
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np

from ..models.training import EpochResult
from ..optim import named
from ..optim.transforms import (
    AdagradState,
    AdamState,
    RmsState,
    ScaleByLearningRateState,
    TraceState,
)
from ..penalties import _l1_share
from . import ready

# The codes of descent.kernels.pointwise; this module never imports Numba itself.
LOSS_CODES = {"squared_error": 0, "absolute_error": 1, "perceptron": 2, "log_loss": 3,
              "hinge": 4}
OPTIMIZER_CODES = {"gd": 0, "momentum": 1, "nesterov": 2, "adagrad": 3, "rmsprop": 4, "adam": 5}
# Each named optimizer's first state: its type, and the fields the compiled loop keeps
# in its two state rows.
_BLOCKS = {"momentum": (TraceState, ("velocity",)), "nesterov": (TraceState, ("velocity",)),
           "adagrad": (AdagradState, ("grad_sq_sum",)), "rmsprop": (RmsState, ("grad_sq_avg",)),
           "adam": (AdamState, ("grad_avg", "grad_sq_avg"))}
# The hyperparameter each optimizer's code reads as (decay, b2, eps); defaults from optim.named.
_HYPER = {"gd": (), "momentum": ("beta",), "nesterov": ("beta",),
          "adagrad": (None, None, "eps"), "rmsprop": ("decay", None, "eps"),
          "adam": ("b1", "b2", "eps")}

# A batch of at least this many values (rows x features) is read by one parallel pass a
# step (a step's Python then costs a few percent); smaller ones run whole epochs on one core.
PARALLEL_WORK = 1 << 18
CHUNK = 4096  # rows a chunk of the parallel pass: the unit of work and of summation


def threads() -> int:
    """The cores this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return max(os.cpu_count() or 1, 1)


# One pool per process and size: a child made by fork() inherits the dict but not the
# pool's threads, so it must not reuse the parent's pool.
_pools: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(workers: int) -> ThreadPoolExecutor:
    key = (os.getpid(), workers)
    if key not in _pools:
        _pools[key] = ThreadPoolExecutor(workers, thread_name_prefix="descent-pass")
    return _pools[key]


class _Claims:
    """Chunks 0 .. count - 1 handed out in turn, in shrinking runs ("guided" scheduling).

    A run is a share of what is left (the first ones long: few hand-overs), down to a
    chunk at the end, so a core slowed for a while (by another process, or by its pool
    thread waking late) takes fewer runs and both finish together. Which core sums a
    chunk changes nothing in the result.
    """

    def __init__(self, count: int, workers: int):
        self.next, self.count, self.share = 0, count, 2 * workers
        self.lock = threading.Lock()

    def take(self) -> tuple[int, int] | None:
        with self.lock:
            first = self.next
            if first >= self.count:
                return None
            self.next = min(first + -(-(self.count - first) // self.share), self.count)
            return first, self.next


def run_chunks(count: int, workers: int, run, space=tuple) -> None:
    """``run(first, last, *scratch)`` over runs of chunks 0 .. count - 1, on ``workers`` threads.

    The runs are claimed in shrinking runs (``_Claims``), each a stream of consecutive
    chunks; the calling thread is one of the workers, so it starts at once while the
    pool's threads wake. Each thread makes its own scratch once with ``space()``. The
    loops write one slot per chunk, so the caller's sums in order give the same bits on
    any number of workers.

    Example:
        >>> seen = []
        >>> run_chunks(5, 2, lambda first, last: seen.extend(range(first, last)))
        >>> sorted(seen)
        [0, 1, 2, 3, 4]
    """
    workers = min(workers, count)
    if workers <= 1:
        run(0, count, *space())
        return
    claims = _Claims(count, workers)

    def work():
        scratch = space()
        while (taken := claims.take()) is not None:
            run(*taken, *scratch)

    jobs = [_pool(workers).submit(work) for _ in range(workers - 1)]
    try:
        work()
    finally:  # the pool's threads write into the caller's slots: wait, even on an error
        for job in jobs:
            job.result()


def data_pass(kernels, X, y, sw, idx, lo, hi, w, b, loss, workers=None):
    """Mean loss of rows lo..hi (of ``idx``, when not empty) and its gradient, on all cores.

    Returns (mean loss, d/dw as float64 (p,), d/db, weight total). The rows are cut into
    chunks of ``CHUNK``, each summed on its own, and the chunks' sums are added in order
    afterwards (``run_chunks``): the same bits on any number of workers.
    """
    count = -(-(hi - lo) // CHUNK)
    parts = np.empty((count, X.shape[1]), dtype=X.dtype)
    values, slopes = np.empty(count), np.empty(count)
    total = kernels.weight_total(sw, idx, lo, hi)
    args = (X, y, sw, idx, lo, hi, w, b, loss, 1.0 / total, CHUNK)
    run_chunks(count, threads() if workers is None else workers,
               lambda first, last, *space: kernels.chunks_pass(*args, first, last, parts, values,
                                                              slopes, *space),
               lambda: kernels.scratch(X.shape[1], X.dtype))
    return float(values.sum()), parts.sum(axis=0, dtype=np.float64), float(slopes.sum()), total


@cache  # inspect.signature costs milliseconds: once per optimizer, not once per epoch
def _defaults(name: str) -> tuple[float, ...]:
    defaults = inspect.signature(named.OPTIMIZERS[name]).parameters
    values = [0.0 if key is None else float(defaults[key].default) for key in _HYPER[name]]
    return tuple(values + [0.0] * (3 - len(values)))


def _hyperparameters(name: str) -> np.ndarray:
    """(decay or b1, b2, eps) of the named optimizer, and 2 slots for Adam's corrections."""
    return np.array([*_defaults(name), 1.0, 1.0])


def _state_ok(opt_state, name: str, p: int, dtype) -> bool:
    """True when ``opt_state`` has the layout of ``optim.named``'s ``name`` for [W, b]."""
    if not isinstance(opt_state, tuple) or not opt_state:
        return False
    if not isinstance(opt_state[-1], ScaleByLearningRateState):
        return False
    if name == "gd":
        return len(opt_state) == 1
    kind, fields = _BLOCKS[name]
    if len(opt_state) != 2 or type(opt_state[0]) is not kind:
        return False
    for field in fields:
        pair = getattr(opt_state[0], field)
        if not (isinstance(pair, list | tuple) and len(pair) == 2
                and getattr(pair[0], "shape", None) == (p, 1)
                and getattr(pair[1], "shape", None) == (1,)
                and pair[0].dtype == dtype and pair[1].dtype == dtype):
            return False
    return True


def data_kernels(X, sw):
    """The compiled linear loops for reading X (with weights sw), or None where they cannot:
    X not C-ordered 2-D float32/float64, a zero weight (a batch of zero weights makes the
    NumPy path raise; that is left to it), or no compiled loops here."""
    if X.ndim != 2 or X.dtype not in (np.float32, np.float64) or not X.flags.c_contiguous:
        return None
    if sw is not None and not np.all(sw > 0):
        return None
    return ready(X.dtype)


class LinearRunner:
    """Runs a ``LinearObjective`` with one output on the compiled loops."""

    def __init__(self, kernels, objective, X, y, sw, batch: int):
        self.kernels, self.objective, self.X, self.y = kernels, objective, X, y
        self.sw = np.empty(0, dtype=X.dtype) if sw is None else sw
        self.batch = batch
        self.whole_epoch = batch * X.shape[1] < PARALLEL_WORK
        self.loss = LOSS_CODES[objective.point_loss.name]
        self.optimizer = objective.optimizer.strip().lower()
        self.none = np.empty(0, dtype=X.dtype)
        self.rows = np.empty(0, dtype=np.int64)
        self.scratch = kernels.scratch(X.shape[1], X.dtype)

    @classmethod
    def create(cls, objective, params, X, Y, sw, batch_size, opt_state) -> LinearRunner | None:
        """A runner when the compiled loops can do exactly what the NumPy loop would, else None."""
        optimizer = getattr(objective, "optimizer", None)
        if not (isinstance(optimizer, str) and optimizer.strip().lower() in OPTIMIZER_CODES
                and getattr(objective, "rates", None) is not None):
            return None
        if Y.ndim != 2 or Y.shape[1] != 1 or objective.point_loss.name not in LOSS_CODES:
            return None
        n, p = X.shape
        if len(params) != 2 or params[0].shape != (p, 1) or any(a.dtype != X.dtype for a in params):
            return None
        if not _state_ok(opt_state, optimizer.strip().lower(), p, X.dtype):
            return None
        kernels = data_kernels(X, sw)
        if kernels is None:
            return None
        y = np.ascontiguousarray(Y[:, 0], dtype=X.dtype)
        if sw is not None:
            sw = np.ascontiguousarray(sw, dtype=X.dtype)
        batch = n if batch_size is None else min(batch_size, n)
        return cls(kernels, objective, X, y, sw, batch)

    # ----- large batches: one parallel pass a step -------------------------------------
    def loss_and_grads(self, params, index) -> tuple[float, list[np.ndarray], float]:
        """The batch's objective and gradient, and its weight (rows, or summed weights).

        ``index`` is a slice of rows or an array of row numbers, as the loop draws them.
        """
        W, b = params
        Wr, br = self.objective.raw(W, b)
        if isinstance(index, slice):
            rows, lo, hi = self.rows, index.start, index.stop
        else:
            rows, lo, hi = np.ascontiguousarray(index, dtype=np.int64), 0, len(index)
        value, g, gb, weight = data_pass(
            self.kernels, self.X, self.y, self.sw, rows, lo, hi, np.ascontiguousarray(Wr[:, 0]),
            float(br[0]), self.loss)
        dtype = self.X.dtype
        value, grads = self.objective.finish(W, value, g.astype(dtype)[:, None],
                                             np.array([gb], dtype=dtype))
        return value, grads, weight

    # ----- small batches: the whole epoch compiled --------------------------------------
    def epoch(self, params, opt_state, order, first_loss, record_path, stop=None) -> EpochResult:
        """One epoch over ``order`` (None: rows in turn) from ``params`` and ``opt_state``.

        It runs compiled to the end: a stop request (``stop``) is the loop's to see after.
        """
        obj, X, dtype = self.objective, self.X, self.X.dtype
        n, p = X.shape if order is None else (len(order), X.shape[1])
        W, b = params[0][:, 0].copy(), params[1].copy()
        kind = self.optimizer
        block = opt_state[0] if kind != "gd" else None
        fields = _BLOCKS[kind][1] if block is not None else ()
        state = np.zeros((2, p + 1), dtype=dtype)
        for row, field in enumerate(fields):
            Ws, bs = getattr(block, field)
            state[row, :p], state[row, p] = Ws[:, 0], bs[0]
        count = opt_state[-1].count
        steps = -(-n // self.batch)
        rates = obj.rates(count, steps)
        path = np.empty((steps if record_path is not None else 0, p + 1), dtype=dtype)
        last = np.zeros(p + 1, dtype=dtype)
        l1 = _l1_share(obj.penalty, obj.l1_ratio) if obj.penalty else 0.0
        alpha = float(obj.alpha)
        status, done, total, first, value, adam_count = self.kernels.epoch(
            X, self.y, self.sw, self.rows if order is None else order, self.batch, self.loss,
            W, b, self.none if obj.x_mean is None else obj.x_mean,
            self.none if obj.x_scale is None else obj.x_scale, bool(obj.fit_intercept),
            alpha * l1, alpha * (1.0 - l1), bool(obj.penalty is not None and alpha != 0),
            bool(l1 > 0), obj.penalty in ("l1", "elasticnet"), OPTIMIZER_CODES[kind],
            _hyperparameters(kind), state,
            block.count if isinstance(block, AdamState) else 0, rates,
            first_loss is not None, 0.0 if first_loss is None else float(first_loss), path, last,
            *self.scratch)
        if record_path is not None:
            for row in path[:done]:
                record_path([row[:p, None].copy(), row[p:].copy()])
        new_params = [W[:, None], b]
        if status == 1:
            return EpochResult(new_params, opt_state, done, total, [], first, value)
        pairs = {field: [state[row, :p, None].copy(), state[row, p:].copy()]
                 for row, field in enumerate(fields)}
        new_state = ScaleByLearningRateState(count=count + done)
        if block is None:
            new_opt = (new_state,)
        elif isinstance(block, AdamState):
            new_opt = (AdamState(count=adam_count, **pairs), new_state)
        else:
            new_opt = (type(block)(**pairs), new_state)
        grads = [last[:p, None].copy(), last[p:].copy()]
        return EpochResult(new_params, new_opt, done, total, grads, first, None)
