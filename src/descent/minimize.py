"""Gradient descent on any differentiable function, with random restarts.

The loop is the textbook one: pick a (random) starting point, then for each epoch
compute the gradient and step against it. Every point visited is kept, so the
path can be drawn; a run that blows up stops and says so instead of returning NaN.

Nothing wrong is silent: a start where f (or its slope) is not finite is a
``StartError``, bounds too wide to draw a start from are refused, and the number of
restarts is bounded by ``MAX_RESTARTS``. Ctrl-C ends the work at the end of the current
step, like scikit-learn's MLP: the best run so far is returned, marked ``interrupted``,
with a warning; a second Ctrl-C stops at once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .autodiff import Tensor, value_and_grad
from .autodiff.gradients import _scalar_output
from .checks import positive_finite, positive_int
from .divergence import has_diverged, smaller_rate
from .optim import GradientTransformation, get_optimizer

MAX_RESTARTS = 100_000
"""The most runs one ``minimize`` call makes (each run keeps its start, end and message)."""


class StartError(ValueError):
    """f, or its gradient, is not finite where descent would start.

    Raised for ``x0``, or when every random start drawn from ``bounds`` is such a point
    (single bad random starts are skipped). The message says where and what to do.

    Attributes:
        point: the starting point (one of the random ones, when they were all bad).
        value: f at ``point``.
        gradient: True when f is finite there but its gradient is not.
        tries: how many random starts were tried (0 when ``point`` is ``x0``).
    """

    def __init__(self, message: str, point, value: float, gradient: bool, tries: int = 0):
        super().__init__(message)
        self.point, self.value, self.gradient, self.tries = point, value, gradient, tries

    def __reduce__(self):
        return type(self), (str(self), self.point, self.value, self.gradient, self.tries)


@dataclass
class Run:
    """One descent from one starting point.

    Attributes:
        x: the last finite point reached.
        fun: f at ``x``.
        path: every point visited, the start first (shape ``(n_steps + 1, *x.shape)``).
        losses: f at each point of ``path``.
        n_steps: how many steps were taken.
        status: ``"converged"``, ``"max_epochs"``, ``"diverged"``, ``"interrupted"``
            (Ctrl-C) or ``"skipped"`` (a random start where f or its gradient is not finite).
        message: a sentence saying why the run stopped, with advice when it went wrong.
        start: the starting point.
    """

    x: np.ndarray
    fun: float
    path: np.ndarray
    losses: np.ndarray
    n_steps: int
    status: str
    message: str
    start: np.ndarray


@dataclass
class MinimizeResult(Run):
    """The best of the runs (lowest ``fun`` among those that did not diverge), plus all runs.

    Attributes:
        runs: one ``Run`` per random restart, in the order they were made.
        best_run: the index in ``runs`` of the run reported at the top level.
        interrupted: True when Ctrl-C ended the work early: ``runs`` holds the runs made
            until then (the last one possibly cut short).
    """

    runs: list[Run] = field(default_factory=list)
    best_run: int = 0
    interrupted: bool = False


def _parse_bounds(bounds, x0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Bounds as two arrays (low, high) shaped like x; one pair applies to every coordinate."""
    if bounds is None:
        return None
    try:
        b = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"bounds must be numbers: (low, high) or [(low, high), ...]; {err}"
        ) from err
    if b.size == 0:
        raise ValueError("bounds is empty; give (low, high) or one (low, high) pair per coordinate")
    if b.shape == (2,):
        shape = () if x0 is None else x0.shape
        low, high = np.full(shape, b[0]), np.full(shape, b[1])
    elif b.ndim == 2 and b.shape[1] == 2:
        low, high = b[:, 0], b[:, 1]
        if x0 is not None and x0.shape != low.shape:
            raise ValueError(
                f"x0 has shape {x0.shape} but bounds give {len(low)} (low, high) pairs; "
                "give one pair per coordinate of x0"
            )
    else:
        raise ValueError(
            f"bounds must be (low, high) or a list of (low, high) pairs, got shape {b.shape}"
        )
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValueError("bounds must be finite numbers")
    if np.any(low >= high):
        raise ValueError(f"bounds must have low < high in every pair, got low={low}, high={high}")
    with np.errstate(over="ignore"):
        width = high - low
    if not np.all(np.isfinite(width)):  # rng.uniform cannot draw from such a box
        raise ValueError(
            "bounds are too wide: high - low is beyond the largest float (about 1.8e308), so "
            "no start can be drawn from them; give narrower bounds, e.g. (-1e6, 1e6)"
        )
    return low, high


def _point(x: np.ndarray) -> str:
    """A point for a message: its first few coordinates, each in %g."""
    flat = np.ravel(x)
    shown = ", ".join(f"{float(v):g}" for v in flat[:6]) + (", ..." if flat.size > 6 else "")
    return shown if np.ndim(x) == 0 else f"[{shown}]"


def _start_problem(fx: float, g) -> str | None:
    """What is wrong at a start: "f", "the gradient of f", or None when all is finite."""
    if not math.isfinite(fx):
        return "f"
    if g is None or not np.all(np.isfinite(g)):
        return "the gradient of f"
    return None


def _x0_error(x: np.ndarray, fx: float, problem: str) -> StartError:
    where = f"{problem} is not finite at x0 = {_point(x)} (f = {fx:g})"
    if problem == "f":
        advice = ("start inside f's domain (log and sqrt need positive numbers, 1/x a "
                  "nonzero x), or give bounds where f is finite instead of x0")
    else:
        advice = ("f has no finite slope there (as sqrt at 0); start elsewhere inside "
                  "f's domain")
    return StartError(f"{where}: {advice}", x, fx, problem != "f")


def _random_starts_error(runs: list[Run]) -> StartError:
    first = runs[0]
    problem = "f" if not math.isfinite(first.fun) else "the gradient of f"
    return StartError(
        f"f or its gradient is not finite at any of the {len(runs):,} random starts drawn "
        f"from bounds (at {_point(first.start)}, {problem} is not: f = {first.fun:g}); give "
        "bounds where f is finite, or x0 inside f's domain",
        first.start, first.fun, problem != "f", len(runs),
    )


def _skipped(start: np.ndarray, fx: float, problem: str) -> Run:
    return Run(x=start.copy(), fun=fx, path=start[None].copy(), losses=np.array([fx]),
               n_steps=0, status="skipped", start=start,
               message=f"skipped: {problem} is not finite at this random start (f = {fx:g})")


def _lr_text(learning_rate) -> str:
    return f"{learning_rate:g}" if isinstance(learning_rate, int | float) else "the schedule given"


def _evaluator(f: Callable, grad: Callable | None) -> Callable:
    """x -> (f(x), gradient at x), by the engine unless the user gave ``grad``."""
    if grad is None:
        return value_and_grad(f)

    def evaluate(x: np.ndarray):
        out = f(x)
        value = float(np.asarray(out.data if isinstance(out, Tensor) else out).reshape(()))
        g = np.asarray(grad(x), dtype=x.dtype)
        if g.shape != x.shape:
            raise ValueError(f"grad returned shape {g.shape}; it must match x's shape {x.shape}")
        return value, g

    return evaluate


def _at_start(evaluate: Callable, x: np.ndarray) -> tuple[float, np.ndarray | None]:
    """f and its gradient at a start; NaN or inf there is the caller's to report."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return evaluate(x)


def _descend(
    evaluate: Callable, start: np.ndarray, fx: float, g: np.ndarray,
    optimizer: GradientTransformation, box, *, epochs: int, tol: float, learning_rate,
    callback, record_path: bool, stop: Callable[[], bool],
) -> Run:
    """One run from ``start``, where f is ``fx`` and its gradient ``g`` (both finite)."""
    x = start.copy()
    f0 = fx
    state = optimizer.init(x)
    path, losses = [x.copy()], [fx]
    status, message, n_steps = "max_epochs", "", 0
    for step in range(1, epochs + 1):
        if stop():  # Ctrl-C: the steps so far are kept, the next one is not taken
            status, message = "interrupted", f"interrupted (Ctrl-C) after {n_steps} steps"
            break
        if float(np.sqrt(np.sum(g * g))) <= tol:
            status = "converged"
            break
        updates, state = optimizer.update(g, state, x)
        x_new = x + updates
        if box is not None:
            x_new = np.clip(x_new, box[0], box[1]).astype(x.dtype, copy=False)
        # Overflow is expected on the way to divergence; it is detected just below.
        with np.errstate(over="ignore", invalid="ignore"):
            f_new, g_new = evaluate(x_new) if np.all(np.isfinite(x_new)) else (math.inf, None)
        if has_diverged(f_new, f0) or not np.all(np.isfinite(g_new)):
            status = "diverged"
            message = (
                f"diverged at step {step}: the loss went from {f0:.4g} to {f_new:.4g} with "
                f"learning rate {_lr_text(learning_rate)}; try a smaller one, "
                f"e.g. {smaller_rate(learning_rate)}"
            )
            break
        moved = float(np.sqrt(np.sum((x_new - x) ** 2)))
        x, fx, g, n_steps = x_new, f_new, g_new, step
        if record_path:
            path.append(x.copy())
            losses.append(fx)
        if callback is not None and callback(step, x, fx):
            message = f"stopped by the callback after {step} steps"
            break
        if moved <= tol:
            status = "converged"
            break
    if not record_path and n_steps:
        path.append(x.copy())
        losses.append(fx)
    if status == "converged":
        message = (
            f"converged after {n_steps} step{'s' * (n_steps != 1)}: "
            f"the step or the gradient fell below tol={tol:g}"
        )
    elif status == "max_epochs" and not message:
        message = (
            f"stopped after {epochs} epochs without converging; raise epochs or "
            f"the learning rate (now {_lr_text(learning_rate)})"
        )
    return Run(
        x=x, fun=fx, path=np.array(path), losses=np.array(losses), n_steps=n_steps,
        status=status, message=message, start=start,
    )


def minimize(
    f: Callable,
    x0=None,
    *,
    bounds=None,
    learning_rate=0.01,
    epochs: int = 1000,
    tol: float = 1e-8,
    restarts: int = 1,
    optimizer="gd",
    random_state=None,
    grad: Callable | None = None,
    callback: Callable | None = None,
    record_path: bool = True,
    on_run: Callable | None = None,
) -> MinimizeResult:
    """Minimise ``f`` by gradient descent, optionally from several random starts.

    Each run starts at ``x0`` (the first run) or at a uniformly random point inside
    ``bounds``, then takes up to ``epochs`` steps ``x <- x - learning_rate * grad f(x)``
    (or the steps of another ``optimizer``). With ``bounds``, every step is clipped back
    into the box. A run stops early when a step or the gradient is shorter than ``tol``
    (``"converged"``) or when the loss becomes non-finite or grows by more than
    ``divergence.EXPLOSION_FACTOR`` (``"diverged"``: ``x`` is then the last finite point and the
    message suggests a smaller learning rate).

    A start where f or its gradient is not finite cannot be descended from: ``x0`` there
    is a ``StartError``; a random start there is skipped (status ``"skipped"``), and
    when every random start is, that is a ``StartError`` too. Ctrl-C stops at the end of
    the current step and returns the best run so far with ``interrupted=True`` and a
    warning (in the main thread, when SIGINT has Python's default handler); a second
    Ctrl-C raises ``KeyboardInterrupt`` at once.

    Args:
        f: the function; it receives a Tensor shaped like ``x`` (or a plain array when
            ``grad`` is given) and returns one number.
        x0: the starting point; without it, a random point inside ``bounds``.
        bounds: ``(low, high)`` for every coordinate, or one ``(low, high)`` per coordinate.
        learning_rate: the step size, a positive number or a schedule ``step -> rate``.
        epochs: the most steps a run may take.
        tol: the step length (and gradient norm) below which a run has converged.
        restarts: how many runs, from 1 to ``MAX_RESTARTS``; runs after the first start at
            random points in ``bounds``.
        optimizer: ``"gd"`` (the textbook step), ``"momentum"``, ``"nesterov"``,
            ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or a ``descent.optim`` transformation.
        random_state: seed (or ``np.random.Generator``) for the random starts.
        grad: optional gradient function ``x -> array``, used instead of the engine.
        callback: optional ``callback(step, x, fx)``; returning True stops the run.
        record_path: keep every point visited (turn off for long runs on large x, or for
            many restarts: each run then keeps only its start and its end).
        on_run: optional ``on_run(done, restarts, run)``, called after each run (for a
            progress bar).

    Returns:
        A ``MinimizeResult`` with the best run's ``x``, ``fun``, ``path``, ``losses``,
        ``n_steps``, ``status`` and ``message``, and every run in ``runs``.

    Raises:
        StartError: f or its gradient is not finite at ``x0``, or at every random start.
        ValueError: a setting is out of range (the message names it and what is allowed).

    Example:
        >>> result = minimize(lambda x: (x - 3) ** 2, x0=0.0, learning_rate=0.1)
        >>> round(float(result.x), 6), result.status
        (3.0, 'converged')
    """
    epochs = positive_int("epochs", epochs)
    restarts = positive_int("restarts", restarts)
    if restarts > MAX_RESTARTS:
        raise ValueError(f"restarts must be from 1 to {MAX_RESTARTS:,}, got {restarts:,}")
    if not callable(learning_rate):
        positive_finite("learning_rate", learning_rate)
    if not (isinstance(tol, int | float) and tol >= 0):
        raise ValueError(f"tol must be a non-negative number, got {tol!r}")
    start = None
    if x0 is not None:
        start = np.array(x0.data if isinstance(x0, Tensor) else x0)
        if start.dtype.kind not in "fiub":
            raise ValueError(f"x0 must be numeric, got {x0!r}")
        start = start.astype(start.dtype if start.dtype.kind == "f" else np.float64)
        if not np.all(np.isfinite(start)):
            raise ValueError(f"x0 must hold finite numbers, got {x0!r}")
    box = _parse_bounds(bounds, start)
    if start is None and box is None:
        raise ValueError("give x0 (a starting point) or bounds to draw a random start from")
    if restarts > 1 and box is None:
        raise ValueError("random restarts need bounds to draw their starting points from")
    if start is not None and box is not None and start.shape != box[0].shape:
        raise ValueError(f"x0 has shape {start.shape} but bounds describe shape {box[0].shape}")

    evaluate = _evaluator(f, grad)
    rng = np.random.default_rng(random_state)
    starts = [start] if start is not None else []
    while len(starts) < restarts:
        starts.append(np.asarray(rng.uniform(box[0], box[1]), dtype=np.float64))
    probe = starts[0] if grad is not None else Tensor(starts[0], requires_grad=False)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _scalar_output(f(probe), "minimize")

    from .models.interrupt import first_ctrl_c_stops

    runs: list[Run] = []
    with first_ctrl_c_stops() as stop:
        for s in starts:
            if runs and stop():
                break
            fx, g = _at_start(evaluate, s)
            problem = _start_problem(fx, g)
            if problem and s is start:
                raise _x0_error(s, fx, problem)
            if problem:
                runs.append(_skipped(s, fx, problem))
            else:
                runs.append(_descend(
                    evaluate, s, fx, g, get_optimizer(optimizer, learning_rate), box,
                    epochs=epochs, tol=tol, learning_rate=learning_rate, callback=callback,
                    record_path=record_path, stop=stop,
                ))
            if on_run is not None:
                on_run(len(runs), restarts, runs[-1])
        interrupted = stop()
    return _best(runs, restarts, interrupted)


def _best(runs: list[Run], restarts: int, interrupted: bool) -> MinimizeResult:
    """The result: the lowest f among runs that neither diverged nor were skipped."""
    tried = [i for i, r in enumerate(runs) if r.status != "skipped"]
    if not tried:
        raise _random_starts_error(runs)
    finished = [i for i in tried if runs[i].status != "diverged"] or tried
    best = min(finished, key=lambda i: runs[i].fun)
    if interrupted:
        warnings.warn(
            f"minimize was interrupted (Ctrl-C) after {len(runs):,} of {restarts:,} runs; "
            "the best point found so far is returned", UserWarning, stacklevel=3)
    return MinimizeResult(**vars(runs[best]), runs=runs, best_run=best, interrupted=interrupted)
