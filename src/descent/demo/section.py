"""What a worked example returns (``Section``, ``Picture``) and the helpers that fill one in.

The formatting helpers keep every section's numbers in the same few styles; the picture
helpers defer matplotlib until the report draws, so the command line never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..models import History


@dataclass
class Picture:
    """A figure of a section, drawn on demand.

    Attributes:
        stem: the file name without its suffix (unique within the section).
        draw: for a still picture, a function of no arguments returning a matplotlib
            Figure; for an animation, a function of the target path that writes a GIF.
        caption: one sentence saying what the picture shows.
        animated: True when ``draw`` writes a GIF instead of returning a Figure.
    """

    stem: str
    draw: Callable[..., object]
    caption: str
    animated: bool = False

    @property
    def suffix(self) -> str:
        return ".gif" if self.animated else ".png"


@dataclass
class Section:
    """One worked example: what it shows, the numbers it produced and its pictures.

    Attributes:
        title: the heading.
        text: what happened, in a few sentences (paragraphs separated by blank lines).
        columns, rows: a small table of the numbers, as strings.
        facts: the key numbers, for tests and for anyone reusing them.
        figures: the pictures, drawn by the report.
        code: optional preformatted text (pseudocode, a printed graph).
        summary: one line of key numbers for the command line's summary table.
    """

    title: str
    text: str
    columns: list[str]
    rows: list[list[str]]
    facts: dict[str, object] = field(default_factory=dict)
    figures: list[Picture] = field(default_factory=list)
    code: str = ""
    summary: str = ""


def _steps(n: int) -> str:
    return f"{n} step" if n == 1 else f"{n} steps"


def _fmt(x) -> str:
    return f"{float(x):.6g}"


def _short(x) -> str:
    x = float(x)
    return f"{0.0 if abs(x) < 1e-12 else x:.4g}"  # no 2.8e-17 where arithmetic left a crumb


def _plus(x) -> str:
    """' + 3' or ' - 3': a signed term to append to an expression."""
    return f" {'-' if float(x) < 0 else '+'} {_short(abs(float(x)))}"


def _plot(name: str, *args, **kwargs):
    """Call ``descent.plot.<name>``; imported here so the command line never loads matplotlib."""
    from .. import plot

    return getattr(plot, name)(*args, **kwargs)


def _picture(stem: str, caption: str, name: str, *args, **kwargs) -> Picture:
    return Picture(stem, lambda: _plot(name, *args, **kwargs), caption)


def _triple(values) -> str:
    return "(" + ", ".join(_short(v) for v in values) + ")"


def _history(values) -> History:
    """A History from a plain list of losses (epoch 0 is the start)."""
    values = [float(v) for v in values]
    return History(epoch=list(range(len(values))), loss=values)

