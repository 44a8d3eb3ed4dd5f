"""Where the labs' heavy work runs: a few worker threads, first come first served.

Training a model, descending a function or drawing a surface takes the GIL for a few
milliseconds to a second. Run on the server's general thread pool (40 threads), forty such
requests would share the GIL in 5 ms slices and every other user would wait behind all of
them. Here they queue for ``WORKERS`` threads instead: each finishes in turn, cheap requests
(the page, the options) never wait for a thread at all, and past ``MAX_WAITING`` queued
jobs a request is refused at once with 503 rather than left hanging.

The pool is a plain ``concurrent.futures`` executor, so it works from any event loop
(uvicorn's, or the one each TestClient request starts).
"""

from __future__ import annotations

import asyncio
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from fastapi import Request

from .errors import InputError

WORKERS = max(1, min(4, os.cpu_count() or 1))
"""Threads doing heavy work at once: one per core, at most four (the GIL allows one)."""

MAX_WAITING = 64
"""Jobs that may wait for a worker; the next one is refused with 503."""


class Workers:
    """A bounded queue in front of ``WORKERS`` threads.

    Example:
        >>> import asyncio
        >>> pool = Workers(workers=1, max_waiting=4)
        >>> async def job():
        ...     return await pool.run(sum, [1, 2, 3])
        >>> with ThreadPoolExecutor(1) as caller:  # from any thread and event loop
        ...     caller.submit(asyncio.run, job()).result()
        6
        >>> pool.close()
    """

    def __init__(self, workers: int = WORKERS, max_waiting: int = MAX_WAITING):
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="descent-lab")
        self.max_waiting = workers + max_waiting
        self._queued = 0
        self._lock = threading.Lock()

    async def run(self, fn, *args):
        """``fn(*args)`` on a worker thread; 503 when too many jobs are already queued."""
        with self._lock:
            if self._queued >= self.max_waiting:
                raise InputError(None, "the playground is busy with other work; try again in "
                                 "a moment", status=503)
            self._queued += 1
        try:
            return await asyncio.wrap_future(self.executor.submit(fn, *args))
        finally:
            with self._lock:
                self._queued -= 1

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


async def workers(request: Request) -> Workers:
    """The app's work queue, for endpoints: ``pool: Annotated[Workers, Depends(workers)]``."""
    return request.app.state.workers


async def stopping(request: Request) -> threading.Event:
    """Set once the server is shutting down, so long streams end at their next event."""
    return request.app.state.stopping
