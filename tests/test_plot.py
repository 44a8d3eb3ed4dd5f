"""The pictures: each is a real, non-empty PNG of the expected size, drawn from real runs."""

import io

import numpy as np
import pytest
from PIL import Image

import descent as d
from descent import plot
from descent.demo import three_valleys


def png_size(fig, dpi=50):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    data = buffer.getvalue()
    assert data.startswith(b"\x89PNG") and len(data) > 2000
    image = Image.open(io.BytesIO(data))
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5  # something was drawn, not a blank canvas
    return image.size


def test_path_1d_has_curve_path_tangents_and_steps():
    r = d.minimize(lambda x: x**2, x0=2.0, learning_rate=0.2, epochs=10)
    fig = plot.plot_path_1d(lambda x: x**2, r)
    main, steps = fig.axes
    assert len(main.lines) >= 3 + r.n_steps  # curve, path, start and a tangent per point
    assert len(steps.patches) == r.n_steps
    assert png_size(fig) == (600, 200)


def test_restarts_mark_every_run_and_the_best():
    r = d.minimize(three_valleys, bounds=(0, 6), restarts=4, learning_rate=0.05, random_state=0)
    fig = plot.plot_restarts(three_valleys, r, bounds=(0, 6))
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert sum(label.startswith("start") for label in labels) == 4
    assert any(label.startswith("best") for label in labels)
    assert png_size(fig) == (350, 225)


def test_learning_rates_are_titled_with_steps_or_diverged():
    runs = {lr: d.minimize(lambda x: x**2, x0=5.0, learning_rate=lr, tol=1e-6)
            for lr in (0.01, 0.5, 1.05)}
    fig = plot.plot_learning_rates(lambda x: x**2, runs)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[1] == "learning rate 0.5: 1 step" and titles[2].endswith("diverged")
    assert titles[0].endswith(f"{runs[0.01].n_steps} steps")
    png_size(fig)


@pytest.mark.parametrize("log", [False, True])
def test_loss_curve_from_a_real_history(log):
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    m = d.LogisticRegression(early_stopping=True, epochs=30, tol=None, random_state=0).fit(X, y)
    fig = plot.plot_loss(m.history_, log=log)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["training", "validation"]
    assert np.allclose(ax.lines[0].get_ydata(), m.history_.loss)
    assert ax.get_yscale() == ("log" if log else "linear")
    png_size(fig)


def test_contour_and_surface_follow_the_rosenbrock_path():
    def rosenbrock(p):
        return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2

    r = d.minimize(rosenbrock, x0=[-1.2, 1.0], optimizer="adam", learning_rate=0.02,
                   epochs=500)
    contour = plot.plot_contour_path(rosenbrock, r, log=True)
    assert np.allclose(contour.axes[0].lines[0].get_xdata(), r.path[:, 0])
    png_size(contour)
    surface = plot.plot_surface_path(rosenbrock, r)
    assert surface.axes[0].name == "3d"
    png_size(surface)
