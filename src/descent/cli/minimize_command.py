"""``descent minimize "EXPR"``: gradient descent on a formula typed at the prompt."""

from __future__ import annotations

import click
import numpy as np

from ..expression import ExpressionError, parse
from ..minimize import minimize
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
        raise UserError(f"{option} must be numbers separated by commas, like '1,2', got {text!r}")
    return values


def _bounds(text: str, n: int) -> list[tuple[float, float]]:
    pairs = []
    for part in text.replace(" ", "").split(","):
        low, sep, high = part.partition(":")
        try:
            pair = (float(low), float(high))
        except ValueError:
            sep = ""
        if not sep or not np.all(np.isfinite(pair)) or pair[0] >= pair[1]:
            raise UserError(f"--bounds must be LOW:HIGH per variable, like '-2:2,-1:3' "
                            f"(low below high), got {text!r}")
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
@click.option("--restarts", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs from random starts in --bounds; the best is reported.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=0.01,
              show_default=True)
@click.option("--epochs", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Most steps per run.")
@click.option("--optimizer", type=click.Choice(["gd", "momentum", "nesterov", "adagrad",
                                                "rmsprop", "adam"]), default="gd",
              show_default=True)
@click.option("--random-state", type=int, default=0, show_default=True)
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
    except ExpressionError as err:  # one line: the reason, where, and what is allowed
        where = "" if err.position is None else f" at column {err.position + 1}"
        raise UserError(f"bad expression {expression!r}{where}: {err.reason}. {err.hint}") \
            from err
    names = expr.variables
    n = len(names)
    if n == 0:
        raise UserError(f"{expression!r} has no variables to minimise over; use a name like x")
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
    result = minimize(f, x0=None if start is None else (start[0] if n == 1 else start),
                      bounds=None if bounds is None else (bounds[0] if n == 1 else bounds),
                      learning_rate=learning_rate, epochs=epochs, restarts=restarts,
                      optimizer=optimizer, random_state=random_state)
    if result.status == "diverged" and restarts == 1:
        raise UserError(result.message)
    x = np.atleast_1d(np.asarray(result.x, dtype=float))
    payload = {"expression": expression, "variables": dict(zip(names, x.tolist(), strict=True)),
               "value": float(result.fun), "steps": int(result.n_steps),
               "status": result.status, "message": result.message, "runs": len(result.runs)}
    if plot_path:
        payload["plot"] = str(save_figure(_figure(f, result, n, bounds, restarts), plot_path))
    if as_json:
        print_json(payload)
    elif not quiet:
        rows = [(name, float(value)) for name, value in payload["variables"].items()]
        rows += [("value", payload["value"]), ("steps", payload["steps"]),
                 ("status", result.status)]
        if restarts > 1:
            rows.append(("runs", f"{restarts} (best kept)"))
        print_table(f"minimum of {expression}", rows)
        if result.message:
            click.echo(result.message)


def _figure(f, result, n, bounds, restarts):
    from ..plot import plot_contour_path, plot_path_1d, plot_restarts

    if n == 1:
        box = None if bounds is None else bounds[0]
        if restarts > 1:
            return plot_restarts(f, result, bounds=box)
        return plot_path_1d(f, result, bounds=box, tangents=result.n_steps <= 30)
    return plot_contour_path(f, result, bounds=bounds)
