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

    def add(self, *, epoch, loss, grad_norm, learning_rate, time, val_loss=None) -> None:
        """Append one epoch's numbers."""
        self.epoch.append(int(epoch))
        self.loss.append(float(loss))
        self.grad_norm.append(float(grad_norm))
        self.learning_rate.append(float(learning_rate))
        self.time.append(float(time))
        if val_loss is not None:
            self.val_loss.append(float(val_loss))

    def __len__(self) -> int:
        return len(self.epoch)

    def as_dict(self) -> dict[str, list]:
        """The per-epoch columns as plain lists (the path is left out)."""
        return {
            "epoch": list(self.epoch), "loss": list(self.loss), "val_loss": list(self.val_loss),
            "grad_norm": list(self.grad_norm), "learning_rate": list(self.learning_rate),
            "time": list(self.time),
        }
