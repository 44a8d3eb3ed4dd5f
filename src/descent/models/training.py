"""The one training loop every estimator shares: epochs of (mini-)batches.

An objective gives the loss and its gradients for a batch; the loop draws batches,
asks the optimizer for updates, applies them, keeps the L1 penalty from crossing
zero, and writes what happened into the history. It knows nothing about models.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..divergence import DivergenceError, has_diverged, smaller_rate
from ..kernels.order import shuffled_order
from ..penalties import clip_l1_crossings
from .history import History

logger = logging.getLogger("descent")


class Objective(Protocol):
    """What the loop needs from a model: the mean batch loss and its gradients."""

    penalty: str | None
    penalized: Sequence[bool]

    def loss_and_grads(self, params, X, Y, sw) -> tuple[float, list[np.ndarray]]: ...

    def loss(self, params, X, Y, sw) -> float: ...


@dataclass
class Run:
    """Where a call to ``train`` ended, and why (``History.stopped``'s words).

    ``partial_steps`` counts the steps taken in an epoch cut short by Ctrl-C: they are in
    the parameters, not in ``epochs`` or the history.
    """

    params: list[np.ndarray]
    opt_state: object
    epochs: int
    steps: int
    stopped: str = "max_epochs"
    partial_steps: int = 0


def _batches(n: int, batch_size: int | None, order: np.ndarray | None):
    size = n if batch_size is None else min(batch_size, n)
    for start in range(0, n, size):
        stop = min(start + size, n)
        yield (slice(start, stop) if order is None else order[start:stop])


class _Gather:
    """Copies the rows of a shuffled batch into buffers it reuses: no hidden copy of X."""

    def __init__(self, arrays: Sequence[np.ndarray], batch: int):
        self.arrays = arrays
        self.buffers = [np.empty((batch, *a.shape[1:]), dtype=a.dtype) for a in arrays]

    def __call__(self, index):
        if isinstance(index, slice):
            return [a[index] for a in self.arrays]
        m = len(index)
        # mode="clip" (the indices are valid anyway): with the default "raise" NumPy
        # buffers the output, which costs as much as the gather itself.
        return [np.take(a, index, axis=0, out=buf[:m], mode="clip")
                for a, buf in zip(self.arrays, self.buffers, strict=True)]


def _norm(grads: list[np.ndarray]) -> float:
    return math.sqrt(sum(float(np.vdot(g, g)) for g in grads))


@dataclass
class EpochResult:
    """One epoch's outcome, whichever loop ran it (NumPy, compiled, or a network's own)."""

    params: list[np.ndarray]
    opt_state: object
    steps: int
    total: float  # sum over batches of batch loss x batch weight
    grads: list[np.ndarray]  # the last batch's gradient
    first_loss: float | None
    diverged: float | None = None  # the batch loss that stopped the epoch
    interrupted: bool = False  # a stop was asked for: the epoch ended after ``steps`` steps


def _batch_epoch(loss_and_grads, objective, params, opt_state, optimizer, n, batch_size,
                 order, first_loss, record_path, stop=None) -> EpochResult:
    """One epoch, a step per batch, in Python: the reference every other path must match.

    ``loss_and_grads(params, index)`` gives the batch's objective, gradients and weight.
    ``stop()`` true after a step (Ctrl-C) ends the epoch there, marked ``interrupted``.
    """
    total, grads, steps = 0.0, [], 0
    for index in _batches(n, batch_size, order):
        if steps and stop is not None and stop():  # before a step, so never after the last
            return EpochResult(params, opt_state, steps, total, grads, first_loss,
                               interrupted=True)
        value, grads, weight = loss_and_grads(params, index)
        if first_loss is None:
            first_loss = value
        if has_diverged(value, first_loss):
            return EpochResult(params, opt_state, steps, total, grads, first_loss, diverged=value)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        new = [p + u for p, u in zip(params, updates, strict=True)]
        if objective.penalty in ("l1", "elasticnet"):
            for i, penalized in enumerate(objective.penalized):
                if penalized:
                    clip_l1_crossings(params[i], new[i], objective.penalty)
        params = new
        steps += 1
        total += value * weight
        if record_path is not None:
            record_path(params)
    return EpochResult(params, opt_state, steps, total, grads, first_loss)


def _numpy_batches(objective, X, Y, sw, batch_size):
    """``loss_and_grads(params, index)`` on rows gathered into reused buffers."""
    arrays = [X, Y] if sw is None else [X, Y, sw]
    gather = _Gather(arrays, X.shape[0] if batch_size is None else min(batch_size, X.shape[0]))

    def loss_and_grads(params, index):
        batch = gather(index)
        swb = batch[2] if sw is not None else None
        value, grads = objective.loss_and_grads(params, batch[0], batch[1], swb)
        return value, grads, (len(batch[0]) if swb is None else float(swb.sum()))

    return loss_and_grads


def _compiled_runner(objective, params, X, Y, sw, batch_size, opt_state):
    """The compiled loops for this fit (descent.kernels), or None to run NumPy."""
    compiled = getattr(objective, "compiled", None)
    if compiled is None:
        return None
    return compiled(params, X, Y, sw, batch_size, opt_state)


def train(
    objective: Objective,
    params: list[np.ndarray],
    X: np.ndarray,
    Y: np.ndarray,
    sw: np.ndarray | None,
    *,
    optimizer,
    opt_state,
    learning_rate_at: Callable[[int], float],
    epochs: int,
    batch_size: int | None,
    shuffle: bool,
    rng: np.random.Generator,
    tol: float | None,
    n_iter_no_change: int,
    history: History,
    validation: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
    callbacks: Sequence[Callable] = (),
    estimator=None,
    record_path: Callable[[list[np.ndarray]], None] | None = None,
    step_offset: int = 0,
    started: float | None = None,
    rows: np.ndarray | None = None,
    stop: Callable[[], bool] | None = None,
) -> Run:
    """Run up to ``epochs`` passes over (X, Y); return the parameters reached.

    Stops early when the monitored loss (validation loss if ``validation`` is given,
    else training loss) has not improved by ``tol`` for ``n_iter_no_change`` epochs;
    with validation the best parameters seen are returned. Raises ``DivergenceError``
    (with ``.params``, the last finite parameters) when a batch loss is non-finite or
    explodes.

    When the objective offers compiled loops (``objective.compiled``, see
    descent.kernels) they read the data instead of NumPy: a whole epoch at a time for
    small batches, or one parallel pass a step for large ones. Everything per epoch
    below (history, callbacks, early stopping, divergence) is shared by both.

    ``rows`` (row numbers, in the order an unshuffled epoch takes them) trains on those
    rows of X alone, read in place: how early stopping holds rows out without copying X.

    ``stop()`` (``interrupt.StopRequest``: a first Ctrl-C) is asked between steps where
    Python takes them, else between epochs: a true answer ends the run with what it has
    (``Run.stopped == "interrupted"``). Any other exception but ``DivergenceError`` leaves
    the history at the last complete epoch and carries that epoch's ``Run`` as
    ``err.kept``.
    """
    n = X.shape[0] if rows is None else len(rows)
    if rows is not None:  # the loops see a batch size, never "all of X"
        batch_size = n if batch_size is None else min(batch_size, n)
    started = time.perf_counter() if started is None else started
    runner = _compiled_runner(objective, params, X, Y, sw, batch_size, opt_state)
    if runner is None:
        loss_and_grads = _numpy_batches(objective, X, Y, sw, batch_size)
    else:
        loss_and_grads = runner.loss_and_grads
    # the epoch's mean loss divides by this: the rows trained on, or their weights
    weight = n if sw is None else float(sw.sum() if rows is None else sw[rows].sum())
    steps = step_offset
    best, best_params, stale = math.inf, None, 0
    first_loss = None
    epoch_offset = history.epoch[-1] if history.epoch else 0
    # The last complete epoch: what a second Ctrl-C (or an error in a callback) leaves.
    kept = Run(params=params, opt_state=opt_state, epochs=0, steps=steps, stopped="interrupted")
    mark = history.mark()
    stopped, epoch = "max_epochs", 0
    try:
        for epoch in range(1, epochs + 1):
            order = shuffled_order(rng, n) \
                if shuffle and (batch_size is not None and batch_size < n) else None
            if rows is not None:
                order = rows if order is None else rows[order]
            if runner is not None and runner.whole_epoch:
                done = runner.epoch(params, opt_state, order, first_loss, record_path, stop)
            else:
                done = _batch_epoch(loss_and_grads, objective, params, opt_state, optimizer, n,
                                    batch_size, order, first_loss, record_path, stop=stop)
            params, opt_state, first_loss = done.params, done.opt_state, done.first_loss
            if done.diverged is not None:
                err = DivergenceError(
                    f"training diverged at epoch {epoch_offset + epoch}: the loss went from "
                    f"{first_loss:.4g} to {done.diverged:.4g} with learning_rate="
                    f"{learning_rate_at(0):g}; try a smaller one, e.g. "
                    f"{smaller_rate(learning_rate_at(0))}"
                )
                err.params, err.epochs = params, epoch - 1  # the epochs completed before
                raise err
            steps += done.steps
            if done.interrupted:  # Ctrl-C mid-epoch: its steps are kept, not recorded
                params = best_params if best_params is not None else params
                return Run(params=params, opt_state=opt_state, epochs=epoch - 1, steps=steps,
                           stopped="interrupted", partial_steps=done.steps)
            grad_norm = _norm(done.grads)  # the epoch's last batch: one norm an epoch
            epoch_loss = done.total / weight
            val_loss = None
            if validation is not None:
                val_loss = objective.loss(params, *validation)
            history.add(
                epoch=epoch_offset + epoch, loss=epoch_loss, val_loss=val_loss,
                grad_norm=grad_norm, learning_rate=learning_rate_at(max(steps - 1, 0)),
                time=time.perf_counter() - started,
            )
            mark = history.mark()
            kept = Run(params=params, opt_state=opt_state, epochs=epoch, steps=steps,
                       stopped="interrupted")
            logger.info(
                "epoch %d: loss %.6g%s", epoch_offset + epoch, epoch_loss,
                "" if val_loss is None else f", validation loss {val_loss:.6g}",
            )
            logs = {"epoch": epoch_offset + epoch, "loss": epoch_loss, "val_loss": val_loss}
            if any(cb(estimator, epoch_offset + epoch, logs) for cb in callbacks):
                stopped = "callback"
                break
            monitored = epoch_loss if val_loss is None else val_loss
            if tol is not None:
                if monitored < best - tol:
                    stale = 0
                else:
                    stale += 1
                if monitored < best:
                    best = monitored
                    if validation is not None:
                        best_params = [p.copy() for p in params]
                        kept.params = best_params
                if stale >= n_iter_no_change:
                    stopped = "converged" if validation is None else "early_stopping"
                    break
            if stop is not None and stop():
                stopped = "interrupted"
                break
    except DivergenceError:
        raise
    except BaseException as err:  # a second Ctrl-C, or a callback's error: back to the
        # last complete epoch, which the caller keeps (``err.kept``)
        history.rewind(mark)
        if best_params is not None:
            kept.params = best_params
        err.kept = kept
        raise
    if best_params is not None:
        params = best_params
    return Run(params=params, opt_state=opt_state, epochs=epoch, steps=steps, stopped=stopped)
