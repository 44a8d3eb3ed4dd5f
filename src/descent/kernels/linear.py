"""The compiled loops of a linear model with one output (s = x . w + b for each row).

- ``chunks_pass`` (from ``passes``): the loss and gradient of a range of chunks of a
  large batch; ``runner.data_pass`` runs it on every core at once (Python threads: the
  loop releases the GIL) and adds the chunks up in order, so the result has the same
  bits whatever the number of threads. The training loop takes one such pass a step for
  large batches (a full batch is one step per epoch).
- ``epoch``: a whole epoch of small batches on one core, the optimizer step included,
  so Python is not paid per step. The order of rows comes in from Python, drawn with
  the estimator's random generator, so both paths see the same batches.

All sizes, switches and dtypes are arguments (never module globals), so Numba caches
every function to disk.
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import jit, jit_inline, opaque
from .passes import (
    _prefetch_rows,
    _row_loss,
    _weight_total,
    chunks_pass,
    rows_pass,
    scratch,
    weight_total,
)
from .pointwise import loss_and_slope

__all__ = ["chunks_pass", "epoch", "probe", "scratch", "weight_total"]


@jit_inline
def _penalize(W, g, l1, l2, l1_on):
    """Add the penalty's gradient to g; return its value (descent.penalties' rules).

    ``l1`` and ``l2`` hold alpha times each part's share. With an L1 part (``l1_on``), a
    coefficient at exactly zero takes the slope in [-l1, l1] that best cancels the
    loss's pull, so it rests there.
    """
    value = 0.0
    if l1_on:
        for j in range(W.shape[0]):
            wj = float(W[j])
            value += l1 * abs(wj) + 0.5 * l2 * wj * wj
            slope = -min(max(float(g[j]), -l1), l1) if wj == 0.0 else (l1 if wj > 0 else -l1)
            g[j] += slope + l2 * wj
    else:  # L2 alone: a loop without branches
        for j in range(W.shape[0]):
            wj = float(W[j])
            value += 0.5 * l2 * wj * wj
            g[j] += l2 * wj
    return value


# Each optimizer's direction for coordinate j, updating its state in place: the formulas
# of descent.optim.transforms (the step is -learning rate x direction). ``hyper`` holds
# (b1 or decay, b2, eps, Adam's 1 / (1 - b1^t), Adam's 1 / sqrt(1 - b2^t)).
@jit_inline
def _gd(state, j, grad, hyper):
    return grad


@jit_inline
def _momentum(state, j, grad, hyper):
    velocity = hyper[0] * state[0, j] + grad
    state[0, j] = velocity
    return velocity


@jit_inline
def _nesterov(state, j, grad, hyper):
    velocity = hyper[0] * state[0, j] + grad
    state[0, j] = velocity
    return grad + hyper[0] * velocity


@jit_inline
def _adagrad(state, j, grad, hyper):
    sq = state[0, j] + grad * grad
    state[0, j] = sq
    return grad / (math.sqrt(sq) + hyper[2])


@jit_inline
def _rmsprop(state, j, grad, hyper):
    sq = hyper[0] * state[0, j] + (1.0 - hyper[0]) * (grad * grad)
    state[0, j] = sq
    return grad / (math.sqrt(sq) + hyper[2])


@jit_inline
def _adam(state, j, grad, hyper):
    mean = hyper[0] * state[0, j] + (1.0 - hyper[0]) * grad
    sq = hyper[1] * state[1, j] + (1.0 - hyper[1]) * (grad * grad)
    state[0, j] = mean
    state[1, j] = sq
    return (mean * hyper[3]) / (math.sqrt(sq) * hyper[4] + hyper[2])


@jit_inline
def _step_of(direction, W, b, g, gb, state, hyper, rate):
    """One optimizer's step on [W, b]: a loop of its own, which the compiler vectorises."""
    p = W.shape[0]
    for j in range(p):
        W[j] = float(W[j]) + direction(state, j, float(g[j]), hyper) * -rate
    b[0] = b[0] + direction(state, p, gb, hyper) * -rate


@jit_inline
def _step(optimizer, W, b, g, gb, state, hyper, rate, clip, before):
    """The step; with ``clip``, each coefficient that changed sign stops at zero (an L1
    step overshoots zero), checked in a pass of its own against ``before``, a copy of W
    (a branch in the step's loop would keep it from being vectorised)."""
    if clip:
        for j in range(W.shape[0]):
            before[j] = W[j]
    if optimizer == 0:
        _step_of(_gd, W, b, g, gb, state, hyper, rate)
    elif optimizer == 1:
        _step_of(_momentum, W, b, g, gb, state, hyper, rate)
    elif optimizer == 2:
        _step_of(_nesterov, W, b, g, gb, state, hyper, rate)
    elif optimizer == 3:
        _step_of(_adagrad, W, b, g, gb, state, hyper, rate)
    elif optimizer == 4:
        _step_of(_rmsprop, W, b, g, gb, state, hyper, rate)
    else:
        _step_of(_adam, W, b, g, gb, state, hyper, rate)
    if clip:
        for j in range(W.shape[0]):
            if before[j] * W[j] < 0:
                W[j] = 0.0


@jit_inline
def _row_step_of(direction, W, b, X, r, slope, gb, l2, state, hyper, rate):
    """One optimizer's step for a one-row batch, its gradient slope x + l2 W formed on the
    fly (never stored); returns l2 / 2 ||W||^2 at the new W, the next step's penalty.
    One pass over W instead of three: a stochastic step is that short."""
    p = W.shape[0]
    value = 0.0
    for j in range(p):
        old = float(W[j])
        new = old + direction(state, j, slope * X[r, j] + l2 * old, hyper) * -rate
        W[j] = new
        value += new * new
    b[0] = b[0] + direction(state, p, gb, hyper) * -rate
    return 0.5 * l2 * value


@jit_inline
def _exploded(value, first):
    """The divergence rule of descent.divergence.has_diverged: not finite, or grown 1e10-fold."""
    return not math.isfinite(value) or value - first > 1e10 * (1.0 + abs(first))


@jit_inline
def _record(path, step, W, b, scale):
    """Row ``step`` of the recorded path: [scale * W, b] (nothing when no path is kept)."""
    if path.shape[0] > 0:
        p = W.shape[0]
        for j in range(p):
            path[step, j] = W[j] * scale
        path[step, p] = b[0]


# ----- stochastic plain gradient descent: the weights as a scale times a vector --------------
# With an L2 penalty every step shrinks all of W: W <- (1 - rate l2) W - rate slope x. Kept
# as W = scale * V, the shrink is one multiplication of ``scale`` and a step touches V only
# when the slope is not 0 (hinge and perceptron are 0 on most rows): V += -rate slope /
# scale' x. The penalty's value needs ||W||^2 = scale^2 ||V||^2, and ||V||^2 is summed in
# the same loop that updates V. Rounding differs from the plain step by a few units in the
# last place of W a step (tested to 1e-10 against the NumPy path).


@jit_inline
def _fold_scale(V, scale):
    """V <- scale V (W itself again); returns ||V||^2."""
    norm = 0.0
    for j in range(V.shape[0]):
        V[j] = V[j] * scale
        vj = float(V[j])
        norm += vj * vj
    return norm


@jit_inline
def _row_dot(X, r, V):
    """x_r . V, summed from zero over aligned elements (V was just stored: the loads then
    match the stores, which the CPU forwards without a stall)."""
    s = 0.0
    for j in range(X.shape[1]):
        s += X[r, j] * V[j]
    return s


@jit_inline
def _add_row(V, X, r, a):
    """V += a x_r; returns ||V||^2 after the step."""
    norm = 0.0
    for j in range(X.shape[1]):
        V[j] = V[j] + a * X[r, j]
        vj = float(V[j])  # as stored (rounded, in float32)
        norm += vj * vj
    return norm


@jit_inline
def _scaled_gd_steps(X, y, sw, order, stop, loss, W, b, fit_intercept, l2, rates, has_first,
                     first, path, line):
    """Plain gd steps on one row each, rows 0 .. stop - 1 of ``order``, with W = scale V.

    The divergence check, the losses summed for the epoch and the path are those of the
    general loop. Returns (status, steps, total, first, has_first, last loss); W holds W
    itself again on return (on divergence, the parameters before the failing step).
    """
    p = X.shape[1]
    scale = 1.0
    norm = 0.0
    for j in range(p):
        norm += float(W[j]) * float(W[j])
    total = 0.0
    value = 0.0
    for step in range(stop):
        r = order[step] if order.shape[0] > 0 else step
        _prefetch_rows(X, order, step + 8, 1, line)
        point, slope = loss_and_slope(loss, scale * _row_dot(X, r, W) + b[0], float(y[r]))
        value = point + 0.5 * l2 * (scale * scale) * norm
        if not has_first:
            first, has_first = value, True
        if _exploded(value, first):
            _fold_scale(W, scale)
            return 1, step, total, first, has_first, value
        rate = rates[step]
        scale -= scale * (rate * l2)  # not scale * (1 - rate l2): that rounds the same way
        # every step, a drift of the whole of W by 1e-16 a step
        if not abs(scale) >= 1e-9:  # fold a scale too small to divide by (or 0, or NaN)
            norm = _fold_scale(W, scale)
            scale = 1.0
        if slope != 0.0:
            norm = _add_row(W, X, r, slope * opaque(-rate / scale))
        if fit_intercept:
            b[0] = b[0] + slope * -rate
        total += value * (sw[r] if sw.shape[0] > 0 else 1.0)
        _record(path, step, W, b, scale)
    _fold_scale(W, scale)
    return 0, stop, total, first, has_first, value


@jit()
def epoch(X, y, sw, order, batch, loss, W, b, x_mean, x_scale, fit_intercept, l1, l2, penalty,
          l1_on, clip, optimizer, hyper, state, count, rates, has_first, first, path, last_grad,
          rows, work, vectors):
    """One epoch of batches of ``batch`` rows in ``order``, updating W, b and ``state``.

    The optimizer codes are 0 gd, 1 momentum, 2 nesterov, 3 adagrad, 4 rmsprop, 5 adam;
    ``hyper`` holds (b1 or decay, b2, eps) and two slots for Adam's bias corrections;
    ``state`` (2, p + 1) the optimizer's arrays for [w, b] (Adam's two averages, or the
    one array of the others). ``rates`` has one
    learning rate per step. A batch loss that is not finite, or that has grown 1e10-fold
    past ``first`` (the run's first batch loss), stops the epoch before its step.

    Returns (status, steps, sum of batch loss x batch weight, first, last loss, count):
    status 1 means diverged, and W, b hold the parameters before the failing step.
    When ``path`` has rows, row k receives [w, b] after step k.
    """
    p = X.shape[1]
    n = order.shape[0] if order.shape[0] > 0 else X.shape[0]  # a subset: held-out rows left out
    standard = x_scale.shape[0] > 0
    wr, g, slopes = vectors[0], vectors[1], vectors[2]
    hyper[3] = hyper[4] = 1.0  # adam's bias corrections, set each step
    line = max(64 // X.itemsize, 1)
    # Stochastic gd or momentum steps without standardization or an L1 penalty fuse into
    # one pass: gd's in _scaled_gd_steps, momentum's below, where ``pen`` carries the L2
    # penalty from one step to the next.
    fused = batch == 1 and not standard and not clip and not (penalty and l1_on) and optimizer <= 1
    known = False
    pen = 0.0
    total = 0.0
    value = 0.0
    gb = 0.0
    step = 0
    start = 0
    if fused and optimizer == 0 and n > 1:  # plain steps: W = scale V (not the last step,
        # which leaves the gradient behind for the history)
        status, step, total, first, has_first, value = _scaled_gd_steps(
            X, y, sw, order, n - 1, loss, W, b, fit_intercept, l2 if penalty else 0.0, rates,
            has_first, first, path, line)
        if status:
            return 1, step, total, first, value, count
        start = n - 1
    for lo in range(start, n, batch):
        hi = min(lo + batch, n)
        # scores come from the raw-unit weights (standardization folded in, as in LinearObjective)
        br = float(b[0])
        raw = W
        if standard:
            for j in range(p):
                wr[j] = W[j] / x_scale[j]
            for j in range(p):
                br -= x_mean[j] * wr[j]
            raw = wr
        weight = _weight_total(sw, order, lo, hi)
        if fused and hi < n:  # one row, heavy-ball steps: one pass (not the last step:
            # that one leaves the gradient behind for the history)
            value, slope, r = _row_loss(X, y, order, lo, W, br, loss, line)
            if penalty and not known:
                pen = 0.0
                for j in range(p):
                    pen += W[j] * W[j]
                pen *= 0.5 * l2
            value += pen if penalty else 0.0
            if not has_first:
                first, has_first = value, True
            if _exploded(value, first):
                return 1, step, total, first, value, count
            gb = slope if fit_intercept else 0.0
            l2_now = l2 if penalty else 0.0
            rate = rates[step]
            pen = _row_step_of(_momentum, W, b, X, r, slope, gb, l2_now, state, hyper, rate)
            known = True
            total += value * weight
            _record(path, step, W, b, 1.0)
            step += 1
            continue
        known = False
        if hi - lo == 1:
            value, gb_raw, r = _row_loss(X, y, order, lo, raw, br, loss, line)
            for j in range(p):
                g[j] = gb_raw * X[r, j]
        else:
            for j in range(p):
                g[j] = 0.0
            value, gb_raw = rows_pass(X, y, sw, order, lo, hi, raw, br, loss, 1.0 / weight,
                                             g, rows, work, slopes)
        if standard:  # the gradient in standardized units
            for j in range(p):
                g[j] = (g[j] - x_mean[j] * gb_raw) / x_scale[j]
        gb = gb_raw if fit_intercept else 0.0
        if penalty:
            value += _penalize(W, g, l1, l2, l1_on)
        if not has_first:
            first, has_first = value, True
        if _exploded(value, first):
            return 1, step, total, first, value, count
        if optimizer == 5:
            count += 1
            hyper[3] = 1.0 / (1.0 - hyper[0] ** count)
            hyper[4] = (1.0 / (1.0 - hyper[1] ** count)) ** 0.5
        _step(optimizer, W, b, g, gb, state, hyper, rates[step], clip, slopes)
        total += value * weight
        _record(path, step, W, b, 1.0)
        step += 1
    for j in range(p):
        last_grad[j] = g[j]
    last_grad[p] = gb
    return 0, step, total, first, value, count


def probe(dtype) -> None:
    """Compile (or load from the cache) both loops for ``dtype`` on a tiny problem.

    The argument types match the runner's calls exactly, so training never compiles
    again; a failure here raises before any training state has been touched.
    """
    X = np.ones((3, 2), dtype=dtype)
    y = np.ones(3, dtype=dtype)
    none = np.empty(0, dtype=dtype)
    rows = np.arange(3, dtype=np.int64)
    w = np.zeros(2, dtype=dtype)
    weight_total(none, rows, 0, 3)
    chunks_pass(X, y, none, rows, 0, 3, w, 0.0, 0, 1.0, 4096, 0, 1, np.zeros((1, 2), dtype=dtype),
                np.zeros(1), np.zeros(1), *scratch(2, dtype))
    state = np.zeros((2, 3), dtype=dtype)
    epoch(X, y, none, rows, 2, 0, w, np.zeros(1, dtype=dtype), none, none, True, 0.0, 0.0,
          False, False, False, 0, np.zeros(5), state, 0, np.full(2, 0.1), False, 0.0,
          np.empty((0, 3), dtype=dtype), np.zeros(3, dtype=dtype), *scratch(2, dtype))
