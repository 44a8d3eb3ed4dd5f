"""The Tensor: an array that remembers how it was made, and the reverse sweep.

Every operation returns a new Tensor holding its value, the operation's name,
its parents and one vector-Jacobian product (VJP) per parent. ``backward()``
sorts the graph topologically (iteratively, so deep graphs cannot hit the
recursion limit) and walks it once in reverse, accumulating gradients.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Sequence
from operator import attrgetter

import numpy as np

Vjp = Callable[[np.ndarray], np.ndarray]

# Every tensor gets the next number when it is made. A result is always made after its
# parents, so sorting a graph's nodes by this number is a topological order.
_creation_counter = itertools.count()
_by_creation = attrgetter("seq")


def as_float_array(data, dtype=None) -> np.ndarray:
    """Return ``data`` as a float ndarray: float32/float64 kept, anything else float64."""
    arr = np.asarray(data, dtype=dtype)
    if arr.dtype.kind == "f" and arr.dtype.itemsize >= 4:
        return arr
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    raise TypeError(
        f"Tensor data must be numeric, got dtype {arr.dtype}; "
        "convert it with np.asarray(data, dtype=float) first."
    )


class Tensor:
    """A float array that records the operations applied to it, for gradients.

    Args:
        data: a number or array-like; float32 and float64 are kept, other numeric
            types become float64.
        name: an optional label shown by ``show_graph`` and ``to_dot``.
        requires_grad: whether gradients flow to this tensor (constants say False).

    Example:
        >>> a, b = Tensor(5.0, name="a"), Tensor(3.0, name="b")
        >>> J = 3 * (a + b)
        >>> J.backward()
        >>> float(a.grad), float(b.grad)
        (3.0, 3.0)
    """

    __slots__ = (
        "data", "grad", "name", "op", "parents", "vjps", "requires_grad", "seq", "__weakref__"
    )
    # Tell NumPy to hand mixed expressions (ndarray * Tensor) back to our operators
    # instead of building an object array element by element.
    __array_ufunc__ = None

    def __init__(self, data, name: str | None = None, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        self.data = as_float_array(data)
        self.grad: np.ndarray | None = None
        self.name = name
        self.op = "input" if requires_grad else "const"
        self.parents: tuple[Tensor, ...] = ()
        self.vjps: tuple[Vjp | None, ...] = ()
        self.requires_grad = requires_grad
        self.seq = next(_creation_counter)

    @classmethod
    def _result(cls, data, op: str, parents: Sequence[Tensor], vjps: Sequence[Vjp]) -> Tensor:
        """Build an operation's output; a result of constants stays a constant."""
        out = object.__new__(cls)
        out.data = data if data.__class__ is np.ndarray else np.asarray(data)
        out.grad = None
        out.name = None
        out.op = op
        out.seq = next(_creation_counter)
        for p in parents:
            if p.requires_grad:
                out.requires_grad = True
                out.parents = parents
                out.vjps = vjps
                return out
        out.requires_grad = False
        out.parents = out.vjps = ()
        return out

    @classmethod
    def _constant(cls, data: np.ndarray) -> Tensor:
        """A constant from an array already known to be float (skips validation)."""
        out = object.__new__(cls)
        out.data, out.grad, out.name, out.op = data, None, None, "const"
        out.seq = next(_creation_counter)
        out.parents = out.vjps = ()
        out.requires_grad = False
        return out

    # ----- array facts -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        return float(self.data.item())

    def numpy(self) -> np.ndarray:
        """The underlying array (not a copy)."""
        return self.data

    def __repr__(self) -> str:
        label = f", name={self.name!r}" if self.name else ""
        body = np.array2string(self.data, precision=6, threshold=8, edgeitems=2)
        return f"Tensor({body}, op={self.op!r}{label})"

    # Comparisons give plain boolean arrays: they have no gradient, and they are
    # what ``where`` and masks want.
    def __lt__(self, other):
        return self.data < _value(other)

    def __le__(self, other):
        return self.data <= _value(other)

    def __gt__(self, other):
        return self.data > _value(other)

    def __ge__(self, other):
        return self.data >= _value(other)

    # ----- gradients ---------------------------------------------------------------
    def backward(self, grad=None) -> None:
        """Fill ``.grad`` of this tensor and every tensor it depends on.

        Gradients add up across calls, as in PyTorch; call ``zero_grad()`` to start over.

        Args:
            grad: the seed gradient, with this tensor's shape. It may be left out
                only when the tensor holds a single number (the seed is then 1).

        Example:
            >>> x = Tensor([1.0, 2.0])
            >>> (x * x).sum().backward()
            >>> x.grad
            array([2., 4.])
        """
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() needs a seed gradient for a non-scalar tensor of shape "
                    f"{self.shape}; reduce it first (e.g. .sum() or .mean()) or pass "
                    "backward(grad=array_of_the_same_shape)."
                )
            seed = np.ones_like(self.data)
        else:
            seed = np.broadcast_to(np.asarray(grad, dtype=self.dtype), self.shape).copy()
        if not self.requires_grad:
            raise ValueError(
                "this tensor does not depend on any tensor that requires a gradient; "
                "create the inputs with Tensor(data) (requires_grad=True)."
            )
        # The sweep makes no reference cycles, so the cyclic garbage collector has
        # nothing to find; pausing it avoids rescanning a large live graph.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._sweep(seed)
        finally:
            if collecting:
                gc.enable()

    def _sweep(self, seed: np.ndarray) -> None:
        pending: dict[int, np.ndarray] = {id(self): seed}
        for node in reversed(topological_order(self, constants=False)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            node.grad = g if node.grad is None else node.grad + g
            for parent, vjp in zip(node.parents, node.vjps, strict=False):
                if not parent.requires_grad:
                    continue
                pg = vjp(g)
                data = parent.data
                if pg.dtype != data.dtype or pg.shape != data.shape:
                    pg = np.broadcast_to(pg, data.shape).astype(data.dtype)
                key = id(parent)
                if key in pending:
                    pending[key] = pending[key] + pg
                else:
                    pending[key] = pg

    def zero_grad(self) -> None:
        """Forget the gradients of this tensor and of everything it depends on."""
        for node in topological_order(self):
            node.grad = None


def topological_order(root: Tensor, constants: bool = True) -> list[Tensor]:
    """Nodes that ``root`` depends on (itself included), each after all its parents.

    An iterative search (a chain of 100,000 operations needs no recursion), then a
    sort by creation number. With ``constants=False`` nodes needing no gradient are
    left out.
    """
    nodes = [root]
    seen = {id(root)}
    stack = [root]
    while stack:
        for p in stack.pop().parents:
            if id(p) not in seen and (constants or p.requires_grad):
                seen.add(id(p))
                nodes.append(p)
                stack.append(p)
    nodes.sort(key=_by_creation)
    return nodes


def _value(x):
    return x.data if isinstance(x, Tensor) else x


def lift(x, like: Tensor | None = None) -> Tensor:
    """Wrap a number or array as a constant Tensor (Tensors pass through).

    A Python number takes the dtype of ``like`` so float32 stays float32.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, int | float) and not isinstance(x, bool):
        return Tensor._constant(np.asarray(x, dtype=like.data.dtype))
    return Tensor(x, requires_grad=False)
