"""A model session: one estimator, its data, and the epochs it has trained.

A session trains under its own lock, so one training runs at a time per session while
other sessions train in other threads. Its training matrices (the chosen features of the
train points, the test points and the heatmap's grid) are computed once, at creation.

Example:
    >>> session = Session.create(dict(dataset="gaussians", model="logistic"))
    >>> session.train(3)
    3
    >>> session.epoch, session.data.task
    (3, 'classification')
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from ..divergence import has_diverged, smaller_rate
from ..models import DivergenceError
from .datasets import BOX, DEFAULT_CURVE, DatasetError, make_dataset, split
from .features import canonical, transform
from .model_setup import estimator_class, estimator_params
from .snapshot import checked_finite, losses

GRID_SIZE = 40
"""The heatmap's points per side: 40 x 40 predictions over the box."""

MAX_SESSION_EPOCHS = 10_000
"""The most epochs one session trains, all calls together; reset starts the count again."""

STEP_SECONDS = 1.0
"""A call trains at most this long (whole epochs); the snapshot says how far it got."""

DEFAULTS = dict(curve=DEFAULT_CURVE, upload_id=None, n_points=200, noise=0.1, train_ratio=0.5,
                hidden_layers=[4, 2], activation="tanh", features=["x1", "x2"], optimizer="gd",
                learning_rate=0.03, batch_size=10, penalty=None, alpha=0.0, seed=0)


@dataclass
class LabData:
    """A session's points: train and test, the task and the labels (classes)."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    task: str
    classes: list
    columns: list[str] = field(default_factory=lambda: ["x1", "x2"])
    scale: list | None = None  # an upload's columns' (minimum, maximum) before scaling
    box: tuple[float, float] = (-BOX, BOX)


def lab_data(settings: dict, upload=None) -> LabData:
    """The data a session trains on: a built-in set, or ``upload`` (an ``uploads.Upload``)."""
    if upload is not None:
        X, y, task, classes = upload.X, upload.y, upload.task, list(upload.classes)
        columns, scale = list(upload.columns[:2]), upload.scale
    else:
        X, y = make_dataset(settings["dataset"], settings["n_points"], settings["noise"],
                            settings["seed"], settings["curve"])
        task = "regression" if settings["dataset"] == "plane" else "classification"
        classes, columns, scale = ([0, 1] if task == "classification" else []), ["x1", "x2"], None
    X_train, X_test, y_train, y_test = split(X, y, settings["train_ratio"], settings["seed"])
    return LabData(X_train, X_test, y_train, y_test, task, classes, columns, scale)


class Session:
    """One model being trained: settings, data, estimator, epoch and lock."""

    def __init__(self, settings: dict, data: LabData):
        self.settings, self.data = settings, data
        self.features = canonical(settings["features"])
        self.Z_train = transform(data.X_train, self.features)
        self.Z_test = transform(data.X_test, self.features)
        self.grid_axis = np.linspace(*data.box, GRID_SIZE)
        gx, gy = np.meshgrid(self.grid_axis, self.grid_axis)  # rows by y, from low to high
        self.Z_grid = transform(np.column_stack([gx.ravel(), gy.ravel()]), self.features)
        # All three in one matrix: a snapshot scores them in one call (one input check).
        self.Z_all = np.vstack([self.Z_train, self.Z_test, self.Z_grid])
        # Checked once here, so training and scoring skip scikit-learn's finiteness checks
        # of the same matrices at every epoch (``checked_finite``).
        numbers = [] if data.classes else [data.y_train, data.y_test]  # labels may be text
        if not all(np.isfinite(a).all() for a in [self.Z_all, *numbers]):
            raise DatasetError("dataset", "the data or its features hold a value that is not "
                               "finite; choose other features or fix the data")
        self.lock = threading.Lock()
        # closed: deleted, evicted or expired (an open stream stops at its next epoch);
        # streaming: an event stream trains it (it counts as busy, like the held lock).
        self.closed, self.streaming = False, False
        self.reset()

    @classmethod
    def create(cls, settings: dict, upload=None) -> Session:
        """A session from request settings (missing ones take ``DEFAULTS``)."""
        settings = {**DEFAULTS, **settings}
        return cls(settings, lab_data(settings, upload))

    def estimator_params(self) -> dict:
        """The estimator's keyword arguments (what reset builds and the script writes)."""
        s = self.settings
        return estimator_params(
            s["model"], self.data.task, len(self.Z_train), learning_rate=s["learning_rate"],
            batch_size=s["batch_size"], optimizer=s["optimizer"], penalty=s["penalty"],
            alpha=s["alpha"], seed=s["seed"], hidden_layers=s["hidden_layers"],
            activation=s["activation"])

    def busy(self) -> bool:
        """Training now, or streaming: not to be evicted or expired."""
        return self.streaming or self.lock.locked()

    def close(self) -> None:
        """Deleted, evicted or expired: an open stream ends at its next epoch."""
        self.closed = True

    def reset(self) -> None:
        """Back to epoch 0: a fresh estimator with the same settings and seed."""
        cls = estimator_class(self.settings["model"], self.data.task)
        self.estimator = cls(**self.estimator_params())
        self.epoch, self.status, self.message = 0, "training", ""
        self.recent: list[tuple[int, float, float]] = []  # see train
        self._start: object | None = None

    def train(self, epochs: int, seconds: float | None = None) -> int:
        """Up to ``epochs`` more epochs (fewer past ``seconds``, ``STEP_SECONDS`` unless
        given, or the session's cap, or once diverged); returns how many ran. The caller
        holds ``self.lock``."""
        with checked_finite():
            return self._train(epochs, STEP_SECONDS if seconds is None else seconds)

    def _train(self, epochs: int, seconds: float) -> int:
        began, done = time.perf_counter(), 0
        # The losses after each epoch of this call but the last (the snapshot has that one),
        # so the page's loss curve has every epoch of a many-epoch STEP.
        self.recent = []
        while (done < epochs and self.status == "training" and self.epoch < MAX_SESSION_EPOCHS
               and (done == 0 or time.perf_counter() - began < seconds)):
            if done > 0:
                self.recent.append((self.epoch, *losses(self, self.estimator)))
            try:
                with np.errstate(all="ignore"):  # thread-local, unlike warnings.catch_warnings
                    self.estimator.partial_fit(self.Z_train, self.data.y_train,
                                               classes=self.data.classes or None)
            except DivergenceError as err:
                # The estimator keeps its last finite weights; the page shows why it stopped.
                self.status, self.message = "diverged", " ".join(str(err).split())
                return done
            self.epoch += 1
            done += 1
            history = self.estimator.history_.loss
            if has_diverged(history[-1], history[0]):
                # Each partial_fit judges only its own epoch; across epochs it is ours to see.
                self.status = "diverged"
                self.message = (f"the training loss grew from {history[0]:.4g} to "
                                f"{history[-1]:.4g} by epoch {self.epoch}: the steps overshoot "
                                "the minimum; reset and try a smaller learning rate, e.g. "
                                f"{smaller_rate(self.settings['learning_rate'])}")
        if self.epoch >= MAX_SESSION_EPOCHS and self.status == "training":
            self.status = "limit"
            self.message = (f"this session has trained {MAX_SESSION_EPOCHS:,} epochs, the most "
                            "one session may; reset it to start again")
        return done

    def model(self):
        """The estimator as it predicts now: at epoch 0, its starting weights."""
        if self.epoch > 0 or hasattr(self.estimator, "history_"):  # trained, or diverged at once
            return self.estimator
        if self._start is None:
            self._start = starting_model(self.estimator, self.Z_train, self.data.y_train,
                                         self.data.classes)
        return self._start


def starting_model(estimator, X, y, classes):
    """A copy of the unfitted ``estimator`` holding the weights it will start from.

    The weights are the estimator's own start (zeros, or its seeded random ones): a
    clone records its path (``record_path=True``) through one epoch, and its fitted
    weights are set to the path's first point, the start.
    """
    start = clone(estimator).set_params(record_path=True)
    try:
        with np.errstate(all="ignore"):  # thread-local, unlike warnings.catch_warnings
            # One row is enough: the start depends on the seed and the shapes, not the data.
            start.partial_fit(X[:1], y[:1], classes=classes or None)
    except DivergenceError:
        pass  # the path's first point was recorded before any step
    first = copy.deepcopy(start.history_.path[0])
    if hasattr(start, "coefs_"):
        start.coefs_, start.intercepts_ = first
    elif start.coef_.ndim == 1:  # LinearRegression keeps one row and a float
        start.coef_, start.intercept_ = first[0][0], float(first[1][0])
    else:
        start.coef_, start.intercept_ = first
    return start
