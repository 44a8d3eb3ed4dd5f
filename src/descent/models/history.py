"""The training record every estimator keeps: one row per epoch, optionally every step."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class History:
    """Per-epoch numbers of a fit; plots, the CLI and the report all read this record.

    Attributes:
        epoch: epoch numbers, counting from 1 across ``partial_fit`` and warm starts.
        loss: mean training objective over the epoch's batches (loss plus penalty).
        val_loss: validation loss per epoch when early stopping holds data out, else empty.
        grad_norm: Euclidean norm of the last batch's gradient in the epoch.
        learning_rate: the learning rate at the end of the epoch.
        time: seconds since the fit started.
        path: with ``record_path=True``, the (coef, intercept) after every step, in the
            user's units; ``path[0]`` is the starting point.
        stopped: why the last ``fit`` or ``partial_fit`` ended (empty before one has):
            ``"max_epochs"`` (it ran every epoch asked for; a ``partial_fit`` its one),
            ``"converged"`` (the training loss stopped improving by ``tol``),
            ``"early_stopping"`` (the validation loss stopped improving by ``tol``),
            ``"callback"`` (a callback returned True), ``"interrupted"`` (Ctrl-C, or an
            error in a callback: the epochs done are kept), ``"diverged"`` (a
            ``DivergenceError``: the last finite parameters are kept).

    Example:
        >>> h = History()
        >>> h.add(epoch=1, loss=0.5, grad_norm=1.0, learning_rate=0.1, time=0.01)
        >>> h.loss
        [0.5]
    """

    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    path: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    stopped: str = ""

    def add(self, *, epoch, loss, grad_norm, learning_rate, time, val_loss=None) -> None:
        """Append one epoch's numbers."""
        self.epoch.append(int(epoch))
        self.loss.append(float(loss))
        self.grad_norm.append(float(grad_norm))
        self.learning_rate.append(float(learning_rate))
        self.time.append(float(time))
        if val_loss is not None:
            self.val_loss.append(float(val_loss))

    def mark(self) -> tuple[int, int, int]:
        """Where the record ends now, for ``rewind``."""
        return len(self.epoch), len(self.val_loss), len(self.path)

    def rewind(self, mark: tuple[int, int, int]) -> None:
        """Drop whatever was added after ``mark`` (a fit cut short mid-epoch).

        Example:
            >>> h = History()
            >>> start = h.mark()
            >>> h.add(epoch=1, loss=0.5, grad_norm=1.0, learning_rate=0.1, time=0.01)
            >>> h.rewind(start); len(h)
            0
        """
        epochs, val, path = mark
        for column in (self.epoch, self.loss, self.grad_norm, self.learning_rate, self.time):
            del column[epochs:]
        del self.val_loss[val:]
        del self.path[path:]

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict[str, list]:
        """The per-epoch columns as plain lists (the path is left out)."""
        return {
            "epoch": list(self.epoch), "loss": list(self.loss), "val_loss": list(self.val_loss),
            "grad_norm": list(self.grad_norm), "learning_rate": list(self.learning_rate),
            "time": list(self.time),
        }
