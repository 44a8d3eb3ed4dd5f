"""The learning-rate finder's picture: final loss against learning rate."""

from __future__ import annotations

import numpy as np

from ._common import new_figure


def plot_lr_find(result, *, title: str | None = None):
    """Loss after a short fit at each learning rate (log axis), with the suggestion marked.

    Diverged rates are drawn as crosses along the top edge.

    Example:
        >>> from descent.models import LRFindResult
        >>> r = LRFindResult(rates=np.array([0.01, 0.1, 1.0]), losses=np.array([2.0, 0.5, np.inf]),
        ...                  diverged=np.array([False, False, True]), suggested=0.1, epochs=3)
        >>> plot_lr_find(r).axes[0].get_xscale()
        'log'
    """
    fig, (ax,) = new_figure(1)
    ok = ~result.diverged
    ax.plot(result.rates[ok], result.losses[ok], "-o", markersize=4, label="final loss")
    if result.diverged.any():
        top = float(np.max(result.losses[ok])) if ok.any() else 1.0
        ax.plot(result.rates[~ok], np.full(int((~ok).sum()), top), "x", color="crimson",
                markersize=8, label="diverged")
    ax.axvline(result.suggested, color="green", linestyle="--",
               label=f"suggested {result.suggested:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(f"training loss after {result.epochs} epochs")
    ax.set_title(title or "loss against learning rate")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig
