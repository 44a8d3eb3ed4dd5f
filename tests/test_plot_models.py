"""Pictures of models, functions, graphs and GIFs: real PNGs that draw the model's own numbers."""

import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image
from sklearn.exceptions import NotFittedError

import descent as d
from descent import numerics, plot
from descent.autodiff.tensor import topological_order
from descent.demo import seed_graph


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def saved_size(fig, dpi=50):
    """Save to PNG in memory; check it is a real, non-blank picture; return its pixel size."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    image = Image.open(io.BytesIO(buffer.getvalue()))
    assert image.format == "PNG"
    assert np.asarray(image.convert("L")).std() > 5  # not one flat colour
    return image.size


def by_gid(ax, gid):
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, f"expected one artist with gid {gid!r}, found {len(found)}"
    return found[0]


def line_labelled(ax, label):
    return next(line for line in ax.lines if line.get_label() == label)


@pytest.fixture(scope="module")
def line_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 10, size=(30, 1))
    return X, 3 * X[:, 0] + 5 + rng.normal(size=30)


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal([-2, 0], 0.8, (25, 2)), rng.normal([2, 1], 0.8, (25, 2))])
    return X, np.repeat([0, 1], 25)


# ----- regression ---------------------------------------------------------------------------
def test_regression_fit_draws_the_prediction_and_the_recorded_epochs(line_data):
    X, y = line_data
    m = d.LinearRegression(optimizer="gd", learning_rate=0.05, batch_size=None, epochs=40,
                           tol=None, record_path=True).fit(X, y)
    ax = plot.plot_regression_fit(m, X, y).axes[0]
    fitted = line_labelled(ax, "fitted")
    xs = fitted.get_xdata()
    assert np.allclose(fitted.get_ydata(), m.predict(xs[:, None]))
    assert np.allclose(ax.collections[0].get_offsets(), np.column_stack([X[:, 0], y]))
    epochs = [line for line in ax.lines if line.get_label().startswith("epoch")]
    numbers = [int(line.get_label().split()[1]) for line in epochs]
    assert numbers[0] == 0 and numbers[-1] == 40 and 4 <= len(numbers) <= 7
    for k, line in zip(numbers, epochs, strict=True):  # full batch: one step per epoch
        coef, intercept = m.history_.path[k]
        assert np.allclose(line.get_ydata(), coef[0, 0] * xs + intercept[0])
    shades = [line.get_color()[3] for line in epochs]
    assert shades == sorted(shades) and shades[0] < shades[-1]  # later epochs darker


def test_regression_fit_takes_chosen_epochs_and_draws_networks(line_data):
    X, y = line_data
    net = d.MLPRegressor((4,), activation="tanh", batch_size=None, epochs=5, tol=None,
                         record_path=True, random_state=0).fit(X, y)
    fig = plot.plot_regression_fit(net, X, y, epochs=[0, 2, 5], title="a net")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["epoch 0", "epoch 2", "epoch 5", "fitted"]
    # The last recorded step is the fitted network, so both curves coincide.
    assert np.allclose(ax.lines[2].get_ydata(), ax.lines[3].get_ydata())
    assert not np.allclose(ax.lines[0].get_ydata(), ax.lines[3].get_ydata())
    assert ax.get_title() == "a net"
    assert saved_size(fig) == (325, 225)
    with pytest.raises(ValueError, match=r"epochs must lie in \[0, 5\]"):
        plot.plot_regression_fit(net, X, y, epochs=[6])


def test_regression_fit_rejects_two_features_and_unfitted_models(line_data):
    X, y = line_data
    m = d.LinearRegression(epochs=3).fit(X, y)
    with pytest.raises(ValueError, match="exactly 1 feature"):
        plot.plot_regression_fit(m, np.hstack([X, X]), y)
    with pytest.raises(NotFittedError):
        plot.plot_regression_fit(d.LinearRegression(), X, y)


# ----- decision boundaries ------------------------------------------------------------------
def boundary_points(ax, count=8):
    vertices = np.vstack([p.vertices for p in by_gid(ax, "decision boundary").get_paths()])
    assert len(vertices) > count
    return vertices[np.linspace(0, len(vertices) - 1, count).astype(int)]


def test_decision_boundary_lies_where_the_score_changes_sign(blobs):
    X, y = blobs
    m = d.LogisticRegression(epochs=60, random_state=0).fit(X, y)
    fig = plot.plot_decision_boundary(m, X, y, resolution=40)
    ax = fig.axes[0]
    on = boundary_points(ax)
    spread = np.ptp(m.decision_function(X))
    assert np.all(np.abs(m.decision_function(on)) < 1e-6 * spread)
    normal = m.coef_[0] / np.linalg.norm(m.coef_[0])
    assert np.all(m.decision_function(on + 0.1 * normal) > 0)
    assert np.all(m.decision_function(on - 0.1 * normal) < 0)
    points = [c for c in ax.collections if c.get_label().startswith("y = ")]
    assert [c.get_label() for c in points] == ["y = 0", "y = 1"]
    assert np.allclose(points[1].get_offsets(), X[y == 1])
    assert len(fig.axes) == 2  # the probability colour bar
    assert saved_size(fig) == (300, 250)


def test_decision_boundary_of_a_network_and_of_three_classes(blobs):
    X, y = blobs
    net = d.MLPClassifier((6,), activation="tanh", epochs=40, random_state=0).fit(X, y)
    ax = plot.plot_decision_boundary(net, X, y, resolution=60).axes[0]
    scores = net.decision_function(boundary_points(ax))
    assert np.all(np.abs(scores) < 0.05 * np.ptp(net.decision_function(X)))

    rng = np.random.default_rng(2)
    centres = np.array([[0, 4], [4, 0], [-4, -2]])
    X3 = np.vstack([rng.normal(c, 0.7, (15, 2)) for c in centres])
    y3 = np.repeat(["a", "b", "c"], 15)
    p = d.Perceptron(epochs=30, random_state=0).fit(X3, y3)
    fig = plot.plot_decision_boundary(p, X3, y3, resolution=50)
    assert len(fig.axes) == 1  # no probabilities: regions by class, no colour bar
    step = 0.05 * np.ptp(X3, axis=0)
    for point in boundary_points(fig.axes[0], count=6):
        around = point + np.array([[1, 0], [-1, 0], [0, 1], [0, -1]]) * step
        assert len(set(p.predict(around))) >= 2
    saved_size(fig)


def test_decision_boundary_needs_two_features_and_a_fitted_model(blobs):
    X, y = blobs
    m = d.LogisticRegression(epochs=5).fit(X, y)
    with pytest.raises(ValueError, match="exactly 2 feature"):
        plot.plot_decision_boundary(m, X[:, :1], y)
    with pytest.raises(NotFittedError):
        plot.plot_decision_boundary(d.Perceptron(), X, y)


# ----- networks -----------------------------------------------------------------------------
def test_network_draws_each_neuron_and_weights_as_widths(blobs):
    X, y = blobs
    X4 = np.hstack([X, X[:, ::-1] ** 2])
    net = d.MLPClassifier((5, 3), activation="tanh", epochs=10, random_state=0).fit(X4, y)
    fig = plot.plot_network(net)
    ax = fig.axes[0]
    assert [len(by_gid(ax, f"layer {i}").get_offsets()) for i in range(4)] == [4, 5, 3, 1]
    for i, W in enumerate(net.coefs_):
        edges = by_gid(ax, f"weights {i}")
        weights = W.ravel()  # edges run source by source, then target by target
        widths = np.asarray(edges.get_linewidths())
        assert len(widths) == W.size
        order = np.argsort(np.abs(weights), kind="stable")
        assert np.all(np.diff(widths[order]) >= -1e-12)
        assert widths[np.argmax(np.abs(weights))] > widths[np.argmin(np.abs(weights))]
        colours = edges.get_colors()[:, :3]
        positive = weights >= 0
        assert np.allclose(colours[positive], colours[positive][0])
        assert not np.allclose(colours[~positive][0], colours[positive][0])
    texts = [t.get_text() for t in ax.texts]
    for b in net.intercepts_[0]:
        assert f"b={b:.2g}" in texts
    assert "positive weight" in [t.get_text() for t in ax.get_legend().get_texts()]
    saved_size(fig)


def test_network_caps_wide_layers():
    rng = np.random.default_rng(0)
    net = d.MLPRegressor((64,), epochs=1, random_state=0).fit(rng.normal(size=(20, 100)),
                                                              rng.normal(size=20))
    fig = plot.plot_network(net)
    ax = fig.axes[0]
    assert [len(by_gid(ax, f"layer {i}").get_offsets()) for i in range(3)] == [11, 11, 1]
    assert len(by_gid(ax, "weights 0").get_segments()) == 11 * 11
    assert sum(t.get_text() == "⋮" for t in ax.texts) == 2
    # The shown neurons are the first six and the last five of each wide layer.
    kept = [*range(6), *range(95, 100)]
    widths = np.asarray(by_gid(ax, "weights 0").get_linewidths())
    shown = np.abs(net.coefs_[0][np.ix_(kept, [*range(6), *range(59, 64)])]).ravel()
    assert np.argmax(widths) == np.argmax(shown)
    assert "100-64-1" in ax.get_title()
    saved_size(fig, dpi=30)


def test_network_needs_a_fitted_network(blobs):
    X, y = blobs
    with pytest.raises(TypeError, match="MLPClassifier and MLPRegressor"):
        plot.plot_network(d.LogisticRegression(epochs=2).fit(X, y))
    with pytest.raises(NotFittedError):
        plot.plot_network(d.MLPClassifier())


# ----- penalties and loss curves ------------------------------------------------------------
def test_regularization_path_draws_each_coefficient_against_alpha(line_data):
    X, y = line_data
    X2 = np.hstack([X, np.sin(X)])
    alphas = [1.0, 0.01, 0.1]  # unsorted on purpose
    coefs = [d.LinearRegression(penalty="l1", alpha=a, epochs=30, random_state=0)
             .fit(X2, y).coef_ for a in alphas]
    fig = plot.plot_regularization_path(alphas, coefs, feature_names=["x", "sin x"])
    ax = fig.axes[0]
    lines = [line for line in ax.lines if line.get_label() in ("x", "sin x")]
    assert ax.get_xscale() == "log"
    assert np.allclose(lines[0].get_xdata(), [0.01, 0.1, 1.0])
    assert np.allclose(lines[1].get_ydata(), [coefs[1][1], coefs[2][1], coefs[0][1]])
    saved_size(fig)
    with pytest.raises(ValueError, match="one row per alpha"):
        plot.plot_regularization_path([0.1, 1.0], coefs)
    with pytest.raises(ValueError, match="positive"):
        plot.plot_regularization_path([0.0, 0.1, 1.0], coefs)
    with pytest.raises(ValueError, match="feature_names"):
        plot.plot_regularization_path(alphas, coefs, feature_names=["x"])


@pytest.mark.parametrize("log", [False, True])
def test_loss_comparison_draws_every_history(blobs, log):
    X, y = blobs
    histories = {
        name: d.LogisticRegression(batch_size=size, optimizer="gd", learning_rate=0.1,
                                   epochs=6, tol=None, random_state=0).fit(X, y).history_
        for name, size in [("batch", None), ("mini-batch", 10), ("stochastic", 1)]
    }
    fig = plot.plot_loss_comparison(histories, log=log)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == list(histories)
    for line, history in zip(ax.lines, histories.values(), strict=True):
        assert np.allclose(line.get_ydata(), history.loss)
        assert np.array_equal(line.get_xdata(), history.epoch)
    assert ax.get_yscale() == ("log" if log else "linear")
    assert saved_size(fig) == (325, 225)
    with pytest.raises(ValueError, match="at least one"):
        plot.plot_loss_comparison({})


# ----- functions ----------------------------------------------------------------------------
def test_activations_draw_the_functions_and_a_real_step():
    fig = plot.plot_activations()
    step, sigmoid, relu, tanh = fig.axes
    jump = step.lines[1]  # the step itself (lines[0] is the z axis guide)
    ys = np.asarray(jump.get_ydata(), dtype=float)
    assert set(ys[~np.isnan(ys)]) == {0.0, 1.0} and np.isnan(ys).any()  # no ramp between
    for ax, rule in [(sigmoid, numerics.sigmoid), (relu, lambda z: np.maximum(z, 0)),
                     (tanh, np.tanh)]:
        curve = ax.lines[-1]
        assert np.allclose(curve.get_ydata(), rule(curve.get_xdata()))
        assert curve.get_xdata()[0] == -5 and curve.get_xdata()[-1] == 5
    assert saved_size(fig) == (640, 150)
    assert len(plot.plot_activations(["identity"]).axes) == 1
    with pytest.raises(ValueError, match="unknown activation"):
        plot.plot_activations(["swish"])


def test_error_functions_are_finite_and_right():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a log(0) would warn
        fig = plot.plot_error_functions()
    log_ax, score_ax = fig.axes
    one, zero = log_ax.lines
    p = one.get_xdata()
    assert 0 < p.min() < 0.01 and 0.99 < p.max() < 1
    assert np.allclose(one.get_ydata(), -np.log(p)) and np.allclose(zero.get_ydata(), -np.log1p(-p))
    curves = {line.get_label(): line for line in score_ax.lines}
    s = curves["hinge, label 1"].get_xdata()
    assert np.allclose(curves["perceptron, label 1"].get_ydata(), np.where(s < 0, -s, 0))
    assert np.allclose(curves["hinge, label 0"].get_ydata(), np.maximum(1 + s, 0))
    saved_size(fig)


# ----- the computation graph ----------------------------------------------------------------
def node_texts(fig):
    return {t.get_text().split("\n")[0]: t for t in fig.axes[0].texts if t.get_gid() == "node"}


def test_graph_shows_the_seed_values_and_gradients():
    g = seed_graph()
    before = node_texts(plot.plot_graph(g["J"]))
    assert not any("grad" in t.get_text() for t in before.values())
    g["J"].backward()
    fig = plot.plot_graph(g["J"])
    nodes = node_texts(fig)
    expected = {"a": (5, 3), "b": (3, 6), "c": (2, 9), "u = mul": (6, 3), "v = add": (11, 3),
                "J = mul": (33, 1)}
    for head, (value, grad) in expected.items():
        assert nodes[head].get_text() == f"{head}\nvalue {value}\ngrad {grad}"
    x = {head: t.get_position()[0] for head, t in nodes.items()}
    assert x["b"] < x["u = mul"] < x["v = add"] < x["J = mul"] and x["a"] < x["v = add"]
    ops = sorted(t.get_text() for t in fig.axes[0].texts if t.get_gid() == "op")
    assert ops == ["add", "add", "mul", "mul", "mul", "mul"]  # one label per arrow
    assert len(nodes) == 7
    saved_size(fig)


def test_graph_of_fifty_vector_nodes_shows_shapes():
    rng = np.random.default_rng(0)
    W, x = d.Tensor(rng.normal(size=(3, 4)), name="W"), d.Tensor(rng.normal(size=3), name="x")
    h = d.tanh(x @ W)
    for _ in range(10):
        h = d.sigmoid(h * 1.1 + 0.1)
    loss = d.sum(h ** 2)
    loss.backward()
    fig = plot.plot_graph(loss, title="a deep graph")
    texts = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "node"]
    assert len(texts) == len(topological_order(loss)) >= 50
    assert "W\nvalue shape (3, 4)\ngrad shape (3, 4)" in texts
    assert not any("[" in t for t in texts)  # no raw arrays printed
    assert fig.texts[0].get_text() == "a deep graph"
    width, height = saved_size(fig, dpi=20)
    assert width <= 26 * 20 and height <= 19 * 20
    with pytest.raises(TypeError, match="Tensor"):
        plot.plot_graph(3.0)


# ----- GIFs ---------------------------------------------------------------------------------
def test_animate_1d_writes_a_gif_of_at_most_max_frames(tmp_path):
    r = d.minimize(lambda x: x ** 2, x0=3.0, learning_rate=0.05, epochs=30, tol=0)
    assert len(r.path) > 8
    out = plot.animate_descent(lambda x: x ** 2, r, tmp_path / "descent.gif", max_frames=8,
                               fps=5)
    assert out == tmp_path / "descent.gif"
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.size == (550, 400)
        assert 1 < gif.n_frames <= 8
        assert gif.info["duration"] == 200
    assert [p.name for p in tmp_path.iterdir()] == ["descent.gif"]  # no temporary left


def test_animate_contour_and_short_paths(tmp_path):
    def bowl(p):
        return p[0] ** 2 + 3 * p[1] ** 2

    r = d.minimize(bowl, x0=[2.0, 1.0], learning_rate=0.1, epochs=4, tol=0)
    out = plot.animate_descent(bowl, r, str(tmp_path / "bowl.gif"), kind="contour")
    with Image.open(out) as gif:
        assert gif.n_frames == len(r.path) == 5  # short paths keep every step
    out = plot.animate_descent(bowl, r, tmp_path / "mountain.gif", kind="surface")
    with Image.open(out) as gif:
        assert gif.n_frames == 5
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB"), dtype=int))
    assert np.abs(frames[0] - frames[-1]).sum() > 0  # the point moved between frames


def test_animate_rejects_bad_input_and_never_leaves_half_a_file(tmp_path, monkeypatch):
    r1 = d.minimize(lambda x: x ** 2, x0=1.0, learning_rate=0.3, epochs=3)
    r2 = d.minimize(lambda p: p[0] ** 2 + p[1] ** 2, x0=[1.0, 1.0], learning_rate=0.3, epochs=3)
    f = lambda x: x ** 2  # noqa: E731
    with pytest.raises(ValueError, match="kind"):
        plot.animate_descent(f, r1, tmp_path / "a.gif", kind="3d")
    with pytest.raises(ValueError, match="max_frames"):
        plot.animate_descent(f, r1, tmp_path / "a.gif", max_frames=1)
    with pytest.raises(ValueError, match="single numbers"):
        plot.animate_descent(f, r2, tmp_path / "a.gif")
    with pytest.raises(ValueError, match="2-D points"):
        plot.animate_descent(f, r1, tmp_path / "a.gif", kind="contour")
    with pytest.raises(FileNotFoundError):
        plot.animate_descent(f, r1, tmp_path / "missing" / "a.gif")
    old = tmp_path / "old.gif"
    old.write_bytes(b"the previous picture")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        plot.animate_descent(f, r1, old)
    assert old.read_bytes() == b"the previous picture"
    assert [p.name for p in tmp_path.iterdir()] == ["old.gif"]
