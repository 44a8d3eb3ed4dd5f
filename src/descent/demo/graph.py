"""The computation graph of Introduction to the Math of Gradient Descent: the chain rule,
checked against nudging each input."""

from __future__ import annotations

from .. import autodiff as ad
from .section import Section, _fmt, _picture


def seed_graph() -> dict[str, ad.Tensor]:
    """The graph of Introduction to the Math of Gradient Descent: u = b c, v = a + u,
    J = 3 v at a = 5, b = 3, c = 2."""
    a, b, c = ad.Tensor(5.0, name="a"), ad.Tensor(3.0, name="b"), ad.Tensor(2.0, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    u.name, v.name, J.name = "u", "v", "J"
    return {"a": a, "b": b, "c": c, "u": u, "v": v, "J": J}


def section_graph(nudge: float = 0.001) -> Section:
    """The chain rule on the graph of Introduction to the Math of Gradient Descent, checked
    input by input against nudging."""
    nodes = seed_graph()
    nodes["J"].backward()
    rows = []
    for name in ("v", "u", "a", "b", "c"):
        nudged = {k: nodes[k].item() for k in "abc"}
        if name in "abc":
            nudged[name] += nudge
            u = nudged["b"] * nudged["c"]
            v = nudged["a"] + u
        else:
            u = nodes["u"].item() + (nudge if name == "u" else 0.0)
            v = nodes["a"].item() + u + (nudge if name == "v" else 0.0)
        slope = (3 * v - nodes["J"].item()) / nudge
        rows.append([name, _fmt(nodes[name].item()), _fmt(nodes[name].grad), f"{slope:.6f}"])
    graph = ad.show_graph(nodes["J"])
    grads = {k: float(nodes[k].grad) for k in "abc"}
    return Section(
        title="The computation graph and the chain rule",
        text=(
            "u = b*c, v = a + u, J = 3*v with a=5, b=3, c=2. The engine walks the graph "
            f"backwards; nudging each input by {nudge} and watching J move checks every slope."
            "\n\n"
            f"J comes out at {_fmt(nodes['J'].item())}. Going backwards, each node's slope is "
            "the slope of the node above it times the local slope of the operation between "
            f"them, so dJ/da = {_fmt(grads['a'])}, dJ/db = 3 * c = {_fmt(grads['b'])} and "
            f"dJ/dc = 3 * b = {_fmt(grads['c'])}: the same numbers the nudges measure."
        ),
        columns=["node", "value", "dJ/dnode (chain rule)", "dJ/dnode (nudging)"],
        rows=rows,
        facts={"J": nodes["J"].item(), "graph": graph, **{f"dJ/d{k}": g for k, g in grads.items()}},
        figures=[_picture(
            "graph", "Each node of the graph with its value and the slope of J with respect "
            "to it, as backward() left them.", "plot_graph", nodes["J"],
            title="J = 3 (a + b c): values and slopes")],
        code=graph,
        summary=", ".join(f"dJ/d{k} = {_fmt(g)}" for k, g in grads.items()),
    )
