"""The FastAPI application: the page, its static files, and the two labs' routers."""

from __future__ import annotations

import threading
from importlib.resources import files

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import (
    InputError,
    http_error_handler,
    input_error_handler,
    validation_error_handler,
)
from .guards import LOOPBACK_HOSTS, Guard
from .workers import Workers

STATIC = files("descent.playground") / "static"


def create_app(allowed_hosts: tuple[str, ...] | None = LOOPBACK_HOSTS) -> FastAPI:
    """The playground application, ready for uvicorn.

    Args:
        allowed_hosts: the Host names requests may use (loopback by default); None
            accepts any, for a server deliberately bound beyond this machine.

    Example:
        >>> from fastapi.testclient import TestClient
        >>> client = TestClient(create_app(), base_url="http://127.0.0.1")
        >>> client.get("/").status_code
        200
    """
    from .model_lab import router as model_lab
    from .rate_lab import router as rate_lab

    # No /docs or /redoc: they load scripts from a CDN. The API is in docs/playground.md
    # and its schema at /api/openapi.json.
    app = FastAPI(title="descent playground", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    # Heavy work queues for a few threads (workers.py); `stopping` tells open streams
    # that the server is shutting down (set by server.py on Ctrl-C).
    app.state.workers = Workers()
    app.state.stopping = threading.Event()
    app.add_exception_handler(InputError, input_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.include_router(rate_lab, prefix="/api")
    app.include_router(model_lab, prefix="/api")
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(str(STATIC / "favicon.svg"), media_type="image/svg+xml")

    app.add_middleware(Guard, allowed_hosts=allowed_hosts)
    return app

