"""The learning-rate lab's endpoints: the presets, a descent, and a function's surface.

Everything is computed by descent: ``descent.minimize`` walks the path (``rate_runs``),
the engine gives the gradient at every point and evaluates the surface on a whole grid
at once. The page only draws. The API is described in docs/playground.md.

A descent or a surface is heavy work (up to a second of the GIL): it runs on the app's
work queue (``workers.py``), never on the event loop or the general thread pool, and its
reply is rendered to JSON there too. The presets are a constant and are answered at once.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from ..expression import Expression
from ..minimize import StartError
from .errors import InputError, clip
from .formulas import parse_formula
from .presets import PRESETS, preset_for
from .rate_runs import WORK_BUDGET, LabRun, descend, gradients, most_steps, work
from .snapshot import finite_or_none
from .workers import Workers, workers

router = APIRouter()
Pool = Annotated[Workers, Depends(workers)]

MAX_EXPRESSION = 500
"""The longest expression the lab reads, in characters."""

MAX_COORDINATE = 1e6
"""The largest size of a start, a bound or a view's edge."""

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)
Pair = Annotated[list[float], Field(min_length=2, max_length=2)]  # [low, high]
# Checked by _start (so a wrong start is one message about the start, not one per shape).
Start = Annotated[Any, WithJsonSchema({"anyOf": [
    {"type": "number"}, {"type": "array", "items": {"type": "number"}, "minItems": 1,
                         "maxItems": 2}]})]


class DescendRequest(BaseModel):
    """``POST /api/descend``: what to descend, from where, how."""

    model_config = _STRICT
    expression: str = Field(max_length=100 * MAX_EXPRESSION)  # the 500 is checked with a message
    start: Start = Field(description="a number (1-D) or [x, y] (2-D)")
    learning_rate: float = Field(gt=0, le=1e6)
    steps: int = Field(100, ge=0, le=10_000)
    optimizer: Literal["gd", "momentum", "adam"] = "gd"
    beta: float = Field(0.9, ge=0, lt=1)
    tol: float = Field(1e-6, ge=0, le=1e3)
    restarts: int = Field(1, ge=1, le=20)
    bounds: list[Pair] | None = Field(None, max_length=2)
    random_state: int = Field(0, ge=0, le=2**32 - 1)


class RunReply(BaseModel):
    """One run of a request with restarts."""

    model_config = ConfigDict(extra="forbid")
    points: list[list[float | None]]  # f is null at a skipped random start
    status: Literal["converged", "diverged", "bouncing", "running", "skipped"]
    steps: int
    message: str


class DescendReply(BaseModel):
    """The best run's path, the gradient at each of its points, and how it went."""

    model_config = ConfigDict(extra="forbid")
    points: list[list[float]]
    gradients: list[list[float | None]]
    status: Literal["converged", "diverged", "bouncing", "running"]
    steps: int
    message: str
    variables: list[str]
    runs: list[RunReply]
    best: int


class SurfaceRequest(BaseModel):
    """``POST /api/surface``: the box and how finely to sample it."""

    model_config = _STRICT
    expression: str = Field(max_length=100 * MAX_EXPRESSION)
    x: Pair
    y: Pair | None = None
    size: int = Field(100, ge=2, le=200)


class SurfaceReply(BaseModel):
    """f on a line (1-D) or a grid (2-D, rows by y); null where f is not finite."""

    model_config = ConfigDict(extra="forbid")
    variables: list[str]
    x: list[float]
    y: list[float] | None = None
    values: list[float | None] | list[list[float | None]]


def read_expression(text: str) -> Expression:
    """``text`` parsed by descent's safe parser, as a function of x, or of x and y.

    Raises:
        InputError: on field ``expression``, with the parser's one-line message.

    Example:
        >>> read_expression("x^2 + y").variables
        ('x', 'y')
    """
    expression = parse_formula(text, "expression", MAX_EXPRESSION)
    if expression.variables not in (("x",), ("x", "y")):
        uses = ", ".join(expression.variables) or "no variables"
        raise InputError("expression", f"the expression uses {clip(uses)}; write a function of "
                         "x (a curve), or of x and y (a surface)")
    return expression


def _finite(pair: Pair, field: str) -> Pair:
    low, high = pair
    if not low < high:
        raise InputError(field, f"{field} must be [low, high] with low < high, got "
                         f"[{low:g}, {high:g}]")
    if max(abs(low), abs(high)) > MAX_COORDINATE:
        raise InputError(field, f"{field} must lie within +-{MAX_COORDINATE:g}")
    return pair


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _start(request: DescendRequest, dims: int):
    start = request.start if isinstance(request.start, list) else [request.start]
    if not all(_is_number(v) for v in start):
        want = "a number" if dims == 1 else "two numbers, [x, y]"
        raise InputError("start", f"start must be {want}, got {clip(repr(request.start), 40)}")
    if not all(math.isfinite(v) for v in start):
        raise InputError("start", "start must be finite numbers")
    if len(start) != dims:
        want = "one number, x" if dims == 1 else "two numbers, [x, y]"
        raise InputError("start", f"start has {len(start)} number{'s' * (len(start) != 1)} but "
                         f"the function needs {want}")
    if max(abs(v) for v in start) > MAX_COORDINATE:
        raise InputError("start", f"start must lie within +-{MAX_COORDINATE:g}")
    return start[0] if dims == 1 else start


def _bounds(request: DescendRequest, dims: int):
    if request.bounds is not None:
        if len(request.bounds) != dims:
            raise InputError("bounds", f"bounds has {len(request.bounds)} [low, high] pairs; "
                             f"give one per variable ({dims})")
        pairs = [tuple(_finite(pair, "bounds")) for pair in request.bounds]
    elif request.restarts == 1:
        return None
    else:
        preset = preset_for(request.expression)
        if preset is None:
            raise InputError("bounds", "random restarts need bounds to draw their starts "
                             "from: give one [low, high] pair per variable")
        pairs = [tuple(preset.view[name]) for name in preset.variables]
    start = request.start if isinstance(request.start, list) else [request.start]
    for value, (low, high), name in zip(start, pairs, "xy", strict=False):
        if not low <= value <= high:  # minimize would clip it into the box unasked
            where = "bounds" if request.bounds is not None else "preset's view (the bounds)"
            raise InputError("start", f"start {name} = {value:g} lies outside the {where} "
                             f"[{low:g}, {high:g}]; start inside them, or widen them")
    return pairs[0] if dims == 1 else pairs  # minimize: (low, high) for a scalar x0


def _run_reply(run: LabRun) -> RunReply:
    return RunReply(points=run.points(), status=run.status, steps=run.steps, message=run.message)


def _json(reply: BaseModel) -> Response:
    """``reply`` rendered on the worker, so the event loop only sends the bytes."""
    return Response(reply.model_dump_json(), media_type="application/json")


@router.get("/presets")
async def presets() -> dict:
    """The preset functions, each with a start, a learning rate and a view."""
    return {"presets": [preset.as_json() for preset in PRESETS]}


@router.post("/descend", response_model=DescendReply)
async def descend_endpoint(request: DescendRequest, pool: Pool) -> Response:
    """Gradient descent on the expression, as ``descent.minimize`` does it."""
    return await pool.run(_descend, request)


@router.post("/surface", response_model=SurfaceReply)
async def surface_endpoint(request: SurfaceRequest, pool: Pool) -> Response:
    """f on ``size`` points across ``x`` (1-D), or on a ``size`` x ``size`` grid (2-D)."""
    return await pool.run(_surface, request)


def _descend(request: DescendRequest) -> Response:
    expression = read_expression(request.expression)
    dims = len(expression.variables)
    start = _start(request, dims)
    bounds = _bounds(request, dims)
    if work(request.expression, request.steps, request.restarts) > WORK_BUDGET:
        most = most_steps(request.expression, request.restarts)
        per = f" with {request.restarts} restarts" if request.restarts > 1 else ""
        raise InputError("steps", f"{request.steps:,} steps{per} is more work than one request "
                         f"may do for this expression; ask for at most {most:,} steps"
                         + (", or fewer restarts" if per else ""))
    f = expression.as_function()
    try:
        result = descend(f, start, learning_rate=request.learning_rate, steps=request.steps,
                         optimizer=request.optimizer, beta=request.beta, tol=request.tol,
                         restarts=request.restarts, bounds=bounds,
                         random_state=request.random_state)
    except StartError as err:
        raise InputError("bounds" if err.tries else "start", " ".join(str(err).split())) from None
    except ValueError as err:  # minimize's own checks; the request's were checked above
        raise InputError(None, " ".join(str(err).split())) from None
    top = result.top
    status = top.status if top.status != "skipped" else "running"
    return _json(DescendReply(
        points=top.points(), gradients=finite_or_none(gradients(f, top.path)), status=status,
        steps=top.steps, message=top.message, variables=list(expression.variables),
        runs=[_run_reply(run) for run in result.runs] if request.restarts > 1 else [],
        best=result.best if request.restarts > 1 else 0))


def _surface(request: SurfaceRequest) -> Response:
    expression = read_expression(request.expression)
    f = expression.as_function()
    xs = np.linspace(*_finite(request.x, "x"), request.size)
    if len(expression.variables) == 1:
        with np.errstate(all="ignore"):
            values = np.broadcast_to(np.asarray(f(xs[None, :]).data, dtype=np.float64), xs.shape)
        return _json(SurfaceReply(variables=["x"], x=xs.tolist(), values=finite_or_none(values)))
    if request.y is None:
        raise InputError("y", "the function uses x and y: give y as [low, high] too")
    ys = np.linspace(*_finite(request.y, "y"), request.size)
    grid = np.stack(np.meshgrid(xs, ys))  # grid[:, i, j] is (xs[j], ys[i]): rows by y
    with np.errstate(all="ignore"):
        values = np.broadcast_to(np.asarray(f(grid).data, dtype=np.float64), grid.shape[1:])
    return _json(SurfaceReply(variables=["x", "y"], x=xs.tolist(), y=ys.tolist(),
                              values=finite_or_none(values)))
