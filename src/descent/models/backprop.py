"""The network's forward and backward pass, written into buffers made once per fit.

A batch of 256 rows through a 100-64-1 network is small arithmetic: at that size the
NumPy temporaries of a plain backward pass (a new array per layer, per activation,
per gradient) and the optimizer's per-array calls cost about as much as the matrix
products. ``Workspace`` runs the same arithmetic as the textbook pass, operation for
operation, into arrays it keeps; ``mlp.NetworkObjective`` uses it for every fused
gradient, and the tests hold it equal to the computation-graph engine.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import autodiff as ad
from .. import numerics
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

    def fits(self, shapes, rows: int, dtype) -> bool:
        return ([tuple(s) for s in shapes] == self.shapes and rows <= self.rows
                and np.dtype(dtype) == self.dtype)

    def loss_and_grads(self, params, X, Y, sw) -> float:
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
