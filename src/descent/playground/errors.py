"""One error shape for every endpoint: ``{"error": "<one line>", "field": "<name>" | null}``.

A user's mistake (an unknown name in an expression, a rate <= 0, too many steps) is
HTTP 422 with the field it is about, so the page can show the message next to that
field. Messages are one line and never echo more than a short excerpt of the input:
every piece of a request shown back goes through ``clip``.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

EXCERPT = 60
"""The most characters of a request's own text an error message shows."""


class InputError(Exception):
    """Bad input for ``field``: answered with ``status`` (422 unless said otherwise).

    Example:
        >>> error = InputError("learning_rate", "learning_rate must be above 0, got -1")
        >>> error.status, error.field
        (422, 'learning_rate')
    """

    def __init__(self, field: str | None, message: str, status: int = 422):
        super().__init__(message)
        self.field, self.message, self.status = field, message, status


def clip(text: str, limit: int = EXCERPT) -> str:
    """``text`` cut to ``limit`` characters, ``...`` marking a cut (an excerpt to echo).

    Example:
        >>> clip("x" * 100, 10), clip("short")
        ('xxxxxxx...', 'short')
    """
    return text if len(text) <= limit else text[: limit - 3] + "..."


def error_response(status: int, message: str, field: str | None = None,
                   headers: dict | None = None) -> JSONResponse:
    """The JSON body every error has."""
    return JSONResponse({"error": " ".join(message.split()), "field": field},
                        status_code=status, headers=headers)


def validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    """pydantic's first complaint as (one line, field): 'learning_rate: must be > 0'.

    The field and the place are excerpts (an unknown key is the client's text, of any
    length); a body that is not JSON at all names no field (its place is a character
    offset, not a setting).
    """
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    if first.get("type") == "json_invalid":
        return "the request body is not valid JSON", None
    loc = [clip(str(part)) for part in first.get("loc", ())
           if part not in ("body", "query", "path")]
    field = loc[0] if loc else None
    where = clip(".".join(loc))
    message = clip(str(first.get("msg", "invalid value")), 160)
    if first.get("type") == "extra_forbidden":
        message = "is not a known setting; remove it"
    return (f"{where}: {message}" if where else message), field


async def input_error_handler(request: Request, exc: InputError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.field)


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    message, field = validation_message(exc)
    return error_response(422, message, field)


def http_error_message(status: int, detail, path: str) -> str:
    """Starlette's 404, 405 and 400 as one line that says what to do.

    Example:
        >>> http_error_message(404, "Not Found", "/api/nope")
        'there is nothing at /api/nope; the API is described in docs/playground.md'
    """
    if status == 404:
        return f"there is nothing at {clip(path)}; the API is described in docs/playground.md"
    if status == 405:
        return f"{clip(path)} does not take this method; see docs/playground.md"
    if status == 400:
        return "the request body could not be read; send JSON as docs/playground.md shows"
    return clip(str(detail), 160)


async def http_error_handler(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's own errors (no route, wrong method, unreadable body) in the one shape.

    Registered by the app: ``app.add_exception_handler(HTTPException, http_error_handler)``
    (``starlette.exceptions.HTTPException``, which FastAPI's subclasses).
    """
    message = http_error_message(exc.status_code, exc.detail, request.url.path)
    return error_response(exc.status_code, message, None, headers=exc.headers)
