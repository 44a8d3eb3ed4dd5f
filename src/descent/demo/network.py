"""A neural network: a small sigmoid network draws a round boundary where a line cannot."""

from __future__ import annotations

from ..models import LogisticRegression, MLPClassifier
from .data import _hold_out
from .section import Section, _picture, _short


def section_network(epochs: int = 300) -> Section:
    """A small sigmoid network draws a round boundary where a line cannot."""
    from sklearn.datasets import make_circles

    X, y = make_circles(400, noise=0.15, factor=0.4, random_state=0)
    X_train, X_test, y_train, y_test = _hold_out(X, y)
    net = MLPClassifier((8,), activation="sigmoid", learning_rate=0.02, epochs=epochs,
                        random_state=0).fit(X_train, y_train)
    line = LogisticRegression(random_state=0, epochs=epochs).fit(X_train, y_train)
    n_params = sum(W.size for W in net.coefs_) + sum(b.size for b in net.intercepts_)
    scores = {}
    rows = []
    for name, model, size in (("one hidden layer of 8 sigmoid units", net, n_params),
                              ("logistic regression (a straight line)", line, 3)):
        train_acc, test_acc = model.score(X_train, y_train), model.score(X_test, y_test)
        scores[name] = (float(train_acc), float(test_acc))
        rows.append([name, str(size), f"{train_acc:.1%}", f"{test_acc:.1%}",
                     _short(model.history_.loss[-1]), str(model.n_iter_)])
    (net_train, net_test), (line_train, line_test) = scores.values()
    return Section(
        title="A neural network",
        text=(
            "A neural network stacks the logistic unit: each hidden unit takes a weighted "
            "sum of the inputs and passes it through the sigmoid, and the output unit does "
            "the same with the hidden units' outputs. Training is the same descent on the "
            "log loss; backpropagation is the chain rule of the first section, applied layer "
            "by layer from the output back to the inputs, for a whole mini-batch at once."
            "\n\n"
            f"The data are {len(X)} generated points on two noisy rings, the inner ring one "
            "class and the outer ring the other, with a quarter held out. No straight line "
            f"separates rings: logistic regression is right on {line_test:.1%} of the "
            f"held-out points, close to a coin toss. The network, {n_params} weights and "
            f"biases trained with Adam for {net.n_iter_} epochs, bends its boundary into a "
            f"closed curve and is right on {net_test:.1%}."
        ),
        columns=["model", "weights and biases", "training accuracy", "held-out accuracy",
                 "final log loss", "epochs"],
        rows=rows,
        facts={"network_accuracy": net_test, "linear_accuracy": line_test,
               "network_train_accuracy": net_train, "linear_train_accuracy": line_train,
               "n_params": int(n_params)},
        figures=[
            _picture("network", "The network: 2 inputs, 8 hidden sigmoid units, 1 output.",
                     "plot_network", net, title="2 - 8 - 1 sigmoid network"),
            _picture("boundary", "The rings and the network's closed boundary.",
                     "plot_decision_boundary", net, X, y,
                     title=f"network: {net_test:.1%} right on held-out points"),
            _picture("line-boundary", "The same rings cut by logistic regression's line.",
                     "plot_decision_boundary", line, X, y,
                     title=f"logistic regression: {line_test:.1%} right on held-out points"),
            _picture("loss", "The network's log loss by epoch.", "plot_loss", net.history_,
                     title="network: log loss by epoch"),
            _picture("activations", "Activation functions a hidden unit can use.",
                     "plot_activations", names=("sigmoid", "tanh", "relu")),
        ],
        summary=f"network {net_test:.1%} vs line {line_test:.1%} (held out)",
    )
