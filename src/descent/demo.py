"""The seeds' worked examples, computed: the data behind ``descent demo`` and the report.

Each ``section_*`` function runs one example and returns a ``Section``: a title, a
short text in our words, a table of the numbers it produced, the key facts and the
pictures that go with it. Pictures are recipes (``Picture``), drawn only when the
report asks, so the command line never pays for matplotlib. Nothing here prints.

Every example runs on built-in data: numbers written here, data generated from a
fixed seed, or data sets bundled with scikit-learn. Two runs give the same numbers
(only the wall-clock times in the batch-size section differ).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from . import autodiff as ad
from .minimize import minimize
from .models import (
    History,
    LinearRegression,
    LinearSVC,
    LogisticRegression,
    MLPClassifier,
    Perceptron,
)


@dataclass
class Picture:
    """A figure of a section, drawn on demand.

    Attributes:
        stem: the file name without its suffix (unique within the section).
        draw: for a still picture, a function of no arguments returning a matplotlib
            Figure; for an animation, a function of the target path that writes a GIF.
        caption: one sentence saying what the picture shows.
        animated: True when ``draw`` writes a GIF instead of returning a Figure.
    """

    stem: str
    draw: Callable[..., object]
    caption: str
    animated: bool = False

    @property
    def suffix(self) -> str:
        return ".gif" if self.animated else ".png"


@dataclass
class Section:
    """One worked example: what it shows, the numbers it produced and its pictures.

    Attributes:
        title: the heading.
        text: what happened, in a few sentences (paragraphs separated by blank lines).
        columns, rows: a small table of the numbers, as strings.
        facts: the key numbers, for tests and for anyone reusing them.
        figures: the pictures, drawn by the report.
        code: optional preformatted text (pseudocode, a printed graph).
        summary: one line of key numbers for the command line's summary table.
    """

    title: str
    text: str
    columns: list[str]
    rows: list[list[str]]
    facts: dict[str, object] = field(default_factory=dict)
    figures: list[Picture] = field(default_factory=list)
    code: str = ""
    summary: str = ""


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _fmt(x) -> str:
    return f"{float(x):.6g}"


def _short(x) -> str:
    x = float(x)
    return f"{0.0 if abs(x) < 1e-12 else x:.4g}"  # no 2.8e-17 where arithmetic left a crumb


def _plus(x) -> str:
    """' + 3' or ' - 3': a signed term to append to an expression."""
    return f" {'-' if float(x) < 0 else '+'} {_short(abs(float(x)))}"


def _plot(name: str, *args, **kwargs):
    """Call ``descent.plot.<name>``; imported here so the command line never loads matplotlib."""
    from . import plot

    return getattr(plot, name)(*args, **kwargs)


def _picture(stem: str, caption: str, name: str, *args, **kwargs) -> Picture:
    return Picture(stem, lambda: _plot(name, *args, **kwargs), caption)


def _triple(values) -> str:
    return "(" + ", ".join(_short(v) for v in values) + ")"


def _history(values) -> History:
    """A History from a plain list of losses (epoch 0 is the start)."""
    values = [float(v) for v in values]
    return History(epoch=list(range(len(values))), loss=values)


# ----- 1. the computation graph ------------------------------------------------------------
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


# ----- 2. one weight -----------------------------------------------------------------------
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


def section_pseudocode(learning_rate: float = 0.1, x0: float = -1.5,
                       rate_2d: float = 0.3, p0=(-4.0, 1.8)) -> Section:
    """The gradient-descent loop, run on a function of one and of two variables."""
    one = minimize(curve, x0=x0, learning_rate=learning_rate, epochs=500, tol=1e-6)
    two = minimize(errorest, x0=list(p0), learning_rate=rate_2d, epochs=500, tol=1e-6)
    rows = []
    path1 = np.ravel(one.path)
    for i in (*range(min(4, one.n_steps)), one.n_steps):
        slope = path1[i] ** 3 - 1
        rows.append(["f(x) = x^4/4 - x + 2", str(i), f"x = {_short(path1[i])}",
                     _short(slope), _short(one.losses[i])])
    for i in (*range(min(4, two.n_steps)), two.n_steps):
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
    """Seed 003's exercise on f(x) = x^2: too small, right, bouncy and too large."""
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


# ----- 6. linear regression ----------------------------------------------------------------
ROOMS = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])
PRICES = np.array([155.0, 197.0, 244.0, 356.0, 407.0, 448.0])


def heights_and_weights(n: int = 200, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Generated people: height in cm (mean 170, sd 9) and weight in kg, roughly linear."""
    rng = np.random.default_rng(random_state)
    height = rng.normal(170.0, 9.0, n)
    weight = 0.9 * height - 85.0 + rng.normal(0.0, 7.0, n)
    return height, weight


def _trick_fit(loss: str, learning_rate: float, epochs: int, schedule=None, X=None, y=None):
    """The seeds' tricks: plain steps on one point at a time, raw units, every step kept."""
    X = ROOMS[:, None] if X is None else X
    y = PRICES if y is None else y
    return LinearRegression(
        loss, optimizer="gd", learning_rate=learning_rate, epochs=epochs, batch_size=1,
        shuffle=True, standardize=False, tol=None, random_state=0, record_path=True,
        schedule=schedule,
    ).fit(X, y)


def _line_error(loss: str, slope: float, intercept: float, x, y) -> float:
    residual = y - (slope * x + intercept)
    return float(np.mean(np.abs(residual)) if loss == "absolute_error" else np.mean(residual**2))


def section_linear_regression(epochs: int = 1000) -> Section:
    """Linear regression with the square and the absolute trick, then on generated people."""
    square = _trick_fit("squared_error", 0.01, epochs)
    absolute = _trick_fit("absolute_error", 0.1, epochs, schedule="cosine")
    per_epoch = len(ROOMS)
    rows, lines = [], {}
    for name, model, loss in (("square", square, "squared_error"),
                              ("absolute", absolute, "absolute_error")):
        for e in (0, 1, 5, 20, 100, epochs):
            coef, intercept = model.history_.path[e * per_epoch]
            slope, b = float(coef[0, 0]), float(intercept[0])
            rows.append([f"rooms, {name} error", str(e), _short(slope), _short(b),
                         _short(_line_error(loss, slope, b, ROOMS, PRICES))])
        lines[name] = (float(model.coef_[0]), float(model.intercept_))
    ls_slope, ls_intercept = np.polyfit(ROOMS, PRICES, 1)
    rows.append(["rooms, least squares (np.polyfit)", "-", _short(ls_slope), _short(ls_intercept),
                 _short(_line_error("squared_error", ls_slope, ls_intercept, ROOMS, PRICES))])

    # One step of each trick from the flat line price = 0, on the point (5 rooms, 356).
    point, step_rate = (5.0, 356.0), 0.01
    one = dict(optimizer="gd", learning_rate=step_rate, epochs=1, batch_size=1, shuffle=False,
               standardize=False, tol=None, penalty=None)
    sq_step = LinearRegression("squared_error", **one).fit([[point[0]]], [point[1]])
    abs_step = LinearRegression("absolute_error", **one).fit([[point[0]]], [point[1]])

    height, weight = heights_and_weights()
    people = {}
    for name, loss in (("square", "squared_error"), ("absolute", "absolute_error")):
        people[name] = LinearRegression(
            loss, optimizer="gd", learning_rate=0.1, batch_size=None, epochs=300, tol=None,
            random_state=0, record_path=True,
        ).fit(height[:, None], weight)
        m = people[name]
        rows.append([f"people, {name} error", "300", _short(m.coef_[0]), _short(m.intercept_),
                     _short(_line_error(loss, m.coef_[0], m.intercept_, height, weight))])
    hw_slope, hw_intercept = np.polyfit(height, weight, 1)
    rows.append(["people, least squares (np.polyfit)", "-", _short(hw_slope),
                 _short(hw_intercept),
                 _short(_line_error("squared_error", hw_slope, hw_intercept, height, weight))])

    (sq_m, sq_b), (abs_m, abs_b) = lines["square"], lines["absolute"]
    text = (
        "A linear model predicts price = slope * rooms + intercept. Starting from a flat line "
        "at zero, the tricks look at one house at a time (batch size 1) and nudge the line "
        "towards it. The square trick moves the slope by rate * (price - prediction) * rooms, "
        "so a big miss makes a big move; the absolute trick moves it by rate * rooms in the "
        "direction of the miss, whatever its size."
        "\n\n"
        f"One step from the flat line on the house with 5 rooms priced 356, rate "
        f"{step_rate}: the square trick jumps to slope {_short(sq_step.coef_[0])} and "
        f"intercept {_short(sq_step.intercept_)}; the absolute trick creeps to slope "
        f"{_short(abs_step.coef_[0])} and intercept {_short(abs_step.intercept_)}."
        "\n\n"
        f"After {epochs} epochs (rate 0.01) the square trick's line is price = "
        f"{_short(sq_m)} * rooms + {_short(sq_b)}; least squares gives {_short(ls_slope)} * "
        f"rooms + {_short(ls_intercept)}. At a fixed rate the absolute trick never settles, "
        "because its steps keep the same size however close the line gets; so its rate "
        f"(0.1) shrinks to zero along a cosine over the {epochs} epochs. It ends at "
        f"{_short(abs_m)} * rooms + {_short(abs_b)} with a mean absolute error of "
        f"{_short(_line_error('absolute_error', abs_m, abs_b, ROOMS, PRICES))}. For these "
        "six houses many lines share the smallest mean absolute error, so the slope it "
        "settles on is one of several equally good answers."
        "\n\n"
        f"On {len(height)} generated people (height in cm, weight in kg), full-batch descent "
        f"for 300 epochs finds weight = {_short(people['square'].coef_[0])} * height"
        f"{_plus(people['square'].intercept_)} with square error (np.polyfit: "
        f"{_short(hw_slope)} * height{_plus(hw_intercept)}), and "
        f"{_short(people['absolute'].coef_[0])} * height"
        f"{_plus(people['absolute'].intercept_)} with absolute error."
    )
    marks = [0, 1, 5, 20, 100, epochs]
    return Section(
        title="Linear regression: the square trick and the absolute trick",
        text=text,
        columns=["data and error", "epoch", "slope", "intercept",
                 "mean error (square or absolute)"],
        rows=rows,
        facts={
            "square": lines["square"], "absolute": lines["absolute"],
            "least_squares": (float(ls_slope), float(ls_intercept)),
            "square_step": (float(sq_step.coef_[0]), float(sq_step.intercept_)),
            "absolute_step": (float(abs_step.coef_[0]), float(abs_step.intercept_)),
            "people_square": (float(people["square"].coef_[0]),
                              float(people["square"].intercept_)),
            "people_absolute": (float(people["absolute"].coef_[0]),
                                float(people["absolute"].intercept_)),
            "people_least_squares": (float(hw_slope), float(hw_intercept)),
        },
        figures=[
            _picture("rooms-square", "Rooms and prices: the square trick's line after "
                     "several epochs, and where it ended.", "plot_regression_fit", square,
                     ROOMS[:, None], PRICES, epochs=marks, title="square trick, batch size 1"),
            _picture("rooms-absolute", "Rooms and prices: the absolute trick's line after "
                     "several epochs.", "plot_regression_fit", absolute, ROOMS[:, None],
                     PRICES, epochs=marks, title="absolute trick, batch size 1"),
            _picture("people", "Generated heights and weights with the square-error line "
                     "as full-batch descent moved it.", "plot_regression_fit",
                     people["square"], height[:, None], weight, epochs=[0, 2, 5, 10, 30, 300],
                     title="height and weight, square error"),
            _picture("error-functions", "The error functions the models descend.",
                     "plot_error_functions"),
        ],
        summary=f"square: {_short(sq_m)} x + {_short(sq_b)}; "
                f"absolute: {_short(abs_m)} x + {_short(abs_b)}",
    )


# ----- 7. the perceptron -------------------------------------------------------------------
POINTS = np.array([[1, 0], [0, 2], [1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [3, 2]], dtype=float)
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def _mistakes(coef, intercept, X, y) -> int:
    scores = X @ np.ravel(coef) + float(np.ravel(intercept)[0])
    return int(np.sum((scores >= 0).astype(int) != y))


def section_perceptron(learning_rate: float = 0.1, epochs: int = 200) -> Section:
    """The perceptron trick, one point at a time, on eight points in the plane."""
    model = Perceptron(
        optimizer="gd", learning_rate=learning_rate, epochs=epochs, batch_size=1, shuffle=True,
        standardize=False, tol=None, random_state=0, record_path=True,
    ).fit(POINTS, LABELS)
    n = len(POINTS)
    mistakes = [_mistakes(*model.history_.path[e * n], POINTS, LABELS)
                for e in range(epochs + 1)]
    separated_at = next(e for e, m in enumerate(mistakes) if m == 0)
    rows = []
    for e in sorted({*range(min(separated_at, 8) + 1), separated_at, epochs}):
        coef, intercept = model.history_.path[e * n]
        loss = "-" if e == 0 else _short(model.history_.loss[e - 1])
        rows.append([str(e), _short(coef[0, 0]), _short(coef[0, 1]), _short(intercept[0]),
                     str(mistakes[e]), loss])
    w, b = model.coef_.ravel(), float(model.intercept_[0])
    accuracy = float(model.score(POINTS, LABELS))
    return Section(
        title="The perceptron",
        text=(
            "The perceptron predicts 1 when the score w1*x1 + w2*x2 + b is at least zero and "
            "0 otherwise: a step function of the score. A right answer costs nothing; a wrong "
            "one costs the size of its score, which is the ReLU of the score on the wrong "
            "side. One step on one misclassified point (the perceptron trick) adds rate * "
            "point to w and rate to b when the point should have been 1, and subtracts them "
            "when it should have been 0."
            "\n\n"
            f"On the eight points, with rate {learning_rate} and the points in a shuffled "
            f"order each epoch, the line made {mistakes[0]} mistakes at the start (every "
            f"point scores 0 and is called 1) and none from epoch {separated_at} on. It ends "
            f"at {_short(w[0])}*x1 + {_short(w[1])}*x2{_plus(b)} = 0, with accuracy "
            f"{accuracy:.0%}."
        ),
        columns=["epoch", "w1", "w2", "b", "mistakes at the epoch's end",
                 "mean perceptron error during the epoch"],
        rows=rows,
        facts={"accuracy": accuracy, "coef": w.tolist(), "intercept": b,
               "separated_at": separated_at, "mistakes": mistakes},
        figures=[
            _picture("activations", "The step function makes the prediction; ReLU of the "
                     "wrong-side score is the error.", "plot_activations",
                     names=("step", "relu")),
            _picture("boundary", "The eight points and the perceptron's line.",
                     "plot_decision_boundary", model, POINTS, LABELS,
                     title=f"perceptron: {accuracy:.0%} right"),
        ],
        summary=f"accuracy {accuracy:.0%}, separated after epoch {separated_at}",
    )


# ----- 8. logistic regression --------------------------------------------------------------
def section_logistic(epochs: int = 1000) -> Section:
    """Logistic regression: the logistic trick on the eight points, then real data."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    small = LogisticRegression(
        optimizer="gd", learning_rate=0.1, epochs=epochs, batch_size=1, shuffle=True,
        standardize=False, penalty=None, tol=None, random_state=0,
    ).fit(POINTS, LABELS)
    w, b = small.coef_.ravel(), float(small.intercept_[0])
    proba = small.predict_proba(POINTS)[:, 1]

    # One logistic step by hand (seed 001): w <- w + rate (y - y_hat) x, from w = 0, b = 0,
    # where y_hat = sigmoid(0) = 0.5. Two classes are needed to fit; the first row goes first.
    x0, rate = POINTS[4], 0.1
    by_hand = [*(rate * (1 - 0.5) * x0).tolist(), rate * (1 - 0.5)]
    one = LogisticRegression(optimizer="gd", learning_rate=rate, epochs=1, batch_size=1,
                             shuffle=False, standardize=False, penalty=None, tol=None,
                             record_path=True).fit(POINTS[[4, 0]], LABELS[[4, 0]])
    first_coef, first_intercept = one.history_.path[1]
    first_step = [*first_coef.ravel().tolist(), float(first_intercept[0])]

    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target)
    cancer = LogisticRegression(random_state=0, epochs=100).fit(X_train, y_train)
    train_acc, test_acc = float(cancer.score(X_train, y_train)), float(cancer.score(X_test,
                                                                                     y_test))
    rows = [
        ["eight points", "8 x 2", f"{small.score(POINTS, LABELS):.1%}", "-",
         _short(small.history_.loss[-1]), str(small.n_iter_), "gd, batch size 1, rate 0.1"],
        ["breast cancer (scikit-learn)", f"{len(X_train)} x {data.data.shape[1]}",
         f"{train_acc:.1%}", f"{test_acc:.1%}", _short(cancer.history_.loss[-1]),
         str(cancer.n_iter_), "adam, batch 32, rate 0.01, standardized"],
    ]
    return Section(
        title="Logistic regression and the log loss",
        text=(
            "Logistic regression passes the score through the sigmoid, 1 / (1 + e^-score), to "
            "get a probability between 0 and 1. Its error is the log loss: -ln(y_hat) when "
            "the label is 1 and -ln(1 - y_hat) when it is 0, small for confident right "
            "answers and large for confident wrong ones. Because the sigmoid's slope is "
            "sigmoid * (1 - sigmoid), the slope of the log loss with respect to each weight "
            "comes out as -(y - y_hat) times the feature, and the step is w <- w + rate * "
            "(y - y_hat) * x: the logistic trick."
            "\n\n"
            f"One step by hand from w = 0, b = 0 on the point {POINTS[4].tolist()} labelled "
            f"1: y_hat = 0.5, so (w1, w2, b) moves by {rate} * 0.5 * (1, 3, 1) = "
            f"{_triple(by_hand)}; the estimator's first step lands on {_triple(first_step)}."
            "\n\n"
            f"On the eight points, {epochs} epochs of the trick give {_short(w[0])}*x1 + "
            f"{_short(w[1])}*x2{_plus(b)} = 0 with every point right; the probabilities run "
            f"from {proba.min():.3f} to {proba.max():.3f}. On scikit-learn's bundled breast "
            f"cancer data ({len(data.data)} tumours, 30 measurements) a quarter is held out: "
            f"after {cancer.n_iter_} epochs the model is right on {train_acc:.1%} of the "
            f"training rows and {test_acc:.1%} of the held-out ones."
        ),
        columns=["data", "rows x features", "training accuracy", "held-out accuracy",
                 "final log loss", "epochs", "how"],
        rows=rows,
        facts={"small_accuracy": float(small.score(POINTS, LABELS)), "coef": w.tolist(),
               "intercept": b, "step_by_hand": by_hand, "first_step": first_step,
               "cancer_train_accuracy": train_acc, "cancer_test_accuracy": test_acc,
               "cancer_loss": float(cancer.history_.loss[-1])},
        figures=[
            _picture("activations", "The sigmoid turns a score into a probability.",
                     "plot_activations", names=("step", "sigmoid")),
            _picture("boundary", "The eight points, the line where the probability is 0.5, "
                     "and the probability around it.", "plot_decision_boundary", small,
                     POINTS, LABELS, title="logistic regression on the eight points"),
            _picture("cancer-loss", "Breast cancer data: the mean log loss by epoch.",
                     "plot_loss", cancer.history_, log=True,
                     title="logistic regression: log loss by epoch"),
        ],
        summary=f"8 points: {small.score(POINTS, LABELS):.0%}; breast cancer held out: "
                f"{test_acc:.1%}",
    )


# ----- 9. a neural network -----------------------------------------------------------------
def section_network(epochs: int = 300) -> Section:
    """A small sigmoid network draws a round boundary where a line cannot."""
    from sklearn.datasets import make_circles
    from sklearn.model_selection import train_test_split

    X, y = make_circles(400, noise=0.15, factor=0.4, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0,
                                                        stratify=y)
    net = MLPClassifier((8,), activation="sigmoid", learning_rate=0.02, epochs=epochs,
                        random_state=0).fit(X_train, y_train)
    line = LogisticRegression(random_state=0, epochs=epochs).fit(X_train, y_train)
    n_params = sum(W.size for W in net.coefs_) + sum(b.size for b in net.intercepts_)
    scores = {}
    rows = []
    for name, model, size in (("one hidden layer of 8 sigmoid units", net, n_params),
                              ("logistic regression (a straight line)", line, 3)):
        train_acc, test_acc = model.score(X_train, y_train), model.score(X_test, y_test)
        scores[name] = (float(train_acc), float(test_acc))
        rows.append([name, str(size), f"{train_acc:.1%}", f"{test_acc:.1%}",
                     _short(model.history_.loss[-1]), str(model.n_iter_)])
    (net_train, net_test), (line_train, line_test) = scores.values()
    return Section(
        title="A neural network",
        text=(
            "A neural network stacks the logistic unit: each hidden unit takes a weighted "
            "sum of the inputs and passes it through the sigmoid, and the output unit does "
            "the same with the hidden units' outputs. Training is the same descent on the "
            "log loss; backpropagation is the chain rule of the first section, applied layer "
            "by layer from the output back to the inputs, for a whole mini-batch at once."
            "\n\n"
            f"The data are {len(X)} generated points on two noisy rings, the inner ring one "
            "class and the outer ring the other, with a quarter held out. No straight line "
            f"separates rings: logistic regression is right on {line_test:.1%} of the "
            f"held-out points, close to a coin toss. The network, {n_params} weights and "
            f"biases trained with Adam for {net.n_iter_} epochs, bends its boundary into a "
            f"closed curve and is right on {net_test:.1%}."
        ),
        columns=["model", "weights and biases", "training accuracy", "held-out accuracy",
                 "final log loss", "epochs"],
        rows=rows,
        facts={"network_accuracy": net_test, "linear_accuracy": line_test,
               "network_train_accuracy": net_train, "linear_train_accuracy": line_train,
               "n_params": int(n_params)},
        figures=[
            _picture("network", "The network: 2 inputs, 8 hidden sigmoid units, 1 output.",
                     "plot_network", net, title="2 - 8 - 1 sigmoid network"),
            _picture("boundary", "The rings and the network's closed boundary.",
                     "plot_decision_boundary", net, X, y,
                     title=f"network: {net_test:.1%} right on held-out points"),
            _picture("line-boundary", "The same rings cut by logistic regression's line.",
                     "plot_decision_boundary", line, X, y,
                     title=f"logistic regression: {line_test:.1%} right on held-out points"),
            _picture("loss", "The network's log loss by epoch.", "plot_loss", net.history_,
                     title="network: log loss by epoch"),
            _picture("activations", "Activation functions a hidden unit can use.",
                     "plot_activations", names=("sigmoid", "tanh", "relu")),
        ],
        summary=f"network {net_test:.1%} vs line {line_test:.1%} (held out)",
    )


# ----- 10. the support vector machine ------------------------------------------------------
ON_MARGIN = 1e-3  # t * score up to 1 + this counts as on the margin line (descent ends near it)


def _svm_figure(model, X, y, title: str):
    """The decision regions with the SVM's two margin lines and its margin points added."""
    fig = _plot("plot_decision_boundary", model, X, y, title=title)
    ax = fig.axes[0]
    gx, gy = np.meshgrid(np.linspace(*ax.get_xlim(), 200), np.linspace(*ax.get_ylim(), 200))
    scores = model.decision_function(np.column_stack([gx.ravel(), gy.ravel()]))
    ax.contour(gx, gy, scores.reshape(gx.shape), levels=[-1.0, 1.0], colors="black",
               linestyles="dashed", linewidths=1.0)
    inside = (2 * np.asarray(y) - 1) * model.decision_function(X) <= 1.0 + ON_MARGIN
    ax.scatter(X[inside, 0], X[inside, 1], s=120, facecolors="none", edgecolors="black",
               linewidths=1.0, label="on or inside the margin", zorder=4)
    ax.legend(loc="best", fontsize=8)
    return fig


def section_svm(cs=(0.01, 1.0, 10.0), epochs: int = 1000) -> Section:
    """The linear SVM: hinge error plus the distance error; C trades one for the other."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(100, centers=2, cluster_std=1.2, random_state=3)
    signs = 2 * y - 1
    rows, facts, models = [], {}, {}
    for C in cs:
        # Raw units (the margin is measured in the plane drawn), the whole data per step,
        # and a rate that fades out so the last steps settle instead of hopping.
        model = LinearSVC(C=C, epochs=epochs, batch_size=None, learning_rate=0.1,
                          schedule="cosine", tol=None, standardize=False,
                          random_state=0).fit(X, y)
        w, b = model.coef_.ravel(), float(model.intercept_[0])
        margin = signs * (X @ w + b)
        width = 2.0 / float(np.linalg.norm(w))
        inside = int(np.sum(margin <= 1.0 + ON_MARGIN))
        accuracy = float(model.score(X, y))
        rows.append([f"{C:g}", _short(np.linalg.norm(w)), _short(width), str(inside),
                     f"{accuracy:.0%}", str(model.n_iter_)])
        facts[C] = {"width": width, "inside": inside, "accuracy": accuracy}
        models[C] = model
    low, high = min(cs), max(cs)
    return Section(
        title="The support vector machine",
        text=(
            "A linear SVM draws two parallel lines, score = +1 and score = -1, and puts the "
            "boundary halfway between them. Its error has two parts: the hinge error, "
            "max(0, 1 - t * score) with t = +1 or -1, charges every point that is on the wrong "
            "side of its own line; the distance error, half the squared length of w, is "
            "small when the lines are far apart (they are 2 / |w| apart). C weighs the first "
            "against the second."
            "\n\n"
            f"On {len(X)} generated points in two blobs, trained by full-batch Adam for "
            f"{epochs} epochs with a rate fading from 0.1 to 0, C = {low:g} gives lines "
            f"{_short(facts[low]['width'])} apart with {facts[low]['inside']} points on or "
            f"between them; C = {high:g} squeezes them to {_short(facts[high]['width'])} with "
            f"{facts[high]['inside']} points on or between. Every setting classifies "
            + ", ".join(f"{facts[C]['accuracy']:.0%}" for C in cs)
            + " of the points right."
        ),
        columns=["C", "|w|", "margin width 2/|w|", "points on or inside the margin",
                 "accuracy", "epochs"],
        rows=rows,
        facts=facts,
        figures=[
            Picture(f"boundary-C{C:g}".replace(".", "_"),
                    partial(_svm_figure, models[C], X, y,
                            f"linear SVM, C = {C:g}: margin {_short(facts[C]['width'])}"),
                    f"C = {C:g}: the boundary (solid), the margin lines score = +1 and -1 "
                    "(dashed) and, circled, the points on or inside the margin.")
            for C in (low, high)
        ],
        summary=f"margin {_short(facts[low]['width'])} at C={low:g}, "
                f"{_short(facts[high]['width'])} at C={high:g}",
    )


# ----- 11. regularization ------------------------------------------------------------------
def regularization_path(penalty: str, alphas, X, y, epochs: int = 500) -> np.ndarray:
    """Coefficients (one row per alpha) of full-batch descent with the given penalty."""
    coefs = []
    for alpha in alphas:
        model = LinearRegression(penalty=penalty, alpha=float(alpha), optimizer="gd",
                                 learning_rate=0.1, batch_size=None, epochs=epochs, tol=None,
                                 random_state=0).fit(X, y)
        coefs.append(model.coef_)
    return np.array(coefs)


def section_regularization(alphas=None) -> Section:
    """L1 and L2 penalties shrink the coefficients as alpha grows; L1 sets some to zero."""
    from sklearn.datasets import load_diabetes

    from .penalties import penalty_gradient

    data = load_diabetes()
    X, y = data.data, data.target
    alphas = np.logspace(-2, 1, 7) if alphas is None else np.asarray(alphas, dtype=float)
    paths = {p: regularization_path(p, alphas, X, y) for p in ("l1", "l2")}
    rows = []
    for i, alpha in enumerate(alphas):
        l1, l2 = paths["l1"][i], paths["l2"][i]
        rows.append([f"{alpha:g}", _short(np.abs(l1).sum()), str(int(np.sum(l1 == 0))),
                     _short(np.abs(l2).sum()), str(int(np.sum(l2 == 0)))])
    first_zero = next((float(a) for a, c in zip(alphas, paths["l1"], strict=True)
                       if np.all(c == 0)), None)
    w, rate, alpha = np.array([2.0, -0.5]), 0.1, 0.5
    l1_step = w - rate * penalty_gradient(w, "l1", alpha)
    l2_step = w - rate * penalty_gradient(w, "l2", alpha)
    return Section(
        title="Regularization: L1 and L2 shrink the weights",
        text=(
            "Regularization adds alpha times a size of the weights to the error: the sum of "
            "their absolute values (L1) or half the sum of their squares (L2). Its gradient "
            "adds one more pull to every step. L1 pulls each weight towards zero by the same "
            "amount, rate * alpha; L2 multiplies each weight by (1 - rate * alpha). With rate "
            f"{rate} and alpha {alpha}, the weights {w.tolist()} become "
            f"{np.round(l1_step, 6).tolist()} under L1 and {np.round(l2_step, 6).tolist()} "
            "under L2. A weight that L1 would push past zero stops at zero, so L1 switches "
            "features off; L2 only makes them smaller."
            "\n\n"
            f"On scikit-learn's bundled diabetes data ({X.shape[0]} patients, "
            f"{X.shape[1]} features, a disease-progression score to predict), full-batch "
            f"descent for each alpha from {alphas[0]:g} to {alphas[-1]:g}: the L1 weights' "
            f"total size falls from {_short(np.abs(paths['l1'][0]).sum())} to zero"
            + (f", every one of them exactly zero from alpha = {first_zero:g}" if first_zero
               else "")
            + f"; the L2 weights' total size falls from {_short(np.abs(paths['l2'][0]).sum())} "
            f"to {_short(np.abs(paths['l2'][-1]).sum())} without any reaching zero. Alpha "
            "here multiplies the penalty on the standardized problem, as in scikit-learn's "
            "Lasso; the weights are shown in the data's own units."
        ),
        columns=["alpha", "L1: sum of |weights|", "L1: weights at zero",
                 "L2: sum of |weights|", "L2: weights at zero"],
        rows=rows,
        facts={"alphas": alphas.tolist(), "l1": paths["l1"].tolist(),
               "l2": paths["l2"].tolist(), "l1_all_zero_from": first_zero,
               "l1_step": l1_step.tolist(), "l2_step": l2_step.tolist()},
        figures=[
            _picture("l1-path", "Each diabetes weight as alpha grows, with the L1 penalty.",
                     "plot_regularization_path", alphas, paths["l1"],
                     feature_names=list(data.feature_names), title="L1: weights by alpha"),
            _picture("l2-path", "Each diabetes weight as alpha grows, with the L2 penalty.",
                     "plot_regularization_path", alphas, paths["l2"],
                     feature_names=list(data.feature_names), title="L2: weights by alpha"),
        ],
        summary=(f"L1 all zero from alpha = {first_zero:g}; " if first_zero else "")
        + f"L2 total {_short(np.abs(paths['l2'][0]).sum())} -> "
          f"{_short(np.abs(paths['l2'][-1]).sum())}",
    )


# ----- 12. batch, mini-batch, stochastic ---------------------------------------------------
def section_batches(epochs: int = 20, learning_rate: float = 0.01) -> Section:
    """The same model and rate with the whole data, mini-batches, and one point per step."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=500, n_features=5, noise=10.0, random_state=0)
    n = len(X)
    runs = {"batch (all 500)": None, "mini-batch of 32": 32, "stochastic (1)": 1}
    rows, facts, histories = [], {}, {}
    for name, size in runs.items():
        started = time.perf_counter()
        model = LinearRegression(optimizer="gd", learning_rate=learning_rate, batch_size=size,
                                 epochs=epochs, tol=None, random_state=0,
                                 record_path=True).fit(X, y)
        seconds = time.perf_counter() - started
        steps = len(model.history_.path) - 1
        histories[name] = model.history_
        per_epoch = steps // epochs
        rows.append([name, str(per_epoch), str(steps), _short(model.history_.loss[0]),
                     _short(model.history_.loss[-1]), f"{seconds:.3f}"])
        facts[size] = {"steps": steps, "steps_per_epoch": per_epoch,
                       "first_loss": float(model.history_.loss[0]),
                       "final_loss": float(model.history_.loss[-1]), "seconds": seconds}
    full, mini, sgd = (facts[s] for s in runs.values())
    return Section(
        title="Batch, mini-batch and stochastic descent",
        text=(
            "The same linear model, the same learning rate, the same number of epochs; only "
            "the amount of data behind each step changes. Batch descent takes one careful "
            "step per epoch on the gradient of all the data; stochastic descent takes one "
            "step per point on that point's gradient alone; mini-batches sit in between."
            "\n\n"
            f"On {n} generated rows with 5 features, learning rate {learning_rate} and "
            f"{epochs} epochs: batch descent takes {full['steps']} steps and ends with a "
            f"loss of {_short(full['final_loss'])} (on the standardized target); mini-batches "
            f"of 32 take {mini['steps']} steps and reach {_short(mini['final_loss'])}; "
            f"stochastic descent takes {sgd['steps']} steps, {sgd['steps_per_epoch']} per "
            f"epoch, and reaches {_short(sgd['final_loss'])}. More steps per epoch buy "
            "progress per epoch, but each step costs time: compare the seconds column (these "
            "times change from run to run; the losses do not)."
        ),
        columns=["batches", "steps per epoch", "steps", "mean loss in epoch 1",
                 f"mean loss in epoch {epochs}", "seconds"],
        rows=rows,
        facts=facts,
        figures=[_picture("loss", "Loss by epoch for the three batch sizes (log scale).",
                          "plot_loss_comparison", histories, log=True,
                          title="the same descent with three batch sizes")],
        summary=f"final loss: batch {_short(full['final_loss'])}, 32: "
                f"{_short(mini['final_loss'])}, 1: {_short(sgd['final_loss'])}",
    )


SECTIONS = (
    section_graph, section_one_weight, section_pseudocode, section_restarts,
    section_learning_rates, section_linear_regression, section_perceptron, section_logistic,
    section_network, section_svm, section_regularization, section_batches,
)


def all_sections() -> list[Section]:
    """Every worked example, in the order the seeds tell them."""
    return [make() for make in SECTIONS]
