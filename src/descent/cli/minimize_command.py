"""``descent minimize "EXPR"``: gradient descent on a formula typed at the prompt.

Bad input is one line naming the problem and the fix: an expression error quotes a
short excerpt around the problem (never the whole text), a start where f is not finite
says where, and a box too wide to draw from is refused. Many restarts show a progress
bar on stderr; Ctrl-C stops them, prints the best run so far and exits with status 130
(the shell's code for an interrupt), like a careful Unix tool.
"""

from __future__ import annotations

import math
import warnings

import click
import numpy as np

from ..expression import ExpressionError, parse
from ..minimize import MAX_RESTARTS, StartError, minimize
from .app import (
    UserError,
    main,
    output_options,
    print_json,
    print_table,
    save_figure,
    writable_target,
)


def _numbers(text: str, option: str) -> list[float]:
    try:
        values = [float(part) for part in text.replace(" ", "").split(",")]
    except ValueError:
        values = []
    if not values or not np.all(np.isfinite(values)):
        raise UserError(f"{option} must be finite numbers separated by commas, like '1,2', "
                        f"got {_short(text)}")
    return values


def _clip(text: str, limit: int = 60) -> str:
    """``text`` whole when short, else its start and '...': never a screenful."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _short(text: str, limit: int = 60) -> str:
    """An option's value quoted for a message, clipped like ``_clip``."""
    return repr(_clip(text, limit))


class StepSize(click.ParamType):
    """A learning rate: a positive finite number (click's FloatRange lets NaN and inf in)."""

    name = "rate"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            self.fail(f"{value!r} is not a positive finite number; give a step size such as "
                      "0.01 (smaller if the run diverges)", param, ctx)
        return number


def _bounds(text: str, n: int) -> list[tuple[float, float]]:
    pairs = []
    for part in text.replace(" ", "").split(","):
        low, sep, high = part.partition(":")
        try:
            pair = (float(low), float(high))
        except ValueError:
            sep = ""
        if not sep or not np.all(np.isfinite(pair)) or pair[0] >= pair[1]:
            raise UserError(f"--bounds must be LOW:HIGH per variable, finite numbers with low "
                            f"below high, like '-2:2,-1:3'; got {_short(text)}")
        if not math.isfinite(pair[1] - pair[0]):  # no start can be drawn from such a box
            raise UserError(f"--bounds {part!r} is too wide: HIGH - LOW is beyond the largest "
                            "float (about 1.8e308); give a narrower box, e.g. -1e6:1e6")
        pairs.append(pair)
    if len(pairs) == 1:
        pairs *= n
    if len(pairs) != n:
        raise UserError(f"--bounds gives {len(pairs)} ranges but the expression has {n} "
                        "variables; give one LOW:HIGH, or one per variable")
    return pairs


@main.command("minimize")
@click.argument("expression")
@click.option("--x0", help="Starting point, one number per variable (alphabetical), e.g. '0,0'.")
@click.option("--bounds", "bounds_text",
              help="Search box, LOW:HIGH for all variables or one per variable, e.g. '-2:2'.")
@click.option("--restarts", type=click.IntRange(1, MAX_RESTARTS), default=1, show_default=True,
              help=f"Runs from random starts in --bounds (1 to {MAX_RESTARTS:,}); the best is "
                   "reported. Ctrl-C stops them and prints the best so far.")
@click.option("--learning-rate", type=StepSize(), default=0.01, show_default=True,
              help="Step size, a positive number.")
@click.option("--epochs", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most steps per run.")
@click.option("--optimizer", type=click.Choice(["gd", "momentum", "nesterov", "adagrad",
                                                "rmsprop", "adam"]), default="gd",
              show_default=True)
@click.option("--random-state", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed for the random starts (0 or more).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Draw the descent into this PNG file (1 or 2 variables).")
@output_options
def minimize_command(expression, x0, bounds_text, restarts, learning_rate, epochs, optimizer,
                     random_state, plot_path, quiet, as_json):
    """Minimise EXPRESSION by gradient descent, e.g. "x**4 - 3*x**2 + x".

    Expressions use numbers, variables, + - * / ** (or ^), parentheses, the constants
    pi and e, and exp, log, sqrt, abs, sin, cos, tanh, sigmoid, relu, softplus.
    """
    try:
        expr = parse(expression)
    except ExpressionError as err:  # one line: where, a short excerpt, the reason, the fix
        raise UserError(f"bad expression {err.one_line()}") from err
    names = expr.variables
    n = len(names)
    if n == 0:
        raise UserError(f"{_short(expression)} has no variables to minimise over; use a name "
                        "like x")
    bounds = _bounds(bounds_text, n) if bounds_text else None
    start = _numbers(x0, "--x0") if x0 else None
    if start is not None and len(start) != n:
        raise UserError(f"--x0 gives {len(start)} numbers but the expression has {n} "
                        f"variables ({', '.join(names)})")
    if start is None and bounds is None:
        start = [0.0] * n  # a definite start when no box is given to draw from
    if restarts > 1 and bounds is None:
        raise UserError("--restarts needs --bounds to draw random starting points from")
    if plot_path:
        if n > 2:
            raise UserError(f"--plot draws 1 or 2 variables; this expression has {n}")
        writable_target(plot_path, "plot")
    f = expr.as_function()
    try:
        result = _run(f, start, bounds, n, restarts, show_progress=not (quiet or as_json),
                      learning_rate=learning_rate, epochs=epochs, optimizer=optimizer,
                      random_state=random_state, record_path=bool(plot_path))
    except StartError as err:
        raise UserError(_start_message(err, names)) from err
    if result.status == "diverged" and not result.interrupted:
        raise UserError(result.message if restarts == 1 else
                        f"all {restarts} runs diverged; the best: {result.message}")
    x = np.atleast_1d(np.asarray(result.x, dtype=float))
    done = len(result.runs)
    payload = {"expression": expression, "variables": dict(zip(names, x.tolist(), strict=True)),
               "value": float(result.fun), "steps": int(result.n_steps),
               "status": result.status, "message": result.message, "runs": done,
               "interrupted": result.interrupted}
    if plot_path:
        payload["plot"] = str(save_figure(_figure(f, result, n, bounds, restarts), plot_path))
    if as_json:
        print_json(payload)
    elif not quiet:
        rows = [(name, float(value)) for name, value in payload["variables"].items()]
        rows += [("value", payload["value"]), ("steps", payload["steps"]),
                 ("status", result.status)]
        if result.interrupted:
            rows.append(("runs", f"{done:,} of {restarts:,} (interrupted; best kept)"))
        elif restarts > 1:
            rows.append(("runs", f"{restarts} (best kept)"))
        print_table(f"minimum of {_clip(expression)}", rows)
        if result.message:
            click.echo(result.message)
    if result.interrupted:
        click.echo(f"interrupted (Ctrl-C) after {done:,} of {restarts:,} runs; the best run "
                   "so far is shown", err=True)
        click.get_current_context().exit(130)  # 128 + SIGINT, as a shell reports it


def _run(f, start, bounds, n, restarts, *, show_progress, **settings):
    """``minimize`` with a progress bar on stderr over the restarts (as ``fit`` shows)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    # Only on a terminal: into a pipe or a log, rich would leave an empty line behind.
    progress = Progress(TextColumn("[bold]restarts {task.completed:.0f}/{task.total:,.0f}"),
                        BarColumn(), TextColumn("best f {task.fields[best]}"),
                        TimeElapsedColumn(), console=console, transient=True,
                        disable=not (show_progress and restarts > 1 and console.is_terminal))
    task = progress.add_task("minimize", total=restarts, best="-")
    best = math.inf

    def report(done, total, run):
        nonlocal best
        if run.status not in ("diverged", "skipped"):
            best = min(best, run.fun)
        progress.update(task, completed=done, best=f"{best:.6g}")

    with progress, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="minimize was interrupted")  # said below
        return minimize(f, x0=None if start is None else (start[0] if n == 1 else start),
                        bounds=None if bounds is None else (bounds[0] if n == 1 else bounds),
                        restarts=restarts, on_run=report, **settings)


def _start_message(err: StartError, names) -> str:
    """The StartError in the command line's words: variable names and its options."""
    coordinates = np.atleast_1d(np.asarray(err.point, dtype=float))
    point = ", ".join(f"{name}={value:g}" for name, value in zip(names, coordinates,
                                                                   strict=True))
    if err.tries:
        return (f"f is not finite at any of the {err.tries:,} random starts drawn from --bounds "
                f"(at {point}, f = {err.value:g}); give --bounds where f is finite, or --x0 "
                "inside f's domain")
    if err.gradient:
        return (f"the gradient of f is not finite at the start {point} (f = {err.value:g}): f "
                "has no finite slope there (as sqrt at 0); choose --x0 elsewhere inside f's "
                "domain")
    return (f"f is not finite at the start {point} (f = {err.value:g}): choose --x0 inside f's "
            "domain (log and sqrt need positive numbers, 1/x a nonzero x), or give --bounds "
            "where f is finite")


def _figure(f, result, n, bounds, restarts):
    from ..plot import plot_contour_path, plot_path_1d, plot_restarts

    if n == 1:
        box = None if bounds is None else bounds[0]
        if restarts > 1:
            return plot_restarts(f, result, bounds=box)
        return plot_path_1d(f, result, bounds=box, tangents=result.n_steps <= 30)
    return plot_contour_path(f, result, bounds=bounds)
