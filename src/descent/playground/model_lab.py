"""The model lab's endpoints (docs/playground.md, "Model lab").

A model session holds one descent estimator and its data; STEP trains it one or more
epochs with ``partial_fit`` and answers a snapshot. The endpoints run on the event loop
and hand the heavy part (building, training, snapshots, exports) to the app's worker
queue, holding the session's lock (``model_access``): a busy session never ties up a
thread, and other users' requests are not stuck behind it. Request bodies and limits
are in ``model_requests``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from .datasets import DATASETS
from .errors import InputError
from .features import FEATURES
from .model_access import (
    STREAMS,
    Pool,
    Sessions,
    Stopping,
    Uploads,
    acquire,
    find,
    locked,
    sessions,
    uploads,
)
from .model_requests import (
    EPOCHS_PER_STREAM,
    LIMITS,
    ExplainRequest,
    ModelRequest,
    StepRequest,
)
from .model_setup import ACTIVATION_NAMES, MODELS, OPTIMIZERS
from .sessions import DEFAULTS, Session
from .snapshot import dumps, rounded, snapshot
from .stores import StoreFull
from .uploads import read_upload

__all__ = ["router", "sessions", "uploads"]

router = APIRouter()


def _json(body: dict, status: int = 200) -> Response:
    # Serialized here, by snapshot.dumps: FastAPI's generic encoder walking 1,600 grid
    # values would cost more than the training step.
    return Response(dumps(body), status_code=status, media_type="application/json")


@router.get("/options")
async def options() -> dict:
    """What the page's controls offer, and every limit."""
    return {
        "datasets": [{"name": name, "label": label, "task": task}
                     for name, (label, task) in DATASETS.items()]
        + [{"name": "upload", "label": "Your CSV", "task": "either"}],
        "models": [{"name": name, "label": label, "task": task}
                   for name, (label, task) in MODELS.items()],
        "features": list(FEATURES),
        "activations": list(ACTIVATION_NAMES),
        "optimizers": list(OPTIMIZERS),
        "penalties": [None, "l1", "l2"],
        "defaults": {"dataset": "circle", "model": "logistic", **DEFAULTS},
        "limits": LIMITS,
    }


@router.post("/uploads")
async def upload(request: Request, store: Uploads, pool: Pool) -> Response:
    """A CSV for the lab: two numeric features, then the target (see ``uploads``)."""
    raw = await request.body()  # the guard has bounded it to 1 MiB already
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file", "the file is not UTF-8 text; save it as CSV (UTF-8)") from None
    data = await pool.run(read_upload, text)
    try:
        upload_id = store.add(data)
    except StoreFull:
        raise InputError("file", f"the playground holds {store.capacity} uploads, all used in "
                         "the last minute; try again in a minute", 503) from None
    return _json({"upload_id": upload_id, "rows": len(data.X), "columns": data.columns,
                  "task": data.task, "classes": data.classes,
                  "scale": [list(pair) for pair in data.scale]})


def _targets(session: Session, y) -> list:
    if session.data.classes:
        return [session.data.classes.index(v) for v in y.tolist()]
    return rounded(y)


def _created(settings: dict, upload) -> tuple[Session, dict]:
    session = Session.create(settings, upload)
    data = session.data
    return session, {
        "task": data.task, "classes": data.classes,
        "columns": data.columns, "features": list(session.features), "scale": data.scale,
        "train": {"X": rounded(data.X_train), "y": _targets(session, data.y_train)},
        "test": {"X": rounded(data.X_test), "y": _targets(session, data.y_test)},
        "snapshot": snapshot(session),
    }


@router.post("/models")
async def create_model(body: ModelRequest, store: Sessions, upload_store: Uploads,
                       pool: Pool) -> Response:
    """A new session: its data, and its snapshot at epoch 0."""
    upload = None
    if body.dataset == "upload":
        if not body.upload_id:
            raise InputError("upload_id", "upload a CSV file first, then create the model")
        upload = upload_store.get(body.upload_id)
        if upload is None:
            raise InputError("upload_id", "that upload has expired or is unknown; upload the "
                             "file again")
    session, reply = await pool.run(_created, body.model_dump(), upload)
    try:
        session_id = store.add(session)
    except StoreFull:
        raise InputError(None, f"the playground holds {store.capacity} model sessions, all "
                         "in use in the last minute; try again in a minute", 503) from None
    return _json({"id": session_id, **reply})


def _step(session: Session, epochs: int) -> dict:
    session.train(epochs)
    return snapshot(session)


@router.post("/models/{session_id}/step")
async def step(session_id: str, store: Sessions, pool: Pool,
               body: StepRequest | None = None) -> Response:
    """Train ``epochs`` more epochs (at most ``STEP_SECONDS`` of them) → Snapshot."""
    epochs = body.epochs if body is not None else 1
    return _json(await locked(pool, find(store, session_id), _step, epochs))


def _one_epoch(session: Session) -> dict | None:
    return snapshot(session) if session.train(1) else None


class _Stream(StreamingResponse):
    """An event stream that gives its slot back however it ends."""

    def __init__(self, content, session: Session):
        super().__init__(content, media_type="text/event-stream",
                         headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        self.session = session

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            STREAMS.end(self.session)


@router.get("/models/{session_id}/stream")
async def stream(session_id: str, request: Request, store: Sessions, pool: Pool,
                 stop: Stopping,
                 epochs: Annotated[int, Query(ge=1, le=EPOCHS_PER_STREAM)] = 100,
                 interval: Annotated[float, Query(ge=0, le=1)] = 0.0) -> StreamingResponse:
    """Server-sent events: one snapshot per epoch, then ``event: end``. A closed
    connection, a deleted or expired session or the server stopping ends it at the next
    epoch. ``interval`` (seconds, 0 to 1) paces the events. One stream per session."""
    session = find(store, session_id)
    STREAMS.begin(session)

    async def events():
        sent = 0
        for _ in range(epochs):
            if stop.is_set() or session.closed or await request.is_disconnected():
                break
            store.get(session_id)  # a session that streams is in use: keep it fresh
            try:
                shot = await locked(pool, session, _one_epoch)
            except InputError as err:
                yield _event("error", {"error": err.message, "field": err.field})
                break
            if shot is None:
                break
            sent += 1
            yield _event(None, shot)
            if interval:
                await asyncio.sleep(interval)
        yield _event("end", {"epochs": sent, "epoch": session.epoch, "status": session.status,
                             "message": session.message})

    return _Stream(events(), session)


def _event(name: str | None, body: dict) -> str:
    data = dumps(body)
    return (f"event: {name}\n" if name else "") + f"data: {data}\n\n"


def _reset(session: Session) -> dict:
    session.reset()
    return snapshot(session)


@router.post("/models/{session_id}/reset")
async def reset(session_id: str, store: Sessions, pool: Pool) -> Response:
    """Back to epoch 0 with the same settings and seed → Snapshot."""
    return _json(await locked(pool, find(store, session_id), _reset))


def _explain(session: Session, point: int) -> dict:
    from .explain import explain_point

    if point >= len(session.Z_train):
        raise InputError("point", f"point {point} is not a training point; choose 0 "
                         f"to {len(session.Z_train) - 1}")
    return explain_point(session, point)


@router.post("/models/{session_id}/explain")
async def explain(session_id: str, body: ExplainRequest, store: Sessions,
                  pool: Pool) -> Response:
    """What one plain gradient step on one training point does, by the estimator itself."""
    return _json(await locked(pool, find(store, session_id), _explain, body.point))


def _export(session: Session) -> tuple[str, bytes]:
    from .export import model_file

    if session.epoch == 0:
        raise InputError(None, "the model has not trained yet; STEP at least once, then "
                         "export it")
    return model_file(session)


@router.get("/models/{session_id}/export")
async def export(session_id: str, store: Sessions, pool: Pool) -> Response:
    """The trained model as a descent model file (``descent.load`` reads it)."""
    name, content = await locked(pool, find(store, session_id), _export)
    return Response(content, media_type="application/octet-stream",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/models/{session_id}/python")
async def python(session_id: str, store: Sessions) -> PlainTextResponse:
    """A short script with descent's API that rebuilds the data and retrains the model."""
    from .export import python_script

    session = find(store, session_id)
    await acquire(session)  # a string from the settings: quick, so no worker thread
    try:
        return PlainTextResponse(python_script(session))
    finally:
        session.lock.release()


@router.delete("/models/{session_id}")
async def delete(session_id: str, store: Sessions) -> Response:
    """End a session (an open stream of it ends at its next epoch)."""
    if not store.remove(session_id):
        raise InputError(None, "unknown or expired model session; nothing to delete", 404)
    return _json({"deleted": True})
