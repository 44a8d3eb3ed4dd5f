"""The learning-rate lab's runs: ``descent.minimize`` on a typed function, judged by the
lab's rules (``rate_rules``: diverged when growing or overshot, bouncing when zigzagging)
so a learner is told converged, diverged, bouncing or still running.

The runs go under ``np.errstate(all="ignore")``: overflow on the way to divergence is
expected and is what the rules report, so numpy's RuntimeWarnings would only reach the
server's terminal (``errstate`` is per thread, unlike ``warnings.catch_warnings``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .. import autodiff as ad
from ..divergence import bounced, smaller_rate
from ..minimize import minimize
from ..optim import adam, gd, momentum
from .rate_rules import GROWTH_STEPS, OVERSHOOT_FACTOR, growth_step, overshoot_step, zigzag_stalled
from .snapshot import finite_or_none

WORK_BUDGET = 200_000
"""The most ``steps * restarts * (tokens + 8)`` one request may ask for.

A step of minimize costs about 3 microseconds per unit here (a token of the expression
is about one engine operation; 8 is the per-step overhead), so one request stays
well under a second even at the limit.
"""

_TOKEN = re.compile(r"\d*\.?\d+(?:[eE][+-]?\d+)?|[A-Za-z_]\w*|\*\*|[-+*/^]")


def work(text: str, steps: int, restarts: int) -> int:
    """The cost of a request in ``WORK_BUDGET`` units.

    Example:
        >>> work("x^2", 100, 1)
        1100
    """
    return steps * restarts * (len(_TOKEN.findall(text)) + 8)


def most_steps(text: str, restarts: int) -> int:
    """The largest ``steps`` the budget allows for ``text`` and ``restarts``.

    Example:
        >>> most_steps("x^2", 1)
        18181
    """
    return WORK_BUDGET // work(text, 1, restarts)


def make_optimizer(name: str, learning_rate: float, beta: float = 0.9):
    """descent's optimizer for the lab's choice: ``"gd"``, ``"momentum"`` (with ``beta``) or
    ``"adam"``.

    Example:
        >>> make_optimizer("momentum", 0.1, 0.5) is not None
        True
    """
    if name == "momentum":
        return momentum(learning_rate, beta=beta)
    return adam(learning_rate) if name == "adam" else gd(learning_rate)


@dataclass
class LabRun:
    """One run as the lab reports it.

    Attributes:
        path: the points visited, the start first (``(steps + 1,)`` or ``(steps + 1, 2)``).
        losses: f at each point of ``path``.
        status: ``converged``, ``diverged``, ``bouncing``, ``running`` or ``skipped`` (a
            random start where f is not finite).
        message: one sentence: why the run stopped, or where it stands.
    """

    path: np.ndarray
    losses: np.ndarray
    status: str
    message: str

    @property
    def steps(self) -> int:
        return len(self.path) - 1

    def points(self) -> list[list[float | None]]:
        """``[[x, (y,) f], ...]`` for JSON: None for f where it is not finite (a skipped
        random start)."""
        coords = self.path.reshape(len(self.path), -1).tolist()
        return [[*xy, f] for xy, f in zip(coords, finite_or_none(self.losses), strict=True)]


def judge(run, learning_rate: float) -> LabRun:
    """A ``descent.minimize`` run as the lab reports it (see the module's rules).

    Example:
        >>> from descent import minimize
        >>> judge(minimize(lambda x: x**2, x0=5.0, learning_rate=1.05, epochs=50),
        ...       1.05).status
        'diverged'
    """
    path, losses = np.asarray(run.path), np.asarray(run.losses, dtype=np.float64)
    if run.status == "skipped":
        return LabRun(path, losses, "skipped", run.message)
    # The growth rule goes first, whatever minimize decided later in the run: it reads only
    # the path up to the step where it fires, so STEP (a run cut short) and RUN agree.
    grew = growth_step(path, losses)
    if grew is not None:
        message = (f"diverged at step {grew}: the value rose at each of the last "
                   f"{GROWTH_STEPS} steps, from {losses[grew - GROWTH_STEPS]:.4g} to "
                   f"{losses[grew]:.4g} (it started at {losses[0]:.4g}), each step longer "
                   f"than the last. Try a smaller rate, e.g. "
                   f"{smaller_rate(learning_rate)}")
        return LabRun(path[:grew + 1], losses[:grew + 1], "diverged", message)
    if run.status == "diverged":
        return LabRun(path, losses, run.status, run.message)
    jump = overshoot_step(path)
    if jump is not None:
        before, after = path[jump - 1], path[jump]
        message = (f"diverged at step {jump}: one step overshot from {_point(before)} to "
                   f"{_point(after)}, more than {OVERSHOOT_FACTOR:g} times farther than the "
                   f"start's size; f may be flat where it landed, but that is no minimum. "
                   f"Try a smaller rate, e.g. {smaller_rate(learning_rate)}")
        return LabRun(path[:jump + 1], losses[:jump + 1], "diverged", message)
    if run.status == "converged":
        return LabRun(path, losses, run.status, run.message)
    n = len(path) - 1
    if zigzag_stalled(path, losses):
        message = (f"bouncing after {n} steps: each step overshoots the bottom and lands on "
                   f"the other side, and the value ({losses[-1]:.4g}) is not falling; try a "
                   f"smaller rate, e.g. {smaller_rate(learning_rate)}")
        return LabRun(path, losses, "bouncing", message)
    why = bounced(losses) if n >= 2 else None
    if why is not None:
        message = (f"bouncing after {n} steps: {why}; the steps overshoot the bottom. Try a "
                   f"smaller rate, e.g. {smaller_rate(learning_rate)}")
        return LabRun(path, losses, "bouncing", message)
    message = (f"running: {n} step{'s' * (n != 1)} taken, the value is {losses[-1]:.4g} and "
               "still falling; take more steps, or try a larger rate")
    return LabRun(path, losses, "running", message)


def _point(x) -> str:
    values = np.ravel(x)
    return f"{values[0]:.4g}" if values.size == 1 else "(" + ", ".join(
        f"{v:.4g}" for v in values) + ")"


def gradients(f, path) -> np.ndarray:
    """The gradient of ``f`` at every point of ``path``, by the engine, in one sweep.

    The points are independent, so the gradient of the sum of f over all of them holds
    each point's own gradient (``as_function`` evaluates many points along later axes).

    Example:
        >>> from descent.expression import parse
        >>> gradients(parse("x^2").as_function(), np.array([1.0, -2.0])).tolist()
        [[2.0], [-4.0]]
    """
    points = np.asarray(path, dtype=np.float64).reshape(len(path), -1)
    with np.errstate(all="ignore"):
        g = ad.grad(lambda v: ad.sum(f(v)))(points.T)
    return np.asarray(g).T


@dataclass
class LabResult:
    """Every run of one request, and which one is best."""

    runs: list[LabRun]
    best: int

    @property
    def top(self) -> LabRun:
        return self.runs[self.best]


def descend(f, start, *, learning_rate: float, steps: int, optimizer: str = "gd",
            beta: float = 0.9, tol: float = 1e-6, restarts: int = 1, bounds=None,
            random_state: int = 0) -> LabResult:
    """Run ``descent.minimize`` as the lab asks and judge every run.

    ``steps`` = 0 takes no step: the run is just the start (minimize is still asked for
    one step, so a bad start is refused the same way, and then cut back to the start).
    The best run is the one with the lowest final value among those that neither
    diverged nor were skipped (minimize's own choice, with the lab's divergence rule).

    Raises:
        descent.StartError: f or its gradient is not finite at ``start`` (or at every
            random start).

    Example:
        >>> from descent.expression import parse
        >>> result = descend(parse("x^2").as_function(), 5.0, learning_rate=0.1, steps=100)
        >>> result.top.status, result.top.steps
        ('converged', 63)
    """
    with np.errstate(all="ignore"):  # overflow is what the rules report (see the module)
        result = minimize(f, x0=start, learning_rate=learning_rate, epochs=max(steps, 1),
                          tol=tol, restarts=restarts, bounds=bounds,
                          optimizer=make_optimizer(optimizer, learning_rate, beta),
                          random_state=random_state)
        runs = [judge(run, learning_rate) for run in result.runs]
    if steps == 0:
        runs = [_no_step(run) for run in runs]
    finished = [i for i, r in enumerate(runs) if r.status not in ("diverged", "skipped")]
    best = min(finished, key=lambda i: runs[i].losses[-1]) if finished else result.best_run
    return LabResult(runs, best)


def _no_step(run: LabRun) -> LabRun:
    if run.status == "skipped":
        return run
    converged = run.status == "converged" and run.steps == 0
    message = run.message if converged else "no steps taken yet: press STEP or RUN"
    return LabRun(run.path[:1], run.losses[:1], "converged" if converged else "running", message)
