"""The model lab's request bodies and limits (docs/playground.md, "Model lab").

Every number a request may carry is bounded here: the points, the layers, the epochs
per call and per stream; ``LIMITS`` is what GET /api/options tells the page.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from .datasets import DATASETS, DEFAULT_CURVE, MAX_CURVE_LENGTH
from .features import FEATURES
from .model_access import IDLE_SECONDS, MAX_SESSIONS
from .model_setup import ACTIVATION_NAMES, MODELS, OPTIMIZERS
from .sessions import GRID_SIZE, MAX_SESSION_EPOCHS, STEP_SECONDS
from .uploads import MAX_ROWS, MAX_UPLOAD_BYTES

EPOCHS_PER_STEP = 100
EPOCHS_PER_STREAM = 1000
MAX_POINTS = 2000
MAX_LAYERS = 6
MAX_NEURONS = 16

LIMITS = {
    "n_points": [10, MAX_POINTS], "hidden_layers": MAX_LAYERS, "neurons": MAX_NEURONS,
    "epochs_per_step": EPOCHS_PER_STEP, "epochs_per_stream": EPOCHS_PER_STREAM,
    "epochs_per_session": MAX_SESSION_EPOCHS, "seconds_per_step": STEP_SECONDS,
    "upload_bytes": MAX_UPLOAD_BYTES, "upload_rows": MAX_ROWS, "sessions": MAX_SESSIONS,
    "idle_seconds": IDLE_SECONDS, "learning_rate": [0, 10], "alpha": [0, 10],
    "noise": [0, 1], "train_ratio": [0.1, 0.9], "curve_length": MAX_CURVE_LENGTH,
    "grid_size": GRID_SIZE,
}

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
