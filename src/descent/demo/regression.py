"""Linear regression: the square and the absolute trick, and L1 and L2 regularization."""

from __future__ import annotations

import numpy as np

from ..models import LinearRegression
from .data import PRICES, ROOMS, heights_and_weights
from .fitting import ONE_POINT_STEPS, _weights, _weights_at
from .section import Section, _picture, _plus, _short

# The two errors a line can descend, by the name the text gives them.
ERRORS = {"square": "squared_error", "absolute": "absolute_error"}


# ----- 6. linear regression ----------------------------------------------------------------
def _trick_fit(loss: str, learning_rate: float, epochs: int, schedule=None):
    """The seeds' tricks on the houses: one point at a time, raw units, every step kept."""
    return LinearRegression(
        loss, **ONE_POINT_STEPS, learning_rate=learning_rate, epochs=epochs, shuffle=True,
        random_state=0, record_path=True, schedule=schedule,
    ).fit(ROOMS[:, None], PRICES)


def _line(model) -> tuple[float, float]:
    """A fitted one-feature regression as (slope, intercept)."""
    w, b = _weights(model)
    return float(w[0]), b


def _line_error(loss: str, slope: float, intercept: float, x, y) -> float:
    residual = y - (slope * x + intercept)
    return float(np.mean(np.abs(residual)) if loss == "absolute_error" else np.mean(residual**2))


def section_linear_regression(epochs: int = 1000) -> Section:
    """Linear regression with the square and the absolute trick, then on generated people."""
    square = _trick_fit("squared_error", 0.01, epochs)
    absolute = _trick_fit("absolute_error", 0.1, epochs, schedule="cosine")
    per_epoch = len(ROOMS)
    rows, lines = [], {}
    for (name, loss), model in zip(ERRORS.items(), (square, absolute), strict=True):
        for e in (0, 1, 5, 20, 100, epochs):
            w, b = _weights_at(model, e * per_epoch)
            slope = float(w[0])
            rows.append([f"rooms, {name} error", str(e), _short(slope), _short(b),
                         _short(_line_error(loss, slope, b, ROOMS, PRICES))])
        lines[name] = _line(model)
    ls_slope, ls_intercept = np.polyfit(ROOMS, PRICES, 1)
    rows.append(["rooms, least squares (np.polyfit)", "-", _short(ls_slope), _short(ls_intercept),
                 _short(_line_error("squared_error", ls_slope, ls_intercept, ROOMS, PRICES))])

    # One step of each trick from the flat line price = 0, on the point (5 rooms, 356).
    point, step_rate = (5.0, 356.0), 0.01
    steps = {
        name: _line(LinearRegression(loss, **ONE_POINT_STEPS, learning_rate=step_rate, epochs=1,
                                     shuffle=False, penalty=None).fit([[point[0]]], [point[1]]))
        for name, loss in ERRORS.items()
    }

    height, weight = heights_and_weights()
    people, people_lines = {}, {}
    for name, loss in ERRORS.items():
        people[name] = LinearRegression(
            loss, optimizer="gd", learning_rate=0.1, batch_size=None, epochs=300, tol=None,
            random_state=0, record_path=True,
        ).fit(height[:, None], weight)
        slope, b = people_lines[name] = _line(people[name])
        rows.append([f"people, {name} error", "300", _short(slope), _short(b),
                     _short(_line_error(loss, slope, b, height, weight))])
    hw_slope, hw_intercept = np.polyfit(height, weight, 1)
    rows.append(["people, least squares (np.polyfit)", "-", _short(hw_slope),
                 _short(hw_intercept),
                 _short(_line_error("squared_error", hw_slope, hw_intercept, height, weight))])

    (sq_m, sq_b), (abs_m, abs_b) = lines["square"], lines["absolute"]
    text = (
        "A linear model predicts price = slope * rooms + intercept. Starting from a flat line "
        "at zero, the tricks look at one house at a time (batch size 1) and nudge the line "
        "towards it. The square trick moves the slope by rate * (price - prediction) * rooms, "
        "so a big miss makes a big move; the absolute trick moves it by rate * rooms in the "
        "direction of the miss, whatever its size."
        "\n\n"
        f"One step from the flat line on the house with 5 rooms priced 356, rate "
        f"{step_rate}: the square trick jumps to slope {_short(steps['square'][0])} and "
        f"intercept {_short(steps['square'][1])}; the absolute trick creeps to slope "
        f"{_short(steps['absolute'][0])} and intercept {_short(steps['absolute'][1])}."
        "\n\n"
        f"After {epochs} epochs (rate 0.01) the square trick's line is price = "
        f"{_short(sq_m)} * rooms + {_short(sq_b)}; least squares gives {_short(ls_slope)} * "
        f"rooms + {_short(ls_intercept)}. At a fixed rate the absolute trick never settles, "
        "because its steps keep the same size however close the line gets; so its rate "
        f"(0.1) shrinks to zero along a cosine over the {epochs} epochs. It ends at "
        f"{_short(abs_m)} * rooms + {_short(abs_b)} with a mean absolute error of "
        f"{_short(_line_error('absolute_error', abs_m, abs_b, ROOMS, PRICES))}. For these "
        "six houses many lines share the smallest mean absolute error, so the slope it "
        "settles on is one of several equally good answers."
        "\n\n"
        f"On {len(height)} generated people (height in cm, weight in kg), full-batch descent "
        f"for 300 epochs finds weight = {_short(people_lines['square'][0])} * height"
        f"{_plus(people_lines['square'][1])} with square error (np.polyfit: "
        f"{_short(hw_slope)} * height{_plus(hw_intercept)}), and "
        f"{_short(people_lines['absolute'][0])} * height"
        f"{_plus(people_lines['absolute'][1])} with absolute error."
    )
    marks = [0, 1, 5, 20, 100, epochs]
    return Section(
        title="Linear regression: the square trick and the absolute trick",
        text=text,
        columns=["data and error", "epoch", "slope", "intercept",
                 "mean error (square or absolute)"],
        rows=rows,
        facts={
            "square": lines["square"], "absolute": lines["absolute"],
            "least_squares": (float(ls_slope), float(ls_intercept)),
            "square_step": steps["square"], "absolute_step": steps["absolute"],
            "people_square": people_lines["square"],
            "people_absolute": people_lines["absolute"],
            "people_least_squares": (float(hw_slope), float(hw_intercept)),
        },
        figures=[
            _picture("rooms-square", "Rooms and prices: the square trick's line after "
                     "several epochs, and where it ended.", "plot_regression_fit", square,
                     ROOMS[:, None], PRICES, epochs=marks, title="square trick, batch size 1"),
            _picture("rooms-absolute", "Rooms and prices: the absolute trick's line after "
                     "several epochs.", "plot_regression_fit", absolute, ROOMS[:, None],
                     PRICES, epochs=marks, title="absolute trick, batch size 1"),
            _picture("people", "Generated heights and weights with the square-error line "
                     "as full-batch descent moved it.", "plot_regression_fit",
                     people["square"], height[:, None], weight, epochs=[0, 2, 5, 10, 30, 300],
                     title="height and weight, square error"),
            _picture("error-functions", "The error functions the models descend.",
                     "plot_error_functions"),
        ],
        summary=f"square: {_short(sq_m)} x + {_short(sq_b)}; "
                f"absolute: {_short(abs_m)} x + {_short(abs_b)}",
    )


# ----- 11. regularization ------------------------------------------------------------------
def regularization_path(penalty: str, alphas, X, y, epochs: int = 500) -> np.ndarray:
    """Coefficients (one row per alpha) of full-batch descent with the given penalty."""
    coefs = []
    for alpha in alphas:
        model = LinearRegression(penalty=penalty, alpha=float(alpha), optimizer="gd",
                                 learning_rate=0.1, batch_size=None, epochs=epochs, tol=None,
                                 random_state=0).fit(X, y)
        coefs.append(model.coef_)
    return np.array(coefs)


def _total(coefs) -> str:
    """The weights' total size, the sum of their absolute values."""
    return _short(np.abs(coefs).sum())


def _at_zero(coefs) -> str:
    return str(int(np.sum(coefs == 0)))


def section_regularization(alphas=None) -> Section:
    """L1 and L2 penalties shrink the coefficients as alpha grows; L1 sets some to zero."""
    from sklearn.datasets import load_diabetes

    from ..penalties import penalty_gradient

    data = load_diabetes()
    X, y = data.data, data.target
    alphas = np.logspace(-2, 1, 7) if alphas is None else np.asarray(alphas, dtype=float)
    paths = {p: regularization_path(p, alphas, X, y) for p in ("l1", "l2")}
    rows = []
    for i, alpha in enumerate(alphas):
        l1, l2 = paths["l1"][i], paths["l2"][i]
        rows.append([f"{alpha:g}", _total(l1), _at_zero(l1), _total(l2), _at_zero(l2)])
    first_zero = next((float(a) for a, c in zip(alphas, paths["l1"], strict=True)
                       if np.all(c == 0)), None)
    w, rate, alpha = np.array([2.0, -0.5]), 0.1, 0.5
    l1_step = w - rate * penalty_gradient(w, "l1", alpha)
    l2_step = w - rate * penalty_gradient(w, "l2", alpha)
    return Section(
        title="Regularization: L1 and L2 shrink the weights",
        text=(
            "Regularization adds alpha times a size of the weights to the error: the sum of "
            "their absolute values (L1) or half the sum of their squares (L2). Its gradient "
            "adds one more pull to every step. L1 pulls each weight towards zero by the same "
            "amount, rate * alpha; L2 multiplies each weight by (1 - rate * alpha). With rate "
            f"{rate} and alpha {alpha}, the weights {w.tolist()} become "
            f"{np.round(l1_step, 6).tolist()} under L1 and {np.round(l2_step, 6).tolist()} "
            "under L2. A weight that L1 would push past zero stops at zero, so L1 switches "
            "features off; L2 only makes them smaller."
            "\n\n"
            f"On scikit-learn's bundled diabetes data ({X.shape[0]} patients, "
            f"{X.shape[1]} features, a disease-progression score to predict), full-batch "
            f"descent for each alpha from {alphas[0]:g} to {alphas[-1]:g}: the L1 weights' "
            f"total size falls from {_total(paths['l1'][0])} to zero"
            + (f", every one of them exactly zero from alpha = {first_zero:g}" if first_zero
               else "")
            + f"; the L2 weights' total size falls from {_total(paths['l2'][0])} "
            f"to {_total(paths['l2'][-1])} without any reaching zero. Alpha "
            "here multiplies the penalty on the standardized problem, as in scikit-learn's "
            "Lasso; the weights are shown in the data's own units."
        ),
        columns=["alpha", "L1: sum of |weights|", "L1: weights at zero",
                 "L2: sum of |weights|", "L2: weights at zero"],
        rows=rows,
        facts={"alphas": alphas.tolist(), "l1": paths["l1"].tolist(),
               "l2": paths["l2"].tolist(), "l1_all_zero_from": first_zero,
               "l1_step": l1_step.tolist(), "l2_step": l2_step.tolist()},
        figures=[
            _picture(f"{p}-path", f"Each diabetes weight as alpha grows, with the {p.upper()} "
                     "penalty.", "plot_regularization_path", alphas, paths[p],
                     feature_names=list(data.feature_names), title=f"{p.upper()}: weights by alpha")
            for p in ("l1", "l2")
        ],
        summary=(f"L1 all zero from alpha = {first_zero:g}; " if first_zero else "")
        + f"L2 total {_total(paths['l2'][0])} -> {_total(paths['l2'][-1])}",
    )
