"""Gradient descent on any differentiable function, with random restarts.

The loop is the textbook one: pick a (random) starting point, then for each epoch
compute the gradient and step against it. Every point visited is kept, so the
path can be drawn; a run that blows up stops and says so instead of returning NaN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .autodiff import Tensor, value_and_grad
from .autodiff.gradients import _scalar_output
from .checks import positive_finite, positive_int
from .divergence import has_diverged, smaller_rate
from .optim import GradientTransformation, get_optimizer


@dataclass
class Run:
    """One descent from one starting point.

    Attributes:
        x: the last finite point reached.
        fun: f at ``x``.
        path: every point visited, the start first (shape ``(n_steps + 1, *x.shape)``).
        losses: f at each point of ``path``.
        n_steps: how many steps were taken.
        status: ``"converged"``, ``"max_epochs"`` or ``"diverged"``.
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
    """

    runs: list[Run] = field(default_factory=list)
    best_run: int = 0


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
    return low, high


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


def _descend(
    evaluate: Callable, start: np.ndarray, optimizer: GradientTransformation, box, *,
    epochs: int, tol: float, learning_rate, callback, record_path: bool,
) -> Run:
    x = start.copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        fx, g = evaluate(x)  # a non-finite start is reported just below
    if not math.isfinite(fx):
        raise ValueError(f"f is not finite at the starting point {x} (f = {fx}); start elsewhere")
    f0 = fx
    state = optimizer.init(x)
    path, losses = [x.copy()], [fx]
    status, message, n_steps = "max_epochs", "", 0
    for step in range(1, epochs + 1):
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
) -> MinimizeResult:
    """Minimise ``f`` by gradient descent, optionally from several random starts.

    Each run starts at ``x0`` (the first run) or at a uniformly random point inside
    ``bounds``, then takes up to ``epochs`` steps ``x <- x - learning_rate * grad f(x)``
    (or the steps of another ``optimizer``). With ``bounds``, every step is clipped back
    into the box. A run stops early when a step or the gradient is shorter than ``tol``
    (``"converged"``) or when the loss becomes non-finite or grows by more than
    ``divergence.EXPLOSION_FACTOR`` (``"diverged"``: ``x`` is then the last finite point and the
    message suggests a smaller learning rate).

    Args:
        f: the function; it receives a Tensor shaped like ``x`` (or a plain array when
            ``grad`` is given) and returns one number.
        x0: the starting point; without it, a random point inside ``bounds``.
        bounds: ``(low, high)`` for every coordinate, or one ``(low, high)`` per coordinate.
        learning_rate: the step size, a positive number or a schedule ``step -> rate``.
        epochs: the most steps a run may take.
        tol: the step length (and gradient norm) below which a run has converged.
        restarts: how many runs; runs after the first start at random points in ``bounds``.
        optimizer: ``"gd"`` (the textbook step), ``"momentum"``, ``"nesterov"``,
            ``"adagrad"``, ``"rmsprop"``, ``"adam"`` or a ``descent.optim`` transformation.
        random_state: seed (or ``np.random.Generator``) for the random starts.
        grad: optional gradient function ``x -> array``, used instead of the engine.
        callback: optional ``callback(step, x, fx)``; returning True stops the run.
        record_path: keep every point visited (turn off for long runs on large x).

    Returns:
        A ``MinimizeResult`` with the best run's ``x``, ``fun``, ``path``, ``losses``,
        ``n_steps``, ``status`` and ``message``, and every run in ``runs``.

    Example:
        >>> result = minimize(lambda x: (x - 3) ** 2, x0=0.0, learning_rate=0.1)
        >>> round(float(result.x), 6), result.status
        (3.0, 'converged')
    """
    epochs = positive_int("epochs", epochs)
    restarts = positive_int("restarts", restarts)
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

    runs = []
    for s in starts:
        opt = get_optimizer(optimizer, learning_rate)
        runs.append(_descend(
            evaluate, s, opt, box, epochs=epochs, tol=tol, learning_rate=learning_rate,
            callback=callback, record_path=record_path,
        ))
    finished = [i for i, r in enumerate(runs) if r.status != "diverged"] or list(range(len(runs)))
    best = min(finished, key=lambda i: runs[i].fun)
    top = runs[best]
    return MinimizeResult(**vars(top), runs=runs, best_run=best)
