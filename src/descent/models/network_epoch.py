"""A whole epoch of a network in one call: the batches, the backward pass and the steps.

The training loop (``descent.models.training``) lets an objective run whole epochs
itself (``objective.compiled``); a network answers with an ``EpochRunner``. It takes
the loop's steps with what a step needs kept from one step to the next: the batch's
rows are gathered into one buffer, the backward pass writes into a ``Workspace``, and
the parameters, their gradients and Adam's two averages are each one flat vector, so
an Adam step is a dozen array operations for the whole network instead of a dozen per
array. The arithmetic is the loop's, operation for operation, so the same parameters
come out (tested); optimizers other than the named Adam take their own ``update``.
"""

from __future__ import annotations

import inspect

import numpy as np

from .. import optim
from ..divergence import has_diverged
from ..optim import named
from ..optim.transforms import AdamState, ScaleByLearningRateState
from ..penalties import clip_l1_crossings
from .backprop import flat_views, network_kernels
from .training import EpochResult, _batch_epoch, _batches


def _adam_defaults() -> tuple[float, float, float]:
    """The named Adam's b1, b2 and eps: what ``optimizer="adam"`` runs with."""
    defaults = inspect.signature(named.adam).parameters
    return tuple(float(defaults[key].default) for key in ("b1", "b2", "eps"))


def _is_adam_state(opt_state, shapes, dtype) -> bool:
    """True when ``opt_state`` is the named Adam's, for parameters of these shapes."""
    if not (isinstance(opt_state, tuple) and len(opt_state) == 2
            and type(opt_state[0]) is AdamState
            and type(opt_state[1]) is ScaleByLearningRateState):
        return False
    for averages in (opt_state[0].grad_avg, opt_state[0].grad_sq_avg):
        if not (isinstance(averages, list) and len(averages) == len(shapes)
                and all(isinstance(a, np.ndarray) and a.shape == s and a.dtype == dtype
                        for a, s in zip(averages, shapes, strict=False))):
            return False
    return True


def _flat(arrays) -> np.ndarray:
    return np.concatenate([a.ravel() for a in arrays])


def _count(X, order) -> int:
    """Rows an epoch takes: all of X, or those ``order`` names (a held-out set left out)."""
    return X.shape[0] if order is None else len(order)


class EpochRunner:
    """Runs a ``NetworkObjective``'s epochs for the training loop (see the module doc)."""

    whole_epoch = True

    def __init__(self, objective, X, Y, sw, batch: int, shapes, optimizer):
        self.objective, self.X, self.Y, self.sw, self.batch = objective, X, Y, sw, batch
        self.shapes, self.optimizer = shapes, optimizer
        self.workspace = objective.workspace(shapes, batch, X.dtype)
        arrays = [X, Y] if sw is None else [X, Y, sw]
        self.arrays = arrays
        self.gathered = [np.empty((batch, *a.shape[1:]), dtype=a.dtype) for a in arrays]
        self.l1 = objective.penalty in ("l1", "elasticnet")

    @classmethod
    def create(cls, objective, params, X, Y, sw, batch_size, opt_state) -> EpochRunner | None:
        """A runner, or None where the training loop's own steps must run."""
        if objective.optimizer is None or objective.backprop != "fused":
            return None
        if any(p.dtype != X.dtype for p in params) or Y.dtype != X.dtype:
            return None
        optimizer = optim.get_optimizer(objective.optimizer, objective.learning_rate)
        n = X.shape[0]
        batch = n if batch_size is None else min(batch_size, n)
        return cls(objective, X, Y, sw, batch, [p.shape for p in params], optimizer)

    def _rows(self, index):
        """The batch's (X, Y, sw) rows: a view for a slice, else gathered into the buffers."""
        if isinstance(index, slice):
            rows = [a[index] for a in self.arrays]
        else:
            # mode="clip" (the indices are valid anyway): "raise" makes NumPy buffer the output.
            rows = [a.take(index, axis=0, out=buf[:len(index)], mode="clip")
                    for a, buf in zip(self.arrays, self.gathered, strict=True)]
        return rows[0], rows[1], (rows[2] if self.sw is not None else None)

    def _loss(self, params, index) -> tuple[float, float]:
        X, Y, sw = self._rows(index)
        value = self.workspace.loss_and_grads(params, X, Y, sw)
        return value, (X.shape[0] if sw is None else float(sw.sum()))

    def loss_and_grads(self, params, index):
        """One batch's objective, gradients (new arrays) and weight."""
        value, weight = self._loss(params, index)
        return value, [g.copy() for g in self.workspace.grads], weight

    def epoch(self, params, opt_state, order, first_loss, record_path, stop=None) -> EpochResult:
        """One epoch over ``order`` (None: the rows in turn) from ``params`` and ``opt_state``;
        ``stop()`` true between two steps ends it there (see ``training._batch_epoch``)."""
        spec = self.objective.optimizer
        if (isinstance(spec, str) and spec.strip().lower() == "adam"
                and _is_adam_state(opt_state, self.shapes, self.X.dtype)):
            return self._adam_epoch(params, opt_state, order, first_loss, record_path, stop)
        return self._update_epoch(params, opt_state, order, first_loss, record_path, stop)

    def _update_epoch(self, params, opt_state, order, first_loss, record_path,
                      stop=None) -> EpochResult:
        """Any optimizer through its ``update``: the training loop's own epoch, on this
        runner's buffers."""
        return _batch_epoch(self.loss_and_grads, self.objective, params, opt_state,
                            self.optimizer, _count(self.X, order), self.batch, order, first_loss,
                            record_path, stop=stop)

    def _adam_epoch(self, params, opt_state, order, first_loss, record_path,
                    stop=None) -> EpochResult:
        """The named Adam, in place on flat copies of the parameters and its averages.

        The same operations as ``optim.adam`` followed by ``p + u``, in the same order,
        so the results agree bit for bit: compiled (``kernels.network.adam_step``, one pass)
        where Numba runs, else in NumPy (``_numpy_adam_step``).
        """
        b1, b2, eps = _adam_defaults()
        keep1, keep2 = 1.0 - b1, 1.0 - b2
        rate = self.objective.learning_rate
        adam, lr_state = opt_state
        # Copies: the caller's arrays stay as they were if the epoch stops half way.
        flat, m, v = _flat(params), _flat(adam.grad_avg), _flat(adam.grad_sq_avg)
        params = flat_views(flat, self.shapes)
        count, lr_count = adam.count, lr_state.count
        g, t1, t2 = self.workspace.flat_grad, np.empty_like(flat), np.empty_like(flat)
        compiled = network_kernels(flat.dtype)
        as_dtype = flat.dtype.type  # the scalars in the vectors' dtype, as NumPy rounds them
        constants = tuple(as_dtype(x) for x in (b1, b2, keep1, keep2, eps))
        weights = params[0::2]
        before = [np.empty_like(W) for W in weights] if self.l1 else []

        def state():
            return (AdamState(count=count, grad_avg=flat_views(m, self.shapes),
                              grad_sq_avg=flat_views(v, self.shapes)),
                    ScaleByLearningRateState(count=lr_count))

        total, steps = 0.0, 0
        for index in _batches(_count(self.X, order), self.batch, order):
            if steps and stop is not None and stop():  # Ctrl-C: end between two steps
                grads = [a.copy() for a in self.workspace.grads]
                return EpochResult(params, state(), steps, total, grads, first_loss,
                                   interrupted=True)
            value, weight = self._loss(params, index)
            if first_loss is None:
                first_loss = value
            if has_diverged(value, first_loss):
                grads = [a.copy() for a in self.workspace.grads]
                return EpochResult(params, state(), steps, total, grads, first_loss, value)
            count += 1
            correction1 = 1.0 / (1.0 - b1**count)
            root_correction2 = (1.0 / (1.0 - b2**count)) ** 0.5
            factor = -float(rate(lr_count)) if callable(rate) else -float(rate)
            lr_count += 1
            for W, old in zip(weights, before, strict=False):
                np.copyto(old, W)
            if compiled is not None:
                compiled.adam_step(flat, g, m, v, *constants, as_dtype(correction1),
                                   as_dtype(root_correction2), as_dtype(factor))
            else:
                _numpy_adam_step(flat, g, m, v, t1, t2, b1, b2, keep1, keep2, eps,
                                 correction1, root_correction2, factor)
            for W, old in zip(weights, before, strict=False):
                clip_l1_crossings(old, W, self.objective.penalty)
            steps += 1
            total += value * weight
            if record_path is not None:
                record_path(params)
        grads = [a.copy() for a in self.workspace.grads]
        return EpochResult(params, state(), steps, total, grads, first_loss)


def _numpy_adam_step(flat, g, m, v, t1, t2, b1, b2, keep1, keep2, eps, correction1,
                     root_correction2, factor) -> None:
    """``kernels.network.adam_step`` in NumPy, into the scratch vectors t1 and t2."""
    np.multiply(g, keep1, out=t1)
    m *= b1
    m += t1  # b1 m + (1 - b1) g
    np.multiply(g, g, out=t1)
    t1 *= keep2
    v *= b2
    v += t1  # b2 v + (1 - b2) g^2
    np.sqrt(v, out=t1)
    t1 *= root_correction2
    t1 += eps
    np.multiply(m, correction1, out=t2)
    t2 /= t1
    t2 *= factor  # the update: -lr m_hat / (sqrt(v_hat) + eps)
    flat += t2
