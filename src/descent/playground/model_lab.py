"""The model lab's endpoints (docs/playground.md, "Model lab").

A model session holds one descent estimator and its data; STEP trains it one or more
epochs with ``partial_fit`` and answers a snapshot. Every request is bounded: the points,
the layers, the epochs per call and per session, and the seconds a call may train.
Training runs in worker threads (sync endpoints; the event stream hands each epoch to
a thread), so it never blocks the event loop or other users' sessions.
"""

from __future__ import annotations

from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .datasets import DATASETS, DEFAULT_CURVE, MAX_CURVE_LENGTH, DatasetError
from .errors import InputError
from .features import FEATURES
from .model_setup import ACTIVATION_NAMES, MODELS, OPTIMIZERS, SetupError
from .sessions import DEFAULTS, GRID_SIZE, MAX_SESSION_EPOCHS, STEP_SECONDS, Session
from .snapshot import dumps, rounded, snapshot
from .stores import Store, StoreFull
from .uploads import MAX_ROWS, MAX_UPLOAD_BYTES, read_upload

router = APIRouter()

MAX_SESSIONS = 256
IDLE_SECONDS = 15 * 60
MAX_UPLOADS = 32
EPOCHS_PER_STEP = 100
EPOCHS_PER_STREAM = 1000
MAX_POINTS = 2000
MAX_LAYERS = 6
MAX_NEURONS = 16
LOCK_WAIT_SECONDS = 5.0

LIMITS = {
    "n_points": [10, MAX_POINTS], "hidden_layers": MAX_LAYERS, "neurons": MAX_NEURONS,
    "epochs_per_step": EPOCHS_PER_STEP, "epochs_per_stream": EPOCHS_PER_STREAM,
    "epochs_per_session": MAX_SESSION_EPOCHS, "seconds_per_step": STEP_SECONDS,
    "upload_bytes": MAX_UPLOAD_BYTES, "upload_rows": MAX_ROWS, "sessions": MAX_SESSIONS,
    "idle_seconds": IDLE_SECONDS, "learning_rate": [0, 10], "alpha": [0, 10],
    "noise": [0, 1], "train_ratio": [0.1, 0.9], "curve_length": MAX_CURVE_LENGTH,
    "grid_size": GRID_SIZE,
}

_SESSIONS: Store[Session] = Store(MAX_SESSIONS, IDLE_SECONDS, busy=lambda s: s.lock.locked())
_UPLOADS: Store = Store(MAX_UPLOADS, IDLE_SECONDS)


def sessions() -> Store[Session]:
    """The session store (a dependency: tests inject one with small limits)."""
    return _SESSIONS


def uploads() -> Store:
    """The upload store (a dependency, as ``sessions``)."""
    return _UPLOADS


Sessions = Annotated[Store, Depends(sessions)]
Uploads = Annotated[Store, Depends(uploads)]

Int = Annotated[int, Field(strict=True)]
Real = Annotated[float, Field(allow_inf_nan=False)]


class ModelRequest(BaseModel):
    """POST /api/models: the data, the model and how it trains."""

    model_config = ConfigDict(extra="forbid")

    dataset: Literal[(*DATASETS, "upload")]  # type: ignore[valid-type]
    curve: str = Field(DEFAULT_CURVE, max_length=MAX_CURVE_LENGTH)
    upload_id: str | None = Field(None, max_length=64)
    n_points: Int = Field(200, ge=10, le=MAX_POINTS)
    noise: Real = Field(0.1, ge=0, le=1)
    train_ratio: Real = Field(0.5, ge=0.1, le=0.9)
    model: Literal[tuple(MODELS)]  # type: ignore[valid-type]
    hidden_layers: list[Annotated[int, Field(strict=True, ge=1, le=MAX_NEURONS)]] = Field(
        [4, 2], min_length=1, max_length=MAX_LAYERS)
    activation: Literal[ACTIVATION_NAMES] = "tanh"  # type: ignore[valid-type]
    features: list[Literal[tuple(FEATURES)]] = Field(  # type: ignore[valid-type]
        ["x1", "x2"], min_length=1, max_length=2 * len(FEATURES))
    optimizer: Literal[OPTIMIZERS] = "gd"  # type: ignore[valid-type]
    learning_rate: Real = Field(0.03, gt=0, le=10)
    batch_size: Int = Field(10, ge=1, le=MAX_POINTS)
    penalty: Literal[None, "l1", "l2"] = None
    alpha: Real = Field(0.0, ge=0, le=10)
    seed: Int = Field(0, ge=0, le=2**31 - 1)


class StepRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    epochs: Int = Field(1, ge=1, le=EPOCHS_PER_STEP)


class ExplainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    point: Int = Field(ge=0, le=MAX_POINTS)


def _json(body: dict, status: int = 200) -> Response:
    # Serialized here, by snapshot.dumps: FastAPI's generic encoder walking 1,600 grid
    # values would cost more than the training step.
    return Response(dumps(body), status_code=status, media_type="application/json")


def _session(store: Store, session_id: str) -> Session:
    session = store.get(session_id)
    if session is None:
        raise InputError(None, "unknown or expired model session (sessions end after "
                         f"{IDLE_SECONDS // 60} idle minutes); create the model again", 404)
    return session


class _Held:
    """The session's lock for one training, or 409 when another call holds it too long."""

    def __init__(self, session: Session):
        self.session = session

    def __enter__(self) -> Session:
        if not self.session.lock.acquire(timeout=LOCK_WAIT_SECONDS):
            raise InputError(None, "this model is busy training for another request (another "
                             "tab?); wait for it to finish and try again", 409)
        return self.session

    def __exit__(self, *exc) -> None:
        self.session.lock.release()


@router.get("/options")
def options() -> dict:
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
async def upload(request: Request, store: Uploads) -> Response:
    """A CSV for the lab: two numeric features, then the target (see ``uploads``)."""
    raw = await request.body()  # the guard has bounded it to 1 MiB already
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file", "the file is not UTF-8 text; save it as CSV (UTF-8)") from None
    try:
        data = await anyio.to_thread.run_sync(read_upload, text)
    except DatasetError as err:
        raise InputError(err.field, str(err)) from None
    upload_id = store.add(data)
    return _json({"upload_id": upload_id, "rows": len(data.X), "columns": data.columns,
                  "task": data.task, "classes": data.classes,
                  "scale": [list(pair) for pair in data.scale]})


def _targets(session: Session, y) -> list:
    if session.data.classes:
        return [session.data.classes.index(v) for v in y.tolist()]
    return rounded(y)


@router.post("/models")
def create_model(body: ModelRequest, store: Sessions, upload_store: Uploads) -> Response:
    """A new session: its data, and its snapshot at epoch 0."""
    settings = body.model_dump()
    upload = None
    if body.dataset == "upload":
        if not body.upload_id:
            raise InputError("upload_id", "upload a CSV file first, then create the model")
        upload = upload_store.get(body.upload_id)
        if upload is None:
            raise InputError("upload_id", "that upload has expired or is unknown; upload the "
                             "file again")
    try:
        session = Session.create(settings, upload)
        first = snapshot(session)
    except (DatasetError, SetupError) as err:
        raise InputError(err.field, str(err)) from None
    try:
        session_id = store.add(session)
    except StoreFull:
        raise InputError(None, "every model-session slot is busy training; try again in a "
                         "few seconds", 503) from None
    data = session.data
    return _json({
        "id": session_id, "task": data.task, "classes": data.classes,
        "columns": data.columns, "features": list(session.features), "scale": data.scale,
        "train": {"X": rounded(data.X_train), "y": _targets(session, data.y_train)},
        "test": {"X": rounded(data.X_test), "y": _targets(session, data.y_test)},
        "snapshot": first,
    }, status=200)


@router.post("/models/{session_id}/step")
def step(session_id: str, store: Sessions, body: StepRequest | None = None) -> Response:
    """Train ``epochs`` more epochs (at most ``STEP_SECONDS`` of them) → Snapshot."""
    epochs = body.epochs if body is not None else 1
    with _Held(_session(store, session_id)) as session:
        session.train(epochs)
        return _json(snapshot(session))


def _one_epoch(session: Session) -> dict | None:
    with _Held(session):
        if session.train(1) == 0:
            return None
        return snapshot(session)


@router.get("/models/{session_id}/stream")
async def stream(session_id: str, request: Request, store: Sessions,
                 epochs: Annotated[int, Query(ge=1, le=EPOCHS_PER_STREAM)] = 100,
                 interval: Annotated[float, Query(ge=0, le=1)] = 0.0) -> StreamingResponse:
    """Server-sent events: one snapshot per epoch, then ``event: end``; a closed connection
    stops the training. ``interval`` (seconds, 0 to 1) paces the events."""
    session = _session(store, session_id)

    async def events():
        sent = 0
        for _ in range(epochs):
            if await request.is_disconnected():
                return
            store.get(session_id)  # a session that streams is in use: keep it from expiring
            try:
                shot = await anyio.to_thread.run_sync(_one_epoch, session)
            except InputError as err:
                yield _event("error", {"error": err.message, "field": err.field})
                break
            if shot is None:
                break
            sent += 1
            yield _event(None, shot)
            if interval:
                await anyio.sleep(interval)
        yield _event("end", {"epochs": sent, "epoch": session.epoch, "status": session.status,
                             "message": session.message})

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})


def _event(name: str | None, body: dict) -> str:
    data = dumps(body)
    return (f"event: {name}\n" if name else "") + f"data: {data}\n\n"


@router.post("/models/{session_id}/reset")
def reset(session_id: str, store: Sessions) -> Response:
    """Back to epoch 0 with the same settings and seed → Snapshot."""
    with _Held(_session(store, session_id)) as session:
        session.reset()
        return _json(snapshot(session))


@router.post("/models/{session_id}/explain")
def explain(session_id: str, body: ExplainRequest, store: Sessions) -> Response:
    """What one plain gradient step on one training point does, by the estimator itself."""
    from .explain import explain_point

    with _Held(_session(store, session_id)) as session:
        if body.point >= len(session.Z_train):
            raise InputError("point", f"point {body.point} is not a training point; choose 0 "
                             f"to {len(session.Z_train) - 1}")
        return _json(explain_point(session, body.point))


@router.get("/models/{session_id}/export")
def export(session_id: str, store: Sessions) -> Response:
    """The trained model as a descent model file (``descent.load`` reads it)."""
    from .export import model_file

    with _Held(_session(store, session_id)) as session:
        if session.epoch == 0:
            raise InputError(None, "the model has not trained yet; STEP at least once, then "
                             "export it")
        name, content = model_file(session)
    return Response(content, media_type="application/octet-stream",
                    headers={"content-disposition": f'attachment; filename="{name}"'})


@router.get("/models/{session_id}/python")
def python(session_id: str, store: Sessions) -> PlainTextResponse:
    """A short script with descent's API that rebuilds the data and retrains the model."""
    from .export import python_script

    session = _session(store, session_id)
    return PlainTextResponse(python_script(session))


@router.delete("/models/{session_id}")
def delete(session_id: str, store: Sessions) -> Response:
    """End a session."""
    if not store.remove(session_id):
        raise InputError(None, "unknown or expired model session; nothing to delete", 404)
    return _json({"deleted": True})
