"""Gradient descent on a function: one weight, the loop itself, restarts, learning rates.

Each example runs ``descent.minimize`` on a function written here and tells what the
steps did.
"""

from __future__ import annotations

import numpy as np

from .. import autodiff as ad
from ..minimize import minimize
from .section import Picture, Section, _fmt, _history, _picture, _plot, _short, _steps


# ----- 2. one weight -----------------------------------------------------------------------
def section_one_weight(epochs: int = 1000, learning_rate: float = 0.01) -> Section:
    """The one-weight example of Introduction to the Math of Gradient Descent: fit m in
    y = m x by squared error, from its numbers."""
    x, m0, y = -1.12242755, 1.06498435, -0.290105
    result = minimize(
        lambda m: (y - m * x) ** 2, x0=m0, learning_rate=learning_rate, epochs=epochs, tol=0.0
    )
    rows = [
        [str(e), _fmt(result.path[e]), _fmt(result.losses[e])]
        for e in range(0, epochs, 100)
    ]
    rows.append([str(result.n_steps), _fmt(result.x), _fmt(result.fun)])
    losses = np.asarray(result.losses)
    return Section(
        title="One weight, squared error",
        text=(
            f"Predict y={y} from x={x} with y_hat = m*x, starting at m={m0}. Each epoch "
            f"moves m against d/dm (y - m x)^2 = -2x(y - m x), with learning rate {learning_rate}."
            "\n\n"
            f"After {result.n_steps} epochs m = {_fmt(result.x)} (the exact answer is "
            f"y/x = {_fmt(y / x)}) and the loss has fallen from {_fmt(losses[0])} to "
            f"{_fmt(result.fun)}. Every step shrinks the gap to the answer by the same "
            "factor, which is why the loss falls as a straight line on a log scale."
        ),
        columns=["epoch", "m", "loss"],
        rows=rows,
        facts={"m": float(result.x), "target_m": y / x, "final_loss": result.fun},
        figures=[_picture(
            "loss", "The squared error of the one-weight model, epoch by epoch (log scale).",
            "plot_loss", _history(losses[losses > 0]), log=True,
            title="one weight: loss by epoch")],
        summary=f"m = {_short(result.x)}, loss {_short(result.fun)}",
    )


# ----- 3. the pseudocode on a curve and on a surface ----------------------------------------
PSEUDOCODE = """\
given: a function f, a learning rate eta, a number of epochs N
p <- a starting point (chosen at random, or given)
repeat N times:
    g <- the gradient of f at p          (which way is uphill, and how steep)
    p <- p - eta * g                     (a small step downhill)
    if the step was tiny: stop, p is (close to) a minimum
answer: p"""


def curve(x):
    """A lopsided valley with its minimum at x = 1: x^4 / 4 - x + 2."""
    return x**4 / 4 - x + 2


def errorest(p):
    """Mount Errorest, a long valley: f(x, y) = x^2 / 2 + 5 y^2 / 2, lowest at (0, 0)."""
    return 0.5 * p[0] ** 2 + 2.5 * p[1] ** 2


def _first_steps_and_last(n_steps: int, first: int = 4) -> tuple[int, ...]:
    """The step numbers a table shows: the first few, then the last."""
    return (*range(min(first, n_steps)), n_steps)


def section_pseudocode(learning_rate: float = 0.1, x0: float = -1.5,
                       rate_2d: float = 0.3, p0=(-4.0, 1.8)) -> Section:
    """The gradient-descent loop, run on a function of one and of two variables."""
    one = minimize(curve, x0=x0, learning_rate=learning_rate, epochs=500, tol=1e-6)
    two = minimize(errorest, x0=list(p0), learning_rate=rate_2d, epochs=500, tol=1e-6)
    rows = []
    path1 = np.ravel(one.path)
    for i in _first_steps_and_last(one.n_steps):
        slope = path1[i] ** 3 - 1
        rows.append(["f(x) = x^4/4 - x + 2", str(i), f"x = {_short(path1[i])}",
                     _short(slope), _short(one.losses[i])])
    for i in _first_steps_and_last(two.n_steps):
        px, py = two.path[i]
        rows.append(["Mount Errorest", str(i), f"({_short(px)}, {_short(py)})",
                     f"({_short(px)}, {_short(5 * py)})", _short(two.losses[i])])
    bounds_1d = (-1.8, 1.8)
    return Section(
        title="The gradient descent loop on a curve and on a mountain",
        text=(
            "Gradient descent needs three things: where to start, how big a step to take "
            "(the learning rate) and how many steps to allow (the epochs). At every step it "
            "asks which way the function climbs fastest, the gradient, and steps the other "
            "way by the learning rate times the gradient."
            "\n\n"
            f"On the curve x^4/4 - x + 2, starting at x = {x0} with learning rate "
            f"{learning_rate}, the first steps are long because the slope there is steep; "
            f"they shorten as the curve flattens, and after {one.n_steps} steps x = "
            f"{_fmt(one.x)} (the minimum is at 1)."
            "\n\n"
            f"Mount Errorest is the surface x^2/2 + 5y^2/2, steep across and gentle along. "
            f"From {tuple(p0)} with learning rate {rate_2d} each step overshoots the narrow "
            f"direction and lands on the other side, so the path zigzags down the valley; "
            f"after {two.n_steps} steps it stands at ({_short(two.x[0])}, {_short(two.x[1])}) "
            f"with f = {_short(two.fun)}."
        ),
        columns=["function", "step", "point", "gradient", "f"],
        rows=rows,
        facts={
            "x_1d": float(one.x), "steps_1d": one.n_steps, "status_1d": one.status,
            "x_2d": np.asarray(two.x).tolist(), "steps_2d": two.n_steps,
            "fun_2d": float(two.fun), "first_step_2d": np.asarray(two.path[1]).tolist(),
        },
        figures=[
            _picture("curve", "The descent on x^4/4 - x + 2 with the tangent used at each "
                     "step, and how long each step was.", "plot_path_1d", curve, one,
                     bounds=bounds_1d),
            Picture("curve-animation",
                    lambda path: _plot("animate_descent", curve, one, path, kind="1d",
                                       bounds=bounds_1d, fps=4, max_frames=30),
                    "The same descent, one frame per step.", animated=True),
            _picture("errorest-contour", "Mount Errorest from above: contour lines and the "
                     "zigzag path to the bottom.", "plot_contour_path", errorest, two,
                     bounds=[(-4.5, 4.5), (-2.2, 2.2)]),
            _picture("errorest-surface", "Mount Errorest in 3-D with the path walking down.",
                     "plot_surface_path", errorest, two, bounds=[(-4.5, 4.5), (-2.2, 2.2)]),
        ],
        code=PSEUDOCODE,
        summary=f"1-D: {_steps(one.n_steps)} to x = {_short(one.x)}; "
                f"2-D: {_steps(two.n_steps)} to f = {_short(two.fun)}",
    )


# ----- 4. local minima ---------------------------------------------------------------------
def three_valleys(x):
    """Three valleys on [0, 6] at about 1, 3 and 5; the deepest is the middle one."""
    wells = (
        1.0 * ad.exp(-((x - 1) ** 2) / 0.3)
        + 1.5 * ad.exp(-((x - 3) ** 2) / 0.3)
        + 1.2 * ad.exp(-((x - 5) ** 2) / 0.3)
    )
    return 0.02 * (x - 3) ** 2 - wells


def _run_row(label: str, run) -> list[str]:
    """One descent as a table row: where it started, where it ended and why it stopped."""
    return [label, _fmt(run.start), _fmt(run.x), _fmt(run.fun), run.status]


def section_restarts(restarts: int = 5, random_state: int = 0) -> Section:
    """Local minima: one start gets stuck; random restarts find the deepest valley."""
    single = minimize(three_valleys, x0=0.3, learning_rate=0.05, epochs=1000)
    many = minimize(
        three_valleys, bounds=(0, 6), restarts=restarts, learning_rate=0.05, epochs=1000,
        random_state=random_state,
    )
    rows = [_run_row("single start", single)]
    for i, run in enumerate(many.runs):
        mark = " (best)" if i == many.best_run else ""
        rows.append(_run_row(f"restart {i + 1}{mark}", run))
    return Section(
        title="Local minima and random restarts",
        text=(
            "A function with three valleys on [0, 6]. Started at 0.3, descent settles in the "
            f"nearest valley; {restarts} random starts give it more chances, and the best "
            "end point wins."
            "\n\n"
            f"The single start stops at x = {_short(single.x)} with f = {_short(single.fun)}; "
            f"the best of the restarts reaches x = {_short(many.x)} with f = "
            f"{_short(many.fun)}, the deepest valley."
        ),
        columns=["run", "start", "end x", "f(end)", "status"],
        rows=rows,
        facts={"single_x": float(single.x), "best_x": float(many.x), "best_fun": many.fun},
        figures=[
            _picture("single-start", "One start at 0.3: descent walks into the nearest "
                     "valley and stays there.", "plot_path_1d", three_valleys, single,
                     bounds=(0, 6), tangents=False),
            _picture("restarts", "Random restarts: each start and where it ended; the star "
                     "marks the best end point.", "plot_restarts", three_valleys, many,
                     bounds=(0, 6)),
        ],
        summary=f"one start: x = {_short(single.x)}; best of {restarts}: x = {_short(many.x)}",
    )


# ----- 5. learning rates -------------------------------------------------------------------
def _square(x):
    return x**2


def section_learning_rates(rates=(0.01, 0.5, 0.95, 1.05), x0: float = 5.0) -> Section:
    """The exercise of Understanding the Mathematics behind Gradient Descent on f(x) = x^2:
    too small, right, bouncy and too large."""
    rows, facts, results = [], {}, {}
    for lr in rates:
        r = minimize(_square, x0=x0, learning_rate=lr, epochs=1000, tol=1e-6)
        verdict = "diverged" if r.status == "diverged" else _steps(r.n_steps)
        rows.append([f"{lr:g}", verdict, _fmt(r.x), r.message])
        facts[lr] = {"status": r.status, "n_steps": r.n_steps}
        results[lr] = r
    return Section(
        title="Too small, right, too large",
        text=(
            f"f(x) = x^2 from x={x0}. A tiny rate crawls, 0.5 lands on the minimum in one "
            "step, 0.95 overshoots back and forth before settling, and above 1 every step "
            "overshoots further than the last: the run diverges."
            "\n\n"
            "On x^2 each step multiplies x by (1 - 2 * rate): "
            + "; ".join(f"rate {lr:g} " + ("diverges" if facts[lr]["status"] == "diverged"
                                             else f"takes {row[1]}")
                        for lr, row in zip(rates, rows, strict=True))
            + "."
        ),
        columns=["learning rate", "outcome", "end x", "why it stopped"],
        rows=rows,
        facts=facts,
        figures=[_picture("rates", "The same descent on x^2 with four learning rates.",
                          "plot_learning_rates", _square, results, bounds=(-6, 6))],
        summary="; ".join(f"{lr:g}: {row[1]}" for lr, row in zip(rates, rows, strict=True)),
    )

