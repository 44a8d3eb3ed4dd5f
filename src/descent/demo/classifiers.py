"""Linear classifiers: the perceptron, logistic regression and the support vector machine."""

from __future__ import annotations

from functools import partial

import numpy as np

from ..models import LinearSVC, LogisticRegression, Perceptron
from .data import LABELS, POINTS, _hold_out
from .fitting import ONE_POINT_STEPS, _weights, _weights_at
from .section import Picture, Section, _picture, _plot, _plus, _short, _triple


# ----- 7. the perceptron -------------------------------------------------------------------
def _mistakes(w, b, X, y) -> int:
    scores = X @ w + b
    return int(np.sum((scores >= 0).astype(int) != y))


def section_perceptron(learning_rate: float = 0.1, epochs: int = 200) -> Section:
    """The perceptron trick, one point at a time, on eight points in the plane."""
    model = Perceptron(
        **ONE_POINT_STEPS, learning_rate=learning_rate, epochs=epochs, shuffle=True,
        random_state=0, record_path=True,
    ).fit(POINTS, LABELS)
    n = len(POINTS)
    mistakes = [_mistakes(*_weights_at(model, e * n), POINTS, LABELS)
                for e in range(epochs + 1)]
    separated_at = next(e for e, m in enumerate(mistakes) if m == 0)
    rows = []
    for e in sorted({*range(min(separated_at, 8) + 1), separated_at, epochs}):
        w, b = _weights_at(model, e * n)
        loss = "-" if e == 0 else _short(model.history_.loss[e - 1])
        rows.append([str(e), _short(w[0]), _short(w[1]), _short(b), str(mistakes[e]), loss])
    w, b = _weights(model)
    accuracy = float(model.score(POINTS, LABELS))
    return Section(
        title="The perceptron",
        text=(
            "The perceptron predicts 1 when the score w1*x1 + w2*x2 + b is at least zero and "
            "0 otherwise: a step function of the score. A right answer costs nothing; a wrong "
            "one costs the size of its score, which is the ReLU of the score on the wrong "
            "side. One step on one misclassified point (the perceptron trick) adds rate * "
            "point to w and rate to b when the point should have been 1, and subtracts them "
            "when it should have been 0."
            "\n\n"
            f"On the eight points, with rate {learning_rate} and the points in a shuffled "
            f"order each epoch, the line made {mistakes[0]} mistakes at the start (every "
            f"point scores 0 and is called 1) and none from epoch {separated_at} on. It ends "
            f"at {_short(w[0])}*x1 + {_short(w[1])}*x2{_plus(b)} = 0, with accuracy "
            f"{accuracy:.0%}."
        ),
        columns=["epoch", "w1", "w2", "b", "mistakes at the epoch's end",
                 "mean perceptron error during the epoch"],
        rows=rows,
        facts={"accuracy": accuracy, "coef": w.tolist(), "intercept": b,
               "separated_at": separated_at, "mistakes": mistakes},
        figures=[
            _picture("activations", "The step function makes the prediction; ReLU of the "
                     "wrong-side score is the error.", "plot_activations",
                     names=("step", "relu")),
            _picture("boundary", "The eight points and the perceptron's line.",
                     "plot_decision_boundary", model, POINTS, LABELS,
                     title=f"perceptron: {accuracy:.0%} right"),
        ],
        summary=f"accuracy {accuracy:.0%}, separated after epoch {separated_at}",
    )


# ----- 8. logistic regression --------------------------------------------------------------
def section_logistic(epochs: int = 1000) -> Section:
    """Logistic regression: the logistic trick on the eight points, then real data."""
    from sklearn.datasets import load_breast_cancer

    small = LogisticRegression(
        **ONE_POINT_STEPS, learning_rate=0.1, epochs=epochs, shuffle=True, penalty=None,
        random_state=0,
    ).fit(POINTS, LABELS)
    small_accuracy = float(small.score(POINTS, LABELS))
    w, b = _weights(small)
    proba = small.predict_proba(POINTS)[:, 1]

    # One logistic step by hand (the log-loss gradient lesson):
    # w <- w + rate (y - y_hat) x, from w = 0, b = 0,
    # where y_hat = sigmoid(0) = 0.5. Two classes are needed to fit; the first row goes first.
    x0, rate = POINTS[4], 0.1
    by_hand = [*(rate * (1 - 0.5) * x0).tolist(), rate * (1 - 0.5)]
    one = LogisticRegression(**ONE_POINT_STEPS, learning_rate=rate, epochs=1, shuffle=False,
                             penalty=None, record_path=True).fit(POINTS[[4, 0]], LABELS[[4, 0]])
    first_w, first_b = _weights_at(one, 1)
    first_step = [*first_w.tolist(), first_b]

    data = load_breast_cancer()
    X_train, X_test, y_train, y_test = _hold_out(data.data, data.target)
    cancer = LogisticRegression(random_state=0, epochs=100).fit(X_train, y_train)
    train_acc, test_acc = float(cancer.score(X_train, y_train)), float(cancer.score(X_test,
                                                                                     y_test))
    rows = [
        ["eight points", "8 x 2", f"{small_accuracy:.1%}", "-",
         _short(small.history_.loss[-1]), str(small.n_iter_), "gd, batch size 1, rate 0.1"],
        ["breast cancer (scikit-learn)", f"{len(X_train)} x {data.data.shape[1]}",
         f"{train_acc:.1%}", f"{test_acc:.1%}", _short(cancer.history_.loss[-1]),
         str(cancer.n_iter_), "adam, batch 32, rate 0.01, standardized"],
    ]
    return Section(
        title="Logistic regression and the log loss",
        text=(
            "Logistic regression passes the score through the sigmoid, 1 / (1 + e^-score), to "
            "get a probability between 0 and 1. Its error is the log loss: -ln(y_hat) when "
            "the label is 1 and -ln(1 - y_hat) when it is 0, small for confident right "
            "answers and large for confident wrong ones. Because the sigmoid's slope is "
            "sigmoid * (1 - sigmoid), the slope of the log loss with respect to each weight "
            "comes out as -(y - y_hat) times the feature, and the step is w <- w + rate * "
            "(y - y_hat) * x: the logistic trick."
            "\n\n"
            f"One step by hand from w = 0, b = 0 on the point {POINTS[4].tolist()} labelled "
            f"1: y_hat = 0.5, so (w1, w2, b) moves by {rate} * 0.5 * (1, 3, 1) = "
            f"{_triple(by_hand)}; the estimator's first step lands on {_triple(first_step)}."
            "\n\n"
            f"On the eight points, {epochs} epochs of the trick give {_short(w[0])}*x1 + "
            f"{_short(w[1])}*x2{_plus(b)} = 0 with every point right; the probabilities run "
            f"from {proba.min():.3f} to {proba.max():.3f}. On scikit-learn's bundled breast "
            f"cancer data ({len(data.data)} tumours, 30 measurements) a quarter is held out: "
            f"after {cancer.n_iter_} epochs the model is right on {train_acc:.1%} of the "
            f"training rows and {test_acc:.1%} of the held-out ones."
        ),
        columns=["data", "rows x features", "training accuracy", "held-out accuracy",
                 "final log loss", "epochs", "how"],
        rows=rows,
        facts={"small_accuracy": small_accuracy, "coef": w.tolist(),
               "intercept": b, "step_by_hand": by_hand, "first_step": first_step,
               "cancer_train_accuracy": train_acc, "cancer_test_accuracy": test_acc,
               "cancer_loss": float(cancer.history_.loss[-1])},
        figures=[
            _picture("activations", "The sigmoid turns a score into a probability.",
                     "plot_activations", names=("step", "sigmoid")),
            _picture("boundary", "The eight points, the line where the probability is 0.5, "
                     "and the probability around it.", "plot_decision_boundary", small,
                     POINTS, LABELS, title="logistic regression on the eight points"),
            _picture("cancer-loss", "Breast cancer data: the mean log loss by epoch.",
                     "plot_loss", cancer.history_, log=True,
                     title="logistic regression: log loss by epoch"),
        ],
        summary=f"8 points: {small_accuracy:.0%}; breast cancer held out: "
                f"{test_acc:.1%}",
    )


# ----- 10. the support vector machine ------------------------------------------------------
ON_MARGIN = 1e-3  # t * score up to 1 + this counts as on the margin line (descent ends near it)


def _svm_figure(model, X, y, title: str):
    """The decision regions with the SVM's two margin lines and its margin points added."""
    fig = _plot("plot_decision_boundary", model, X, y, title=title)
    ax = fig.axes[0]
    gx, gy = np.meshgrid(np.linspace(*ax.get_xlim(), 200), np.linspace(*ax.get_ylim(), 200))
    scores = model.decision_function(np.column_stack([gx.ravel(), gy.ravel()]))
    ax.contour(gx, gy, scores.reshape(gx.shape), levels=[-1.0, 1.0], colors="black",
               linestyles="dashed", linewidths=1.0)
    inside = (2 * np.asarray(y) - 1) * model.decision_function(X) <= 1.0 + ON_MARGIN
    ax.scatter(X[inside, 0], X[inside, 1], s=120, facecolors="none", edgecolors="black",
               linewidths=1.0, label="on or inside the margin", zorder=4)
    ax.legend(loc="best", fontsize=8)
    return fig


def section_svm(cs=(0.01, 1.0, 10.0), epochs: int = 1000) -> Section:
    """The linear SVM: hinge error plus the distance error; C trades one for the other."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(100, centers=2, cluster_std=1.2, random_state=3)
    signs = 2 * y - 1
    rows, facts, models = [], {}, {}
    for C in cs:
        # Raw units (the margin is measured in the plane drawn), the whole data per step,
        # and a rate that fades out so the last steps settle instead of hopping.
        model = LinearSVC(C=C, epochs=epochs, batch_size=None, learning_rate=0.1,
                          schedule="cosine", tol=None, standardize=False,
                          random_state=0).fit(X, y)
        w, b = _weights(model)
        margin = signs * (X @ w + b)
        width = 2.0 / float(np.linalg.norm(w))
        inside = int(np.sum(margin <= 1.0 + ON_MARGIN))
        accuracy = float(model.score(X, y))
        rows.append([f"{C:g}", _short(np.linalg.norm(w)), _short(width), str(inside),
                     f"{accuracy:.0%}", str(model.n_iter_)])
        facts[C] = {"width": width, "inside": inside, "accuracy": accuracy}
        models[C] = model
    low, high = min(cs), max(cs)
    return Section(
        title="The support vector machine",
        text=(
            "A linear SVM draws two parallel lines, score = +1 and score = -1, and puts the "
            "boundary halfway between them. Its error has two parts: the hinge error, "
            "max(0, 1 - t * score) with t = +1 or -1, charges every point that is on the wrong "
            "side of its own line; the distance error, half the squared length of w, is "
            "small when the lines are far apart (they are 2 / |w| apart). C weighs the first "
            "against the second."
            "\n\n"
            f"On {len(X)} generated points in two blobs, trained by full-batch Adam for "
            f"{epochs} epochs with a rate fading from 0.1 to 0, C = {low:g} gives lines "
            f"{_short(facts[low]['width'])} apart with {facts[low]['inside']} points on or "
            f"between them; C = {high:g} squeezes them to {_short(facts[high]['width'])} with "
            f"{facts[high]['inside']} points on or between. Every setting classifies "
            + ", ".join(f"{facts[C]['accuracy']:.0%}" for C in cs)
            + " of the points right."
        ),
        columns=["C", "|w|", "margin width 2/|w|", "points on or inside the margin",
                 "accuracy", "epochs"],
        rows=rows,
        facts=facts,
        figures=[
            Picture(f"boundary-C{C:g}".replace(".", "_"),
                    partial(_svm_figure, models[C], X, y,
                            f"linear SVM, C = {C:g}: margin {_short(facts[C]['width'])}"),
                    f"C = {C:g}: the boundary (solid), the margin lines score = +1 and -1 "
                    "(dashed) and, circled, the points on or inside the margin.")
            for C in (low, high)
        ],
        summary=f"margin {_short(facts[low]['width'])} at C={low:g}, "
                f"{_short(facts[high]['width'])} at C={high:g}",
    )

