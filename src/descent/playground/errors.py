"""One error shape for every endpoint: ``{"error": "<one line>", "field": "<name>" | null}``.

A user's mistake (an unknown name in an expression, a rate <= 0, too many steps) is
HTTP 422 with the field it is about, so the page can show the message next to that
field. Messages are one line and never echo more than a short excerpt of the input.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


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


def error_response(status: int, message: str, field: str | None = None) -> JSONResponse:
    """The JSON body every error has."""
    return JSONResponse({"error": " ".join(message.split()), "field": field}, status_code=status)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    """pydantic's first complaint as (one line, field): 'learning_rate: must be > 0'."""
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    loc = [str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")]
    field = loc[0] if loc else None
    where = ".".join(loc)
    message = _clip(str(first.get("msg", "invalid value")), 160)
    if first.get("type") == "extra_forbidden":
        message = "is not a known setting; remove it"
    elif first.get("type") == "json_invalid":
        message = "the request body is not valid JSON"
    return (f"{where}: {message}" if where else message), field


async def input_error_handler(request: Request, exc: InputError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.field)


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    message, field = validation_message(exc)
    return error_response(422, message, field)
