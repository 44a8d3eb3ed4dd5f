"""Batch, mini-batch and stochastic descent: one model, one rate, three batch sizes."""

from __future__ import annotations

import time

from ..models import LinearRegression
from .section import Section, _picture, _short


def section_batches(epochs: int = 20, learning_rate: float = 0.01) -> Section:
    """The same model and rate with the whole data, mini-batches, and one point per step."""
    from sklearn.datasets import make_regression

    X, y = make_regression(n_samples=500, n_features=5, noise=10.0, random_state=0)
    n = len(X)
    runs = {"batch (all 500)": None, "mini-batch of 32": 32, "stochastic (1)": 1}
    rows, facts, histories = [], {}, {}
    for name, size in runs.items():
        started = time.perf_counter()
        model = LinearRegression(optimizer="gd", learning_rate=learning_rate, batch_size=size,
                                 epochs=epochs, tol=None, random_state=0,
                                 record_path=True).fit(X, y)
        seconds = time.perf_counter() - started
        steps = len(model.history_.path) - 1
        histories[name] = model.history_
        per_epoch = steps // epochs
        rows.append([name, str(per_epoch), str(steps), _short(model.history_.loss[0]),
                     _short(model.history_.loss[-1]), f"{seconds:.3f}"])
        facts[size] = {"steps": steps, "steps_per_epoch": per_epoch,
                       "first_loss": float(model.history_.loss[0]),
                       "final_loss": float(model.history_.loss[-1]), "seconds": seconds}
    full, mini, sgd = (facts[s] for s in runs.values())
    return Section(
        title="Batch, mini-batch and stochastic descent",
        text=(
            "The same linear model, the same learning rate, the same number of epochs; only "
            "the amount of data behind each step changes. Batch descent takes one careful "
            "step per epoch on the gradient of all the data; stochastic descent takes one "
            "step per point on that point's gradient alone; mini-batches sit in between."
            "\n\n"
            f"On {n} generated rows with 5 features, learning rate {learning_rate} and "
            f"{epochs} epochs: batch descent takes {full['steps']} steps and ends with a "
            f"loss of {_short(full['final_loss'])} (on the standardized target); mini-batches "
            f"of 32 take {mini['steps']} steps and reach {_short(mini['final_loss'])}; "
            f"stochastic descent takes {sgd['steps']} steps, {sgd['steps_per_epoch']} per "
            f"epoch, and reaches {_short(sgd['final_loss'])}. More steps per epoch buy "
            "progress per epoch, but each step costs time: compare the seconds column (these "
            "times change from run to run; the losses do not)."
        ),
        columns=["batches", "steps per epoch", "steps", "mean loss in epoch 1",
                 f"mean loss in epoch {epochs}", "seconds"],
        rows=rows,
        facts=facts,
        figures=[_picture("loss", "Loss by epoch for the three batch sizes (log scale).",
                          "plot_loss_comparison", histories, log=True,
                          title="the same descent with three batch sizes")],
        summary=f"final loss: batch {_short(full['final_loss'])}, 32: "
                f"{_short(mini['final_loss'])}, 1: {_short(sgd['final_loss'])}",
    )
