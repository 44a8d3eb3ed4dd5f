"""The network's forward and backward pass, written into buffers made once per fit.

A batch of 256 rows through a 100-64-1 network is small arithmetic: at that size the
NumPy temporaries of a plain backward pass (a new array per layer, per activation,
per gradient) and the optimizer's per-array calls cost about as much as the matrix
products. ``Workspace`` runs the same arithmetic as the textbook pass, operation for
operation, into arrays it keeps; ``mlp.NetworkObjective`` uses it for every fused
gradient, and the tests hold it equal to the computation-graph engine.

Where Numba runs (``descent.kernels.network``), the elementwise passes between the
matrix products are compiled and fused (bias and activation in one pass; loss, residual
and the last layer's gradients in another, ...); the matrix products stay with BLAS.
The NumPy passes remain the reference and the fallback (``DESCENT_JIT=0``); the two
agree to rounding (tested).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import autodiff as ad
from .. import kernels, numerics
from ..losses import mean_loss_and_gradient
from ..penalties import _l1_share


def _identity(z):
    return z


def _keep(*arrays):
    """Identity in place (forward), or its derivative 1 applied in place (backward)."""


def _relu_into(z, scratch):
    np.maximum(z, 0, out=z)


def _relu_backward(dz, a, scratch):
    # a > 0 exactly where z > 0 (a = max(z, 0)); a 0/1 factor, as (z > 0).astype(float).
    np.multiply(dz, np.greater(a, 0, out=scratch), out=dz)


def _tanh_into(z, scratch):
    np.tanh(z, out=z)


def _tanh_backward(dz, a, scratch):
    np.multiply(a, a, out=scratch)
    np.subtract(1, scratch, out=scratch)  # 1 - a^2
    np.multiply(dz, scratch, out=dz)


def _sigmoid_into(z, scratch):
    # numerics.sigmoid in place: exp(min(z, 0)) / (1 + exp(-|z|)).
    np.minimum(z, 0, out=scratch)
    np.exp(scratch, out=scratch)
    np.abs(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1
    np.divide(scratch, z, out=z)


def _sigmoid_backward(dz, a, scratch):
    np.subtract(1, a, out=scratch)
    np.multiply(a, scratch, out=scratch)  # a (1 - a)
    np.multiply(dz, scratch, out=dz)


class Activation(NamedTuple):
    """One activation: on new arrays, in place, its derivative in place, and the engine's op.

    ``backward(dz, a, scratch)`` multiplies ``dz`` by the derivative at the layer's
    output ``a``; ``scratch`` is a spare array shaped like ``a``.
    """

    forward: object
    forward_into: object
    backward: object
    engine: object


ACTIVATIONS = {
    "sigmoid": Activation(numerics.sigmoid, _sigmoid_into, _sigmoid_backward, ad.sigmoid),
    "tanh": Activation(np.tanh, _tanh_into, _tanh_backward, ad.tanh),
    "relu": Activation(lambda z: np.maximum(z, 0), _relu_into, _relu_backward, ad.relu),
    "identity": Activation(_identity, _keep, _keep, _identity),
}



def network_kernels(dtype):
    """``descent.kernels.network``, compiled for ``dtype``; None where it cannot run.

    None when ``DESCENT_JIT=0`` (read at every call), when Numba is missing or broken, or
    when the kernels fail to compile for this dtype: the NumPy passes serve instead.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        return None
    return kernels.compiled("network", dtype)


def flat_views(flat: np.ndarray, shapes) -> list[np.ndarray]:
    """Arrays of the given shapes that share the memory of one flat vector, in order."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start:start + size].reshape(shape))
        start += size
    return views


class Workspace:
    """A network's forward and backward pass for batches of up to ``rows`` rows.

    ``loss_and_grads`` returns the objective's value and leaves its gradients in
    ``grads``: views of the one vector ``flat_grad``, overwritten by the next call.
    """

    def __init__(self, objective, shapes, rows: int, dtype):
        self.objective, self.rows, self.dtype = objective, rows, np.dtype(dtype)
        self.shapes = [tuple(s) for s in shapes]
        self.activation = ACTIVATIONS[objective.activation]
        hidden = [s[1] for s in self.shapes[0:-2:2]]
        self.flat_grad = np.empty(sum(int(np.prod(s)) for s in self.shapes), dtype)
        self.grads = flat_views(self.flat_grad, self.shapes)
        self.outputs = [np.empty((rows, w), dtype) for w in hidden]  # each hidden layer's a
        self.deltas = [np.empty((rows, w), dtype) for w in hidden]  # dLoss/dz there
        self.scratch = [np.empty((rows, w), dtype) for w in hidden]
        self.scores = np.empty((rows, self.shapes[-1][0]), dtype)
        self.penalty_scratch = ([(np.empty(s, dtype), np.empty(s, dtype))
                                 for s in self.shapes[0::2]] if objective.penalty else [])
        self.standardized = objective.x_scale is not None
        if self.standardized:
            # The first layer in raw units (X is never rescaled), and room for the fold back.
            self.scale_column = objective.x_scale[:, None]
            self.first_W = np.empty(self.shapes[0], dtype)
            self.first_b = np.empty(self.shapes[1], dtype)
            self.shift = np.empty(self.shapes[1], dtype)
            self.outer = np.empty(self.shapes[0], dtype)
        self.compiled = self._kernels_if_covered(network_kernels(dtype))

    def _kernels_if_covered(self, compiled):
        """The compiled kernels where they cover this network, else None (NumPy passes).

        They cover a hidden layer or more under one output column with the log loss or
        the square error: the binary classifier and the one-target regressor.
        """
        loss = self.objective.point_loss.name
        if (compiled is None or len(self.shapes) < 4 or self.shapes[-2][1] != 1
                or loss not in compiled.LOSS_CODES):
            return None
        self.loss_code = compiled.LOSS_CODES[loss]
        self.activation_code = compiled.ACTIVATION_CODES[self.objective.activation]
        self.equal_weights = np.empty(0, self.dtype)
        if self.standardized:
            self.x_mean = np.asarray(self.objective.x_mean, self.dtype)
            self.x_scale = np.asarray(self.objective.x_scale, self.dtype)
        return compiled

    def fits(self, shapes, rows: int, dtype) -> bool:
        return ([tuple(s) for s in shapes] == self.shapes and rows <= self.rows
                and np.dtype(dtype) == self.dtype)

    def loss_and_grads(self, params, X, Y, sw) -> float:
        if self.compiled is not None and Y.ndim == 2:
            weight_total = 1.0 if sw is None else float(sw.sum())
            if weight_total > 0:  # else the NumPy pass raises the error that says so
                return self._compiled_loss_and_grads(params, X, Y, sw, weight_total)
        return self._numpy_loss_and_grads(params, X, Y, sw)

    def _compiled_loss_and_grads(self, params, X, Y, sw, weight_total) -> float:
        """``_numpy_loss_and_grads`` through the compiled kernels: BLAS for the matrix
        products, one fused pass for each stretch of elementwise work between them."""
        k, code, m = self.compiled, self.activation_code, X.shape[0]
        last = len(params) // 2 - 1
        a = X
        for layer in range(last):
            W, b = params[2 * layer], params[2 * layer + 1]
            if layer == 0 and self.standardized:
                k.fold_first_layer(W, b, self.x_mean, self.x_scale, self.first_W, self.first_b)
                W, b = self.first_W, self.first_b
            z = self.outputs[layer][:m]
            np.matmul(a, W, out=z)
            k.bias_activate(z, b, code)
            a = z
        # The last layer's gradients, and dz of the layer below with its bias gradient.
        dz = self.deltas[last - 1][:m]
        value = k.one_output_head(
            a, params[2 * last], params[2 * last + 1], Y,
            self.equal_weights if sw is None else sw, weight_total, self.loss_code, code,
            self.grads[2 * last], self.grads[2 * last + 1], dz, self.grads[2 * last - 1])
        for layer in range(last - 1, -1, -1):
            below = X if layer == 0 else self.outputs[layer - 1][:m]
            np.matmul(below.T, dz, out=self.grads[2 * layer])
            if layer > 0:
                delta = self.deltas[layer - 1][:m]
                np.matmul(dz, params[2 * layer].T, out=delta)
                k.backward_activation(delta, below, code, self.grads[2 * layer - 1])
                dz = delta
            elif self.standardized:
                k.unfold_first_gradient(self.grads[0], self.grads[1], self.x_mean, self.x_scale)
        if self.objective.penalty is not None:
            value += self._add_penalty(params)
        return value

    def _numpy_loss_and_grads(self, params, X, Y, sw) -> float:
        obj, act, m = self.objective, self.activation, X.shape[0]
        n_layers = len(params) // 2
        a = X
        for layer in range(n_layers):
            W, b = params[2 * layer], params[2 * layer + 1]
            if layer == 0 and self.standardized:
                W = np.divide(W, self.scale_column, out=self.first_W)
                b = np.subtract(b, np.matmul(obj.x_mean, W, out=self.shift), out=self.first_b)
            last = layer == n_layers - 1
            z = (self.scores if last else self.outputs[layer])[:m]
            np.matmul(a, W, out=z)
            z += b
            if not last:
                act.forward_into(z, self.scratch[layer][:m])
            a = z
        value, dz = mean_loss_and_gradient(obj.point_loss, a, Y, sw)
        for layer in range(n_layers - 1, -1, -1):
            below = X if layer == 0 else self.outputs[layer - 1][:m]
            gW, gb = self.grads[2 * layer], self.grads[2 * layer + 1]
            np.matmul(below.T, dz, out=gW)
            np.add.reduce(dz, axis=0, out=gb)  # dz.sum(axis=0), minus NumPy's wrapper
            if layer > 0:
                # Chain rule into the layer below: through W, then the activation.
                W, delta = params[2 * layer], self.deltas[layer - 1][:m]
                # One output: dz @ W.T is an outer product; multiply is faster than BLAS here.
                dz = (np.multiply(dz, W.T, out=delta) if W.shape[1] == 1
                      else np.matmul(dz, W.T, out=delta))
                act.backward(dz, below, self.scratch[layer - 1][:m])
            elif self.standardized:
                gW -= np.multiply.outer(obj.x_mean, gb, out=self.outer)
                gW /= self.scale_column
        if obj.penalty is not None:
            value += self._add_penalty(params)
        return value

    def _add_penalty(self, params) -> float:
        """``penalties.penalty_value`` summed over the weight matrices, their
        ``penalty_gradient`` added to ``grads`` in place (the same operations)."""
        obj = self.objective
        alpha, l1 = float(obj.alpha), _l1_share(obj.penalty, obj.l1_ratio)
        if alpha == 0:
            return 0.0
        if l1 == 0 and self.compiled is not None:
            return self._add_compiled_l2(params, alpha)
        extra = 0
        for layer, (tmp, tmp2) in enumerate(self.penalty_scratch):
            W, gW = params[2 * layer], self.grads[2 * layer]
            value = 0.0
            if l1 > 0:
                value += l1 * float(np.abs(W).sum())
            if l1 < 1:
                value += (1 - l1) * 0.5 * float(np.vdot(W, W))
            extra += alpha * value
            if l1 == 0:
                gW += np.multiply(W, alpha, out=tmp)
                continue
            np.sign(W, out=tmp)
            tmp *= alpha * l1
            if l1 < 1:
                tmp += np.multiply(W, alpha * (1 - l1), out=tmp2)
            gW += tmp
        return extra

    def _add_compiled_l2(self, params, alpha: float) -> float:
        """The L2 case of ``_add_penalty``, one compiled pass per weight matrix."""
        scaled = self.dtype.type(alpha)  # NumPy multiplies in W's dtype
        extra = 0
        for layer in range(len(params) // 2):
            squares = self.compiled.add_l2_penalty(params[2 * layer], self.grads[2 * layer],
                                                   scaled)
            extra += alpha * (0.5 * float(squares))
        return extra
