"""The seeds' worked examples, computed: the data behind ``descent demo``.

Each ``section_*`` function runs one example and returns a ``Section``: a title, a
short text in our words, a table of the numbers it produced and the key facts. The
command line prints them; later the report draws them. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import autodiff as ad
from .minimize import minimize


@dataclass
class Section:
    """One worked example: what it shows, and the numbers it produced."""

    title: str
    text: str
    columns: list[str]
    rows: list[list[str]]
    facts: dict[str, object] = field(default_factory=dict)


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _fmt(x) -> str:
    return f"{float(x):.6g}"


def seed_graph() -> dict[str, ad.Tensor]:
    """Seed 002's graph: u = b c, v = a + u, J = 3 v at a = 5, b = 3, c = 2."""
    a, b, c = ad.Tensor(5.0, name="a"), ad.Tensor(3.0, name="b"), ad.Tensor(2.0, name="c")
    u = b * c
    v = a + u
    J = 3 * v
    u.name, v.name, J.name = "u", "v", "J"
    return {"a": a, "b": b, "c": c, "u": u, "v": v, "J": J}


def section_graph(nudge: float = 0.001) -> Section:
    """The chain rule on seed 002's graph, checked input by input against nudging."""
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
    return Section(
        title="The computation graph and the chain rule",
        text=(
            "u = b*c, v = a + u, J = 3*v with a=5, b=3, c=2. The engine walks the graph "
            f"backwards; nudging each input by {nudge} and watching J move checks every slope."
        ),
        columns=["node", "value", "dJ/dnode (chain rule)", "dJ/dnode (nudging)"],
        rows=rows,
        facts={"J": nodes["J"].item(), "graph": ad.show_graph(nodes["J"])},
    )


def section_one_weight(epochs: int = 1000, learning_rate: float = 0.01) -> Section:
    """Seed 002's one-weight example: fit m in y = m x by squared error, from its numbers."""
    x, m0, y = -1.12242755, 1.06498435, -0.290105
    result = minimize(
        lambda m: (y - m * x) ** 2, x0=m0, learning_rate=learning_rate, epochs=epochs, tol=0.0
    )
    rows = [
        [str(e), _fmt(result.path[e]), _fmt(result.losses[e])]
        for e in range(0, epochs, 100)
    ]
    rows.append([str(result.n_steps), _fmt(result.x), _fmt(result.fun)])
    return Section(
        title="One weight, squared error",
        text=(
            f"Predict y={y} from x={x} with y_hat = m*x, starting at m={m0}. Each epoch "
            f"moves m against d/dm (y - m x)^2 = -2x(y - m x), with learning rate {learning_rate}."
        ),
        columns=["epoch", "m", "loss"],
        rows=rows,
        facts={"m": float(result.x), "target_m": y / x, "final_loss": result.fun},
    )


def three_valleys(x):
    """Three valleys on [0, 6] at about 1, 3 and 5; the deepest is the middle one."""
    wells = (
        1.0 * ad.exp(-((x - 1) ** 2) / 0.3)
        + 1.5 * ad.exp(-((x - 3) ** 2) / 0.3)
        + 1.2 * ad.exp(-((x - 5) ** 2) / 0.3)
    )
    return 0.02 * (x - 3) ** 2 - wells


def section_restarts(restarts: int = 5, random_state: int = 0) -> Section:
    """Local minima: one start gets stuck; random restarts find the deepest valley."""
    single = minimize(three_valleys, x0=0.3, learning_rate=0.05, epochs=1000)
    many = minimize(
        three_valleys, bounds=(0, 6), restarts=restarts, learning_rate=0.05, epochs=1000,
        random_state=random_state,
    )
    rows = [["single start", _fmt(single.start), _fmt(single.x), _fmt(single.fun), single.status]]
    for i, run in enumerate(many.runs):
        mark = " (best)" if i == many.best_run else ""
        rows.append([f"restart {i + 1}{mark}", _fmt(run.start), _fmt(run.x), _fmt(run.fun),
                     run.status])
    return Section(
        title="Local minima and random restarts",
        text=(
            "A function with three valleys on [0, 6]. Started at 0.3, descent settles in the "
            f"nearest valley; {restarts} random starts give it more chances, and the best "
            "end point wins."
        ),
        columns=["run", "start", "end x", "f(end)", "status"],
        rows=rows,
        facts={"single_x": float(single.x), "best_x": float(many.x), "best_fun": many.fun},
    )


def section_learning_rates(rates=(0.01, 0.5, 0.95, 1.05), x0: float = 5.0) -> Section:
    """Seed 003's exercise on f(x) = x^2: too small, right, bouncy and too large."""
    rows, facts = [], {}
    for lr in rates:
        r = minimize(lambda x: x**2, x0=x0, learning_rate=lr, epochs=1000, tol=1e-6)
        verdict = "diverged" if r.status == "diverged" else _steps(r.n_steps)
        rows.append([f"{lr:g}", verdict, _fmt(r.x), r.message])
        facts[lr] = {"status": r.status, "n_steps": r.n_steps}
    return Section(
        title="Too small, right, too large",
        text=(
            f"f(x) = x^2 from x={x0}. A tiny rate crawls, 0.5 lands on the minimum in one "
            "step, 0.95 overshoots back and forth before settling, and above 1 every step "
            "overshoots further than the last: the run diverges."
        ),
        columns=["learning rate", "outcome", "end x", "why it stopped"],
        rows=rows,
        facts=facts,
    )


def all_sections() -> list[Section]:
    """Every worked example, in the order the seeds tell them."""
    return [section_graph(), section_one_weight(), section_restarts(), section_learning_rates()]
