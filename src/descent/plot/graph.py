"""The computation graph behind a Tensor, drawn as boxes and arrows."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..autodiff.tensor import Tensor, topological_order
from ._common import new_figure

# Layout in data units; the figure is sized so one unit is about INCH inches.
COLUMN, ROW, BOX_W, BOX_H, INCH, BAND = 2.3, 1.25, 1.7, 0.95, 0.85, 10
FILL = {"input": "#d9f0d3", "const": "#eeeeee"}


def _number(a: np.ndarray | None) -> str:
    # Vectors show their shape: forty numbers do not fit in a box.
    if a is None:
        return ""
    return f"{float(a.reshape(())):.4g}" if a.size == 1 else f"shape {a.shape}"


def _box_text(i: int, node: Tensor) -> str:
    if node.name:
        head = node.name if not node.parents else f"{node.name} = {node.op}"
    elif node.op == "const" and node.size == 1:
        head = "const"
    else:
        head = f"{node.op}#{i}"
    lines = [head, f"value {_number(node.data)}"]
    if node.grad is not None:
        lines.append(f"grad {_number(node.grad)}")
    return "\n".join(lines)


def _layout(nodes: list[Tensor]) -> dict[int, tuple[int, int]]:
    """(column, row) per node: columns by depth, rows ordered to keep arrows short."""
    depth: dict[int, int] = {}
    children: dict[int, list[Tensor]] = {id(n): [] for n in nodes}
    for n in nodes:  # parents come first in a topological order
        depth[id(n)] = 1 + max((depth[id(p)] for p in n.parents), default=-1)
        for p in n.parents:
            children[id(p)].append(n)
    for n in nodes:
        # Inputs and constants sit just left of their first use, not all at column 0.
        if not n.parents and children[id(n)]:
            depth[id(n)] = min(depth[id(c)] for c in children[id(n)]) - 1
    used = sorted(set(depth.values()))
    column_of = {d: k for k, d in enumerate(used)}
    columns: list[list[Tensor]] = [[] for _ in used]
    for n in nodes:
        columns[column_of[depth[id(n)]]].append(n)
    place: dict[int, tuple[int, float]] = {}
    # From the output leftwards, each node goes next to the children it feeds.
    for k in range(len(columns) - 1, -1, -1):
        def key(n: Tensor, k=k) -> tuple[float, int]:
            ys = [place[id(c)][1] for c in children[id(n)] if id(c) in place]
            return (-float(np.mean(ys)) if ys else 0.0, n.seq)

        ordered = sorted(columns[k], key=key)
        for row, n in enumerate(ordered):
            place[id(n)] = (k, (len(ordered) - 1) / 2 - row)
    return place


def plot_graph(output: Tensor, *, title: str | None = None):
    """Draw the graph recorded behind ``output``: inputs on the left, ``output`` on the right.

    Each box shows a node's name (or operation), its value and, after ``backward()``,
    its gradient; arrays show their shape instead. Arrows run from each input of an
    operation to its result and are labelled with the operation.

    Example:
        >>> from descent.demo import seed_graph
        >>> g = seed_graph()
        >>> g["J"].backward()
        >>> texts = [t.get_text() for t in plot_graph(g["J"]).axes[0].texts]
        >>> "a\\nvalue 5\\ngrad 3" in texts
        True
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"plot_graph needs a descent Tensor, got {type(output).__name__}")
    nodes = topological_order(output)
    place = _layout(nodes)
    n_cols = 1 + max(c for c, _ in place.values())
    n_rows = max(sum(1 for c, _ in place.values() if c == k) for k in range(n_cols))
    # A deep graph wraps into bands of BAND columns, read top to bottom like lines of text.
    n_bands = -(-n_cols // BAND)
    band_height = max(n_rows, 2) * ROW + 0.6
    width, height = min(n_cols, BAND) * COLUMN, n_bands * band_height
    # Big graphs shrink as a whole (boxes and letters together) to stay a sane size.
    shrink = min(1.0, 26 / (width * INCH), 18 / (height * INCH))
    fig, (ax,) = new_figure(1, size=(width * INCH * shrink, height * INCH * shrink + 0.5))
    ax.set_position([0.0, 0.0, 1.0, height * INCH * shrink / (height * INCH * shrink + 0.5)])
    font = max(8.0 * shrink, 2.5)
    centre = {id(n): ((c % BAND) * COLUMN, y * ROW - (c // BAND + 0.5) * band_height)
              for n, (c, y) in ((n, place[id(n)]) for n in nodes)}
    for n in nodes:
        (xc, yc) = centre[id(n)]
        for p in n.parents:
            (xp, yp) = centre[id(p)]
            start, end = (xp + BOX_W / 2, yp), (xc - BOX_W / 2, yc)
            wrapped = xc < xp  # the arrow runs on to the next band
            ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", color="0.35",
                                         mutation_scale=12 * shrink, linewidth=shrink,
                                         linestyle="--" if wrapped else "-",
                                         alpha=0.5 if wrapped else 1.0, zorder=1))
            ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, n.op, ha="center",
                    va="center", fontsize=0.85 * font, color="0.25", zorder=2, gid="op",
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"})
    for i, n in enumerate(nodes):
        (x, y) = centre[id(n)]
        fill = "#ffe9a8" if n is output else FILL.get(n.op, "#dbe9f6")
        ax.add_patch(FancyBboxPatch((x - BOX_W / 2, y - BOX_H / 2), BOX_W, BOX_H,
                                    boxstyle="round,pad=0.02", fc=fill, ec="0.3",
                                    linewidth=shrink, zorder=3))
        ax.text(x, y, _box_text(i, n), ha="center", va="center", fontsize=font, zorder=4,
                gid="node")
    ax.set_xlim(-COLUMN / 2, width - COLUMN / 2)
    ax.set_ylim(-height, 0.0)
    ax.axis("off")
    after = ", after backward()" if output.grad is not None else ""
    name = output.name or f"{output.op}#{len(nodes) - 1}"
    fig.suptitle(title or f"the graph behind {name}: {len(nodes)} nodes{after}",
                 fontsize=max(10 * shrink, 6))
    return fig
