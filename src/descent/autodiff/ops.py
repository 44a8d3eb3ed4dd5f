"""The primitives: each op computes its value and states its VJP, side by side.

A VJP maps the gradient of the op's output to the gradient of one input. Binary
ops broadcast like NumPy, so their VJPs sum the gradient back to each input's
shape with ``unbroadcast``. Everything else in descent is composed from these.
"""

from __future__ import annotations

import numpy as np

from .. import numerics
from .tensor import Tensor, lift


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes that broadcasting added or stretched, back to ``shape``."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


def _pair(a, b) -> tuple[Tensor, Tensor]:
    if isinstance(a, Tensor):
        return a, lift(b, like=a)
    b = lift(b)
    return lift(a, like=b), b


# ----- arithmetic -------------------------------------------------------------------
def add(a, b) -> Tensor:
    """a + b, broadcasting like NumPy.

    Example:
        >>> (Tensor([1.0, 2.0]) + 1).data.tolist()
        [2.0, 3.0]
    """
    a, b = _pair(a, b)
    return Tensor._result(
        a.data + b.data, "add", (a, b),
        (lambda g: unbroadcast(g, a.shape), lambda g: unbroadcast(g, b.shape)),
    )


def subtract(a, b) -> Tensor:
    """a - b, broadcasting like NumPy.

    Example:
        >>> (1 - Tensor([1.0, 2.0])).data.tolist()
        [0.0, -1.0]
    """
    a, b = _pair(a, b)
    return Tensor._result(
        a.data - b.data, "sub", (a, b),
        (lambda g: unbroadcast(g, a.shape), lambda g: unbroadcast(-g, b.shape)),
    )


def multiply(a, b) -> Tensor:
    """a * b elementwise, broadcasting like NumPy.

    Example:
        >>> (Tensor([1.0, 2.0]) * 3).data.tolist()
        [3.0, 6.0]
    """
    a, b = _pair(a, b)
    return Tensor._result(
        a.data * b.data, "mul", (a, b),
        (lambda g: unbroadcast(g * b.data, a.shape), lambda g: unbroadcast(g * a.data, b.shape)),
    )


def divide(a, b) -> Tensor:
    """a / b elementwise, broadcasting like NumPy.

    Example:
        >>> (Tensor([1.0, 2.0]) / 2).data.tolist()
        [0.5, 1.0]
    """
    a, b = _pair(a, b)
    out = a.data / b.data
    return Tensor._result(
        out, "div", (a, b),
        (lambda g: unbroadcast(g / b.data, a.shape),
         lambda g: unbroadcast(-g * out / b.data, b.shape)),
    )


def negative(a) -> Tensor:
    """-a.

    Example:
        >>> (-Tensor([1.0])).data.tolist()
        [-1.0]
    """
    a = lift(a)
    return Tensor._result(-a.data, "neg", (a,), (lambda g: -g,))


def power(a, b) -> Tensor:
    """a ** b; the exponent may be a Tensor too (its gradient needs a > 0).

    Example:
        >>> (Tensor([3.0]) ** 2).data.tolist()
        [9.0]
    """
    a, b = _pair(a, b)
    out = a.data ** b.data

    def vjp_base(g):
        return unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape)

    def vjp_exponent(g):
        # d(a**b)/db = a**b * log(a), defined where a > 0.
        positive = a.data > 0
        log_a = np.log(np.where(positive, a.data, 1.0))
        return unbroadcast(g * np.where(positive, out * log_a, 0.0), b.shape)

    return Tensor._result(out, "pow", (a, b), (vjp_base, vjp_exponent))


def matmul(a, b) -> Tensor:
    """a @ b with NumPy's rules for vectors, matrices and stacks of matrices.

    Example:
        >>> (Tensor([[1.0, 2.0]]) @ Tensor([3.0, 4.0])).data.tolist()
        [11.0]
    """
    a, b = _pair(a, b)
    A, B = a.data, b.data

    def vjp_a(g):
        if B.ndim == 1:
            ga = np.multiply.outer(g, B) if A.ndim > 1 else g * B
        elif A.ndim == 1:
            ga = B @ g if B.ndim == 2 else (B @ g[..., None])[..., 0]
        else:
            ga = g @ np.swapaxes(B, -1, -2)
        return unbroadcast(ga, A.shape)

    def vjp_b(g):
        if A.ndim == 1:
            gb = np.multiply.outer(A, g) if B.ndim > 1 else g * A
        elif B.ndim == 1:
            gb = np.swapaxes(A, -1, -2) @ g if A.ndim == 2 else (
                np.swapaxes(A, -1, -2) @ g[..., None])[..., 0]
        else:
            gb = np.swapaxes(A, -1, -2) @ g
        return unbroadcast(gb, B.shape)

    return Tensor._result(A @ B, "matmul", (a, b), (vjp_a, vjp_b))


# ----- elementwise functions ----------------------------------------------------------
def exp(x) -> Tensor:
    """e ** x elementwise.

    Example:
        >>> exp(Tensor(0.0)).item()
        1.0
    """
    x = lift(x)
    out = np.exp(x.data)
    return Tensor._result(out, "exp", (x,), (lambda g: g * out,))


def log(x) -> Tensor:
    """Natural logarithm elementwise.

    Example:
        >>> log(Tensor(1.0)).item()
        0.0
    """
    x = lift(x)
    return Tensor._result(np.log(x.data), "log", (x,), (lambda g: g / x.data,))


def sqrt(x) -> Tensor:
    """Square root elementwise.

    Example:
        >>> sqrt(Tensor(9.0)).item()
        3.0
    """
    x = lift(x)
    out = np.sqrt(x.data)
    return Tensor._result(out, "sqrt", (x,), (lambda g: g * 0.5 / out,))


def abs(x) -> Tensor:  # noqa: A001 - mirrors numpy's name on purpose
    """|x| elementwise; its derivative sign(x) is taken as 0 at 0.

    Example:
        >>> abs(Tensor(-2.0)).item()
        2.0
    """
    x = lift(x)
    # The derivative of |x| is sign(x), taken as 0 at 0 (the convention of
    # Grokking Machine Learning, appendix B).
    return Tensor._result(np.abs(x.data), "abs", (x,), (lambda g: g * np.sign(x.data),))


def sin(x) -> Tensor:
    """Sine elementwise.

    Example:
        >>> sin(Tensor(0.0)).item()
        0.0
    """
    x = lift(x)
    return Tensor._result(np.sin(x.data), "sin", (x,), (lambda g: g * np.cos(x.data),))


def cos(x) -> Tensor:
    """Cosine elementwise.

    Example:
        >>> cos(Tensor(0.0)).item()
        1.0
    """
    x = lift(x)
    return Tensor._result(np.cos(x.data), "cos", (x,), (lambda g: -g * np.sin(x.data),))


def tanh(x) -> Tensor:
    """Hyperbolic tangent elementwise.

    Example:
        >>> tanh(Tensor(0.0)).item()
        0.0
    """
    x = lift(x)
    out = np.tanh(x.data)
    return Tensor._result(out, "tanh", (x,), (lambda g: g * (1.0 - out * out),))


def sigmoid(x) -> Tensor:
    """1 / (1 + exp(-x)) elementwise, exact and finite for any x.

    Example:
        >>> sigmoid(Tensor([-1000.0, 0.0])).data.tolist()
        [0.0, 0.5]
    """
    x = lift(x)
    out = numerics.sigmoid(x.data)
    # sigma' = sigma (1 - sigma), the identity of the log-loss gradient lesson.
    return Tensor._result(out, "sigmoid", (x,), (lambda g: g * out * (1.0 - out),))


def softplus(x) -> Tensor:
    """log(1 + exp(x)), finite for any x; its derivative is the sigmoid.

    Example:
        >>> softplus(Tensor([-1000.0, 1000.0])).data.tolist()
        [0.0, 1000.0]
    """
    x = lift(x)
    return Tensor._result(
        numerics.softplus(x.data), "softplus", (x,), (lambda g: g * numerics.sigmoid(x.data),)
    )


def relu(x) -> Tensor:
    """max(x, 0) elementwise; its derivative is the step function (0 at 0).

    Example:
        >>> relu(Tensor([-1.0, 2.0])).data.tolist()
        [0.0, 2.0]
    """
    x = lift(x)
    # ReLU' is the step function (Grokking Machine Learning, appendix B), taken as 0 at 0.
    return Tensor._result(np.maximum(x.data, 0), "relu", (x,), (lambda g: g * (x.data > 0),))


def _tie_split(a: np.ndarray, b: np.ndarray, prefer_a: np.ndarray) -> np.ndarray:
    # Where a == b the gradient is shared equally, which matches central differences.
    return np.where(a == b, 0.5, prefer_a.astype(a.dtype))


def maximum(a, b) -> Tensor:
    """Elementwise maximum; at ties the gradient is shared equally.

    Example:
        >>> maximum(Tensor([1.0, 5.0]), 3).data.tolist()
        [3.0, 5.0]
    """
    a, b = _pair(a, b)
    share_a = _tie_split(a.data, b.data, a.data > b.data)
    return Tensor._result(
        np.maximum(a.data, b.data), "maximum", (a, b),
        (lambda g: unbroadcast(g * share_a, a.shape),
         lambda g: unbroadcast(g * (1.0 - share_a), b.shape)),
    )


def minimum(a, b) -> Tensor:
    """Elementwise minimum; at ties the gradient is shared equally.

    Example:
        >>> minimum(Tensor([1.0, 5.0]), 3).data.tolist()
        [1.0, 3.0]
    """
    a, b = _pair(a, b)
    share_a = _tie_split(a.data, b.data, a.data < b.data)
    return Tensor._result(
        np.minimum(a.data, b.data), "minimum", (a, b),
        (lambda g: unbroadcast(g * share_a, a.shape),
         lambda g: unbroadcast(g * (1.0 - share_a), b.shape)),
    )


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``; the condition gets no gradient.

    Example:
        >>> x = Tensor([-1.0, 2.0])
        >>> where(x > 0, x, 0.0).data.tolist()
        [0.0, 2.0]
    """
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _pair(a, b)
    return Tensor._result(
        np.where(cond, a.data, b.data), "where", (a, b),
        (lambda g: unbroadcast(np.where(cond, g, 0.0), a.shape),
         lambda g: unbroadcast(np.where(cond, 0.0, g), b.shape)),
    )


# ----- reductions -------------------------------------------------------------------
def _axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axis) if ndim else ()


def _expand(g: np.ndarray, axes: tuple[int, ...], keepdims: bool, shape) -> np.ndarray:
    """Put reduced axes back into ``g`` and broadcast it to the input's shape."""
    if not keepdims and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes by default).

    Example:
        >>> sum(Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0).data.tolist()
        [4.0, 6.0]
    """
    x = lift(x)
    axes = _axes(axis, x.ndim)
    out = x.data.sum(axis=axes, keepdims=keepdims)
    return Tensor._result(out, "sum", (x,), (lambda g: _expand(g, axes, keepdims, x.shape),))


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default).

    Example:
        >>> mean(Tensor([1.0, 2.0, 6.0])).item()
        3.0
    """
    x = lift(x)
    axes = _axes(axis, x.ndim)
    count = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    out = x.data.mean(axis=axes, keepdims=keepdims)
    return Tensor._result(
        out, "mean", (x,), (lambda g: _expand(g / count, axes, keepdims, x.shape),)
    )


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """log(sum(exp(x))) along ``axis``, shifted by the maximum so it never overflows.

    Example:
        >>> round(logsumexp(Tensor([1000.0, 1000.0])).item(), 4)
        1000.6931
    """
    x = lift(x)
    axes = _axes(axis, x.ndim)
    peak = np.max(x.data, axis=axes, keepdims=True) if x.size else np.zeros(())
    peak = np.where(np.isfinite(peak), peak, 0.0)
    kept = peak + np.log(np.sum(np.exp(x.data - peak), axis=axes, keepdims=True))
    out = kept if keepdims else np.squeeze(kept, axis=axes)
    # The gradient of logsumexp is the softmax, exp(x - lse).
    return Tensor._result(
        out.astype(x.dtype, copy=False), "logsumexp", (x,),
        (lambda g: _expand(g, axes, keepdims, x.shape) * np.exp(x.data - kept),),
    )


# ----- shape --------------------------------------------------------------------------
def _is_basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, int | slice | type(None)) or p is Ellipsis for p in parts)


def getitem(x, index) -> Tensor:
    """x[index]: basic slicing or integer-array indexing (repeats accumulate).

    Example:
        >>> getitem(Tensor([1.0, 2.0, 3.0]), slice(1, None)).data.tolist()
        [2.0, 3.0]
    """
    x = lift(x)
    if isinstance(index, Tensor):
        index = index.data.astype(np.intp)
    basic = _is_basic_index(index)

    def vjp(g):
        full = np.zeros_like(x.data)
        if basic:
            full[index] = g  # a basic index never repeats an element
        else:
            np.add.at(full, index, g)  # fancy indices may repeat: accumulate
        return full

    return Tensor._result(x.data[index], "getitem", (x,), (vjp,))


def reshape(x, *shape) -> Tensor:
    """The same values in a new shape.

    Example:
        >>> reshape(Tensor([1.0, 2.0]), (2, 1)).shape
        (2, 1)
    """
    x = lift(x)
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    return Tensor._result(
        x.data.reshape(shape), "reshape", (x,), (lambda g: g.reshape(x.shape),)
    )


def transpose(x, axes=None) -> Tensor:
    """Axes permuted (reversed by default).

    Example:
        >>> transpose(Tensor([[1.0, 2.0]])).shape
        (2, 1)
    """
    x = lift(x)
    inverse = None if axes is None else tuple(np.argsort(axes))
    return Tensor._result(
        np.transpose(x.data, axes), "transpose", (x,), (lambda g: np.transpose(g, inverse),)
    )


# ----- operators on Tensor ------------------------------------------------------------
# Installed here, beside the primitives they call, so tensor.py needs no import of ops.
Tensor.__add__ = add
Tensor.__radd__ = lambda self, other: add(other, self)
Tensor.__sub__ = subtract
Tensor.__rsub__ = lambda self, other: subtract(other, self)
Tensor.__mul__ = multiply
Tensor.__rmul__ = lambda self, other: multiply(other, self)
Tensor.__truediv__ = divide
Tensor.__rtruediv__ = lambda self, other: divide(other, self)
Tensor.__pow__ = power
Tensor.__rpow__ = lambda self, other: power(other, self)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda self, other: matmul(other, self)
Tensor.__neg__ = negative
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = abs
Tensor.__getitem__ = getitem
Tensor.T = property(lambda self: transpose(self))
Tensor.reshape = reshape
Tensor.transpose = lambda self, *axes: transpose(
    self, axes[0] if len(axes) == 1 and isinstance(axes[0], tuple | list) else (axes or None)
)
Tensor.sum = sum
Tensor.mean = mean
Tensor.exp = exp
Tensor.log = log
