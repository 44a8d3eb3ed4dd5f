"""The learning-rate lab's runs: ``descent.minimize`` on a typed function, and what a
learner should be told about each run (converged, diverged, bouncing or still running).

``descent.minimize`` calls a run diverged only once its value is non-finite or has grown
ten billion times (``descent.divergence.EXPLOSION_FACTOR``): right for a long fit, far too
late for a lab where a rate of 1.05 on x^2 makes |x| grow 10% a step. So the lab adds two
rules, both read off the path minimize returns (never a second copy of its math):

- **diverged (growing)**: the value rose at each of the last ``GROWTH_STEPS`` steps, those
  steps got longer one after another, and the value now stands above the start by more
  than it ever fell below it. The run is cut at the
  step where that first holds, as minimize cuts a run that blows up.
- **bouncing (zigzag)**: each of the last ``ZIGZAG_STEPS`` steps went against the step
  before it (their dot product is negative) and over them the value fell by less than
  ``STALL_SHARE`` of itself: the steps overshoot to and fro without getting anywhere
  (x^2 at rate 1.0 hops between 5 and -5 forever). A finished run is also bouncing when
  ``descent.divergence.bounced`` says so.
- **diverged (overshot)**: one step was longer than ``OVERSHOOT_FACTOR`` times the
  start's size (its largest coordinate, at least 1). Such a step leaves the picture at
  once, and may land where f is flat to the last digit (exp(x) from 700 at rate 1 lands
  at -1e304, where the gradient is 0): minimize then reports "converged", which is no
  minimum at all. The run is cut at that step (the landing point kept). The rule is only
  asked when minimize itself did not call the run diverged, and after the growth rule.

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
from .snapshot import finite_or_none

GROWTH_STEPS = 5
"""A value that rose at this many steps in a row (and is above the start) is diverging."""

ZIGZAG_STEPS = 4
"""Steps in a row that each reverse the one before: the window of the bouncing rule."""

STALL_SHARE = 0.01
"""Over the zigzag window, a fall of less than this share of the value is no progress."""

OVERSHOOT_FACTOR = 1000.0
"""A step longer than this many times the start's size (at least 1) has overshot."""

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


def growth_step(path, losses) -> int | None:
    """The first step at which the run is growing away (the lab's divergence rule), or None.

    Growing away: the value rose at each of the last ``GROWTH_STEPS`` steps, those steps got
    longer one after another, and the value is now above the start by more than it ever
    fell below it. (Momentum coasting uphill past a valley also raises the value for a few
    steps, but its steps shorten as it slows, and it comes back.)

    Example:
        >>> xs = [5 * (-1.1) ** k for k in range(10)]  # x^2 at rate 1.05
        >>> growth_step(xs, [x * x for x in xs])
        5
        >>> growth_step(list(range(7)), [25, 1, 2, 3, 4, 5, 6]) is None  # below the start
        True
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.size <= GROWTH_STEPS:
        return None
    points = np.asarray(path, dtype=np.float64).reshape(len(losses), -1)
    lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)  # lengths[i]: step i + 1
    rose = np.diff(losses) > 0  # rose[i]: at step i + 1
    lowest = np.minimum.accumulate(losses)
    for k in range(GROWTH_STEPS, losses.size):
        window = slice(k - GROWTH_STEPS, k)
        if (rose[window].all() and np.all(np.diff(lengths[window]) > 0)
                and losses[k] > losses[0] + (losses[0] - lowest[k])):
            return k
    return None


def zigzag_stalled(path, losses) -> bool:
    """True when the last ``ZIGZAG_STEPS`` steps each reversed the one before and the value
    barely fell over them (the lab's bouncing rule).

    Example:
        >>> zigzag_stalled([5, -5, 5, -5, 5, -5], [25] * 6)  # x^2 at rate 1.0
        True
        >>> zigzag_stalled([5, -4, 3.2, -2.56, 2.05, -1.64], [25, 16, 10, 6.6, 4.2, 2.7])
        False
    """
    points = np.asarray(path, dtype=np.float64).reshape(len(path), -1)
    if len(points) < ZIGZAG_STEPS + 2:
        return False
    steps = np.diff(points[-(ZIGZAG_STEPS + 2):], axis=0)
    reversed_ = np.sum(steps[1:] * steps[:-1], axis=1) < 0
    before, now = float(losses[-ZIGZAG_STEPS - 1]), float(losses[-1])
    return bool(reversed_.all()) and before - now < STALL_SHARE * max(abs(before), 1e-300)


def overshoot_step(path) -> int | None:
    """The first step longer than ``OVERSHOOT_FACTOR`` times the start's size (its largest
    coordinate, at least 1), or None.

    Example:
        >>> overshoot_step([700.0, -1.01e304])  # exp(x) from 700 at rate 1
        1
        >>> overshoot_step([5.0, -5.5, 6.05]) is None  # x^2 at rate 1.05: a zigzag
        True
    """
    points = np.asarray(path, dtype=np.float64).reshape(len(path), -1)
    if len(points) < 2:
        return None
    limit = OVERSHOOT_FACTOR * max(1.0, float(np.abs(points[0]).max()))
    with np.errstate(all="ignore"):  # a step of 1e304 squares to inf: still far
        lengths = np.linalg.norm(np.diff(points, axis=0), axis=1)
    far = np.flatnonzero(~(lengths <= limit))  # a non-finite length is far too
    return int(far[0]) + 1 if far.size else None


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
