"""Showing a computation graph: a text table, and Graphviz DOT text."""

from __future__ import annotations

import numpy as np

from .tensor import Tensor, topological_order


def _summary(a: np.ndarray | None) -> str:
    if a is None:
        return "-"
    if a.size == 1:
        return f"{float(a.reshape(())):.6g}"
    body = np.array2string(a.reshape(-1)[:4], precision=4, separator=", ")
    more = ", ..." if a.size > 4 else ""
    return f"{body[:-1]}{more}] shape {a.shape}"


def _labels(nodes: list[Tensor]) -> dict[int, str]:
    """A readable name per node: its own name, a constant's value, else op#index."""

    def label(i: int, n: Tensor) -> str:
        if n.name:
            return n.name
        if n.op == "const" and n.size == 1:
            return _summary(n.data)
        return f"{n.op}#{i}"

    return {id(n): label(i, n) for i, n in enumerate(nodes)}


def show_graph(root: Tensor) -> str:
    """A text table of the graph behind ``root``: one row per node, inputs first.

    Columns: node, operation, its inputs, value and gradient (after ``backward()``).

    Example:
        >>> a = Tensor(2.0, name="a")
        >>> J = a * a
        >>> J.backward()
        >>> print(show_graph(J))  # doctest: +NORMALIZE_WHITESPACE
        node   op     inputs  value  grad
        a      input          2      4
        mul#1  mul    a, a    4      1
    """
    nodes = topological_order(root)
    names = _labels(nodes)
    rows = [("node", "op", "inputs", "value", "grad")]
    for n in nodes:
        inputs = ", ".join(names[id(p)] for p in n.parents)
        rows.append((names[id(n)], n.op, inputs, _summary(n.data), _summary(n.grad)))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(root: Tensor) -> str:
    """Graphviz DOT text for the graph behind ``root`` (values and gradients in labels).

    Render it with any Graphviz tool (``dot -Tsvg``); descent itself never needs one.

    Example:
        >>> a = Tensor(2.0, name="a")
        >>> print(to_dot(a * 3).splitlines()[0])
        digraph computation {
    """
    nodes = topological_order(root)
    names = _labels(nodes)
    out = ["digraph computation {", "  rankdir=LR;", '  node [shape=record, fontname="Helvetica"];']
    for i, n in enumerate(nodes):
        label = f"{names[id(n)]} | {n.op} | value {_summary(n.data)} | grad {_summary(n.grad)}"
        out.append(f'  n{i} [label="{{{_dot_escape(label)}}}"];')
    index = {id(n): i for i, n in enumerate(nodes)}
    for i, n in enumerate(nodes):
        for p in n.parents:
            out.append(f"  n{index[id(p)]} -> n{i};")
    out.append("}")
    return "\n".join(out)
