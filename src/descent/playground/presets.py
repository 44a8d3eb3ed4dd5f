"""The learning-rate lab's preset functions: each one shows a different way descent behaves.

- the bowl ``x^2``: one minimum, where every learning rate's effect is plain to see (on
  x^2 each step multiplies x by 1 - 2 * rate: below 0.5 it crawls, at 0.5 it lands at
  once, between 0.5 and 1 it zigzags in, above 1 it flies out);
- three valleys: local minima, where the start decides which valley is found (the same
  curve as the report's restarts section, ``descent.demo.functions.three_valleys``);
- Rosenbrock's narrow curved valley, where plain descent zigzags and crawls;
- Himmelblau's function with four minima of equal depth.

Each preset is written in the expression language the lab reads (``descent.expression``),
so a preset and the same text typed by hand run the same code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Preset:
    """A function to explore, with a start, a learning rate and a view that show it well.

    Attributes:
        name: the short key the page and the URL use.
        label: what the picker shows.
        expression: the function, in x (1-D) or x and y (2-D).
        start: the starting point: a number (1-D) or [x, y].
        learning_rate: a rate that descends well from ``start``.
        view: the box drawn, ``{"x": [lo, hi]}`` and, in 2-D, ``"y"``; also the bounds
            that random restarts draw their starts from.
    """

    name: str
    label: str
    expression: str
    start: float | tuple[float, float]
    learning_rate: float
    view: dict

    @property
    def variables(self) -> list[str]:
        return ["x", "y"] if "y" in self.view else ["x"]

    def as_json(self) -> dict:
        """The preset as ``GET /api/presets`` lists it.

        Example:
            >>> PRESETS[0].as_json()["variables"]
            ['x']
        """
        data = asdict(self)
        data["start"] = list(self.start) if isinstance(self.start, tuple) else self.start
        data["variables"] = self.variables
        return data


# Three Gaussian wells on a gentle bowl, deepest in the middle: the formula of
# descent.demo.functions.three_valleys, so the lab and the report show the same curve.
THREE_VALLEYS = ("0.02*(x - 3)^2 - (exp(-(x - 1)^2/0.3) + 1.5*exp(-(x - 3)^2/0.3)"
                 " + 1.2*exp(-(x - 5)^2/0.3))")

PRESETS: tuple[Preset, ...] = (
    Preset("bowl", "Bowl: x^2", "x^2", 5.0, 0.1, {"x": [-6.0, 6.0]}),
    Preset("valleys", "Three valleys (local minima)", THREE_VALLEYS, 0.3, 0.05,
           {"x": [0.0, 6.0]}),
    Preset("rosenbrock", "Rosenbrock's narrow valley (2-D)", "(1 - x)^2 + 100*(y - x^2)^2",
           (-1.5, 2.0), 0.001, {"x": [-2.0, 2.0], "y": [-1.0, 3.0]}),
    Preset("himmelblau", "Himmelblau: four minima (2-D)", "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
           (0.0, 0.0), 0.01, {"x": [-5.0, 5.0], "y": [-5.0, 5.0]}),
)


def preset_for(expression: str) -> Preset | None:
    """The preset whose expression is ``expression`` (spaces ignored), if any.

    Example:
        >>> preset_for("x ^ 2").name, preset_for("x^3") is None
        ('bowl', True)
    """
    key = "".join(expression.split())
    return next((p for p in PRESETS if "".join(p.expression.split()) == key), None)
