"""Who may use a model session when: the stores, the session lock, the open streams.

A session trains under its ``threading.Lock``. An endpoint takes it without a thread:
it tries the lock and, while another request holds it, sleeps on the event loop (a few
milliseconds at a time) up to ``LOCK_WAIT_SECONDS``, then answers 409. So a hundred
requests on one busy session cost a hundred sleeping coroutines, never a hundred
blocked threads. The work itself runs on the app's worker queue (``workers.py``) and
the worker releases the lock when it is done, so the lock covers the whole training
even if the client has gone. (An ``asyncio.Lock`` would not do: each TestClient
request runs on its own event loop.)
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Annotated

from fastapi import Depends, Request

from .errors import InputError
from .sessions import Session
from .stores import Store
from .workers import Workers

MAX_SESSIONS = 256
IDLE_SECONDS = 15 * 60
MAX_UPLOADS = 32
KEEP_SECONDS = 60
"""A session or upload used this recently is never evicted to make room for another."""
LOCK_WAIT_SECONDS = 5.0
MAX_STREAMS = 32
"""Event streams open at once, all sessions together; one more is 503."""

_SESSIONS: Store[Session] = Store(MAX_SESSIONS, IDLE_SECONDS, busy=Session.busy,
                                  keep_seconds=KEEP_SECONDS, on_drop=Session.close)
_UPLOADS: Store = Store(MAX_UPLOADS, IDLE_SECONDS, keep_seconds=KEEP_SECONDS)


# The dependencies are coroutines: FastAPI runs a plain function dependency on its thread
# pool, a thread hop per dependency per request, which cost more than the request itself.
async def sessions() -> Store[Session]:
    """The session store (a dependency: tests inject one with small limits)."""
    return _SESSIONS


async def uploads() -> Store:
    """The upload store (a dependency, as ``sessions``)."""
    return _UPLOADS


async def pool(request: Request) -> Workers:
    """The app's work queue (``workers.workers``, without a thread hop)."""
    return request.app.state.workers


async def stopping(request: Request) -> threading.Event:
    """Set once the server stops (``workers.stopping``, without a thread hop)."""
    return request.app.state.stopping


Sessions = Annotated[Store, Depends(sessions)]
Uploads = Annotated[Store, Depends(uploads)]
Pool = Annotated[Workers, Depends(pool)]
Stopping = Annotated[threading.Event, Depends(stopping)]


def find(store: Store, session_id: str) -> Session:
    """The session, or 404."""
    session = store.get(session_id)
    if session is None or session.closed:
        raise InputError(None, "unknown or expired model session (sessions end after "
                         f"{IDLE_SECONDS // 60} idle minutes); create the model again", 404)
    return session


async def acquire(session: Session, wait: float | None = None) -> None:
    """Take the session's lock, polling from the event loop; 409 after ``wait`` seconds."""
    deadline = time.monotonic() + (LOCK_WAIT_SECONDS if wait is None else wait)
    pause = 0.002
    while not session.lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise InputError(None, "this model is busy training for another request (another "
                             "tab?); wait for it to finish and try again", 409)
        await asyncio.sleep(pause)
        pause = min(2 * pause, 0.02)


async def locked(pool: Workers, session: Session, fn, *args, wait: float | None = None):
    """``fn(session, *args)`` on a worker, holding the session's lock from before it is
    queued until it has run; 409 when the lock stays taken, 503 when the queue is full."""
    await acquire(session, wait)
    claim, state = threading.Lock(), {"started": False, "abandoned": False}

    def job():
        with claim:
            if state["abandoned"]:
                return None
            state["started"] = True
        try:
            return fn(session, *args)
        finally:
            session.lock.release()

    try:
        return await pool.run(job)
    finally:
        # Refused, or cancelled before a worker took it: the job will never release the
        # lock, so release it here (exactly once: the claim decides who does).
        with claim:
            if not state["started"]:
                state["abandoned"] = True
                session.lock.release()


class Streams:
    """Open event streams: one per session, ``limit`` in all."""

    def __init__(self, limit: int = MAX_STREAMS):
        self.limit, self.open = limit, 0
        self._lock = threading.Lock()

    def begin(self, session: Session) -> None:
        with self._lock:
            if session.streaming:
                raise InputError(None, "this model is already playing in another stream "
                                 "(another tab?); pause it there first", 409)
            if self.open >= self.limit:
                raise InputError(None, f"the playground is already streaming {self.limit} "
                                 "models; try again in a moment", 503)
            self.open += 1
            session.streaming = True

    def end(self, session: Session) -> None:
        with self._lock:
            self.open -= 1
            session.streaming = False


STREAMS = Streams()
