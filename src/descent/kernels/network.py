"""Compiled pieces of a network's training step: the elementwise work between the matrix products.

A step of a 100-64-1 network at batch 256 is two matrix products that BLAS does well
(``X @ W1`` and ``X.T @ dZ1``, about 30 µs each) and a dozen small passes between them
(bias, activation, loss, residual, the outer product back through the last layer, the
activation's derivative, the bias sums, the penalty, Adam), each a NumPy call of 2-15 µs
on arrays that fit in cache. Here each group of those passes is one loop over the data:

- ``bias_activate``: ``z += b`` and the activation, in place;
- ``backward_activation``: ``dz *= act'(a)`` and the column sums (the bias gradient);
- ``one_output_head``: for one output column, the scores, the loss, the residual, the
  last layer's gradients and ``dz`` of the layer below, in one pass over the rows;
- ``fold_first_layer`` / ``unfold_first_gradient``: the standardization folded into the
  first layer and out of its gradient (X itself is never rescaled);
- ``add_l2_penalty``: ``gW += alpha W`` and the sum of squares;
- ``adam_step``: the named Adam and ``p + u`` over the flat parameter vector.

``descent.models.backprop`` and ``network_epoch`` call them when
``backprop.network_kernels(dtype)`` returns this module, and otherwise run the same
arithmetic in NumPy (the reference). ``adam_step``, the L2 gradient and the ReLU and
identity passes run NumPy's operations in the same order without fused multiply-adds, so
they give the same bits; the sums (loss, scores, bias and weight gradients) add in
another order than NumPy and BLAS, and tanh, sigmoid and exp are libm's in float64, so
those agree to rounding (tested).

Every kernel takes what it needs as arguments (codes, not names, select the activation
and the loss), so Numba caches them to disk.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._jit import FASTMATH, njit

# Activation and loss codes (the caller maps names to these).
IDENTITY, RELU, TANH, SIGMOID = 0, 1, 2, 3
ACTIVATION_CODES = {"identity": IDENTITY, "relu": RELU, "tanh": TANH, "sigmoid": SIGMOID}
SQUARED_ERROR, LOG_LOSS = 0, 3
LOSS_CODES = {"squared_error": SQUARED_ERROR, "log_loss": LOG_LOSS}

_SETTINGS = dict(cache=True, error_model="numpy", boundscheck=False, nogil=True, _nrt=False)
# Exact: the same operations as NumPy in the same order, so the same bits.
exact = njit(**_SETTINGS)  # cached only in descent's checked folder
# Sums in any order (vectorised): the loss and the gradients' reductions. Only "reassoc"
# of descent's fast-math flags: no fused multiply-adds, so the elementwise products keep
# NumPy's rounding.
summing = njit(fastmath={"reassoc"} & set(FASTMATH), **_SETTINGS)
inline = numba.njit(inline="always", error_model="numpy")


@inline
def _sigmoid(z):
    # exp(min(z, 0)) / (1 + exp(-|z|)), as numerics.sigmoid: no overflow anywhere.
    e = math.exp(-abs(z))
    return (1.0 if z >= 0 else e) / (1.0 + e)


@inline
def _activate(z, code):
    if code == RELU:
        return 0.0 if z < 0.0 else z  # NaN passes, as np.maximum's does: divergence shows
    if code == TANH:
        return math.tanh(z)
    if code == SIGMOID:
        return _sigmoid(z)
    return z


@inline
def _slope_at_output(a, code):
    """The activation's derivative written in terms of its output a."""
    if code == RELU:
        return 1.0 if a > 0 else 0.0
    if code == TANH:
        return 1.0 - a * a
    if code == SIGMOID:
        return a * (1.0 - a)
    return 1.0


@exact
def bias_activate(z, b, code):
    """z <- act(z + b), row by row, in place."""
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            z[i, j] = _activate(z[i, j] + b[j], code)


@exact
def backward_activation(dz, a, code, column_sums):
    """dz <- dz * act'(a) in place, and column_sums <- dz.sum(axis=0) (the bias gradient).

    Rows are added in order, as NumPy adds along axis 0 of a C-ordered array.
    """
    column_sums[:] = 0
    for i in range(dz.shape[0]):
        for j in range(dz.shape[1]):
            d = dz[i, j] * _slope_at_output(a[i, j], code)
            dz[i, j] = d
            column_sums[j] += d


@summing
def one_output_head(H, W, c, Y, sw, sw_total, loss_code, code_below, gW, gb, delta, gb_below):
    """The last layer when it has one output column, from the hidden output H (m, k).

    Scores s = H W + c; returns the (weighted) mean loss; writes the residual's
    gradients gW = H.T r and gb = sum r, where r = dLoss/ds divided by the row count (or
    times sw / sw_total), and the layer below's dz: delta = r W.T * act'(H), with its
    column sums in gb_below. ``sw`` is empty for equal weights.
    """
    m, k = H.shape
    weighted = sw.shape[0] > 0
    total = 0.0
    gb[0] = 0
    for j in range(k):
        gW[j, 0] = 0
        gb_below[j] = 0
    for i in range(m):
        s = c[0]
        for j in range(k):
            s += H[i, j] * W[j, 0]
        y = Y[i, 0]
        if loss_code == LOG_LOSS:
            # softplus(s) - y s and sigmoid(s) - y from one exp(-|s|), as numerics does.
            e = math.exp(-abs(s))
            value = math.log1p(e) + max(s, 0.0) - y * s
            slope = (1.0 if s >= 0 else e) / (1.0 + e) - y
        else:
            slope = s - y
            value = 0.5 * slope * slope
        share = sw[i] / sw_total if weighted else 1.0 / m
        total += value * share
        r = slope * share
        gb[0] += r
        for j in range(k):
            h = H[i, j]
            gW[j, 0] += h * r
            d = r * W[j, 0] * _slope_at_output(h, code_below)
            delta[i, j] = d
            gb_below[j] += d
    return total


@summing
def fold_first_layer(W, b, mean, scale, first_W, first_b):
    """The first layer in raw units: first_W = W / scale[:, None], first_b = b - mean @ first_W."""
    for j in range(first_b.shape[0]):
        first_b[j] = 0
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            w = W[i, j] / scale[i]
            first_W[i, j] = w
            first_b[j] += mean[i] * w
    for j in range(first_b.shape[0]):
        first_b[j] = b[j] - first_b[j]


@exact
def unfold_first_gradient(gW, gb, mean, scale):
    """gW <- (gW - outer(mean, gb)) / scale[:, None]: the gradient in standardized units."""
    for i in range(gW.shape[0]):
        for j in range(gW.shape[1]):
            gW[i, j] = (gW[i, j] - mean[i] * gb[j]) / scale[i]


@summing
def add_l2_penalty(W, gW, alpha):
    """gW += alpha W in place (alpha in W's dtype, so the same bits as NumPy); returns
    the sum of W's squares."""
    squares = 0.0
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            w = W[i, j]
            gW[i, j] += w * alpha
            squares += w * w
    return squares


@exact
def adam_step(p, g, m, v, b1, b2, keep1, keep2, eps, correction1, root_correction2, factor):
    """The named Adam then p + u, in place on flat vectors, in optim.adam's operations:

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    p <- p + factor (m correction1) / (sqrt(v) root_correction2 + eps), factor = -lr.
    The scalars come in p's dtype, so float32 rounds as NumPy's float32 does.
    """
    for i in range(p.shape[0]):
        gi = g[i]
        mi = b1 * m[i] + keep1 * gi
        vi = b2 * v[i] + keep2 * (gi * gi)
        m[i] = mi
        v[i] = vi
        p[i] = p[i] + ((mi * correction1) / (np.sqrt(vi) * root_correction2 + eps)) * factor


KERNELS = ("bias_activate", "backward_activation", "one_output_head", "fold_first_layer",
           "unfold_first_gradient", "add_l2_penalty", "adam_step")


def probe(dtype) -> None:
    """Compile (or load from the cache) every kernel for ``dtype`` on a tiny network."""
    dtype = np.dtype(dtype)
    one = dtype.type(1)
    H, delta = np.ones((3, 2), dtype), np.zeros((3, 2), dtype)
    W, c, Y = np.ones((2, 1), dtype), np.zeros(1, dtype), np.ones((3, 1), dtype)
    gW, gb, sums = np.zeros((2, 1), dtype), np.zeros(1, dtype), np.ones(2, dtype)
    for code in ACTIVATION_CODES.values():
        bias_activate(H, sums, code)
        backward_activation(delta, H, code, sums)
    for sw in (np.empty(0, dtype), np.ones(3, dtype), np.ones(3)):  # weights may be float64
        one_output_head(H, W, c, Y, sw, 3.0, LOG_LOSS, RELU, gW, gb, delta, sums)
    W2, first_W = np.ones((2, 2), dtype), np.empty((2, 2), dtype)
    fold_first_layer(W2, sums, sums, sums, first_W, sums.copy())
    unfold_first_gradient(first_W, sums, sums, sums)
    add_l2_penalty(W2, first_W, one)
    flat = np.ones(4, dtype)
    adam_step(flat, flat.copy(), flat.copy(), flat.copy(), *([one] * 8))
