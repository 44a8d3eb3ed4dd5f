"""The worked examples behind ``descent demo`` compute what the seeds say."""

import numpy as np
import pytest

from descent import demo


def test_graph_section_agrees_with_nudging(sections):
    section = sections["section_graph"]
    assert section.facts["J"] == 33.0
    for _, _, chain, nudged in section.rows:
        assert float(chain) == pytest.approx(float(nudged), abs=1e-6)


def test_one_weight_loss_falls_towards_zero_every_100_epochs(sections):
    section = sections["section_one_weight"]
    losses = [float(row[2]) for row in section.rows]
    assert len(section.rows) == 11  # epochs 0, 100, ..., 900 and the end
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))
    assert section.facts["final_loss"] < 1e-12
    assert section.facts["m"] == pytest.approx(section.facts["target_m"], rel=1e-9)


def test_restarts_section_beats_the_single_start(sections):
    facts = sections["section_restarts"].facts
    assert facts["best_fun"] < -1.49
    assert abs(facts["single_x"] - 1.0) < 0.05 and abs(facts["best_x"] - 3.0) < 1e-3


def test_learning_rate_section_orders_the_rates(sections):
    facts = sections["section_learning_rates"].facts
    small, right, bouncy, large = (facts[r] for r in (0.01, 0.5, 0.95, 1.05))
    assert right["n_steps"] == 1
    assert small["n_steps"] > bouncy["n_steps"] > right["n_steps"]
    assert large["status"] == "diverged"


# ----- the sections the report adds ---------------------------------------------------------
# The sections of the session's one ``descent demo`` run (see conftest), by function name.
@pytest.fixture(scope="module")
def sections(demo_run):
    assert len(demo_run.sections) == len(demo.SECTIONS)
    return {make.__name__: section for make, section in zip(demo.SECTIONS, demo_run.sections,
                                                              strict=True)}


def _least_absolute_line(x, y):
    """The least-absolute-deviations line by linear programming: min mean |y - (m x + b)|."""
    from scipy.optimize import linprog

    n = len(x)
    # Variables: m, b, then one slack e_i >= |y_i - m x_i - b| per point.
    cost = np.r_[0.0, 0.0, np.ones(n) / n]
    upper = np.block([[x[:, None], np.ones((n, 1)), -np.eye(n)],
                      [-x[:, None], -np.ones((n, 1)), -np.eye(n)]])
    solved = linprog(cost, A_ub=upper, b_ub=np.r_[y, -y],
                     bounds=[(None, None)] * 2 + [(0, None)] * n)
    assert solved.success
    return solved.x[0], solved.x[1], solved.fun


def _mean_abs(line, x, y):
    return float(np.mean(np.abs(y - (line[0] * x + line[1]))))


def test_every_section_in_order_with_numbers_and_pictures(sections):
    made = list(sections.values())
    assert len(made) == 12
    assert [s.title for s in made[:2]] == ["The computation graph and the chain rule",
                                          "One weight, squared error"]
    assert len({s.title for s in made}) == 12
    for section in made:
        assert section.text and section.summary and section.rows, section.title
        assert all(len(row) == len(section.columns) for row in section.rows), section.title
        assert section.figures, section.title
        stems = [p.stem for p in section.figures]
        assert len(set(stems)) == len(stems), section.title
    assert sum(p.animated for s in made for p in s.figures) >= 1


def test_texts_print_unchanged_through_rich(sections):
    # The command line prints titles, texts, cells and summaries with rich, which reads
    # "[word]" as markup: nothing here may be eaten.
    from rich.text import Text

    for section in sections.values():
        for text in (section.title, section.text, section.summary,
                     *[cell for row in section.rows for cell in row]):
            assert Text.from_markup(text).plain == text


def test_pseudocode_section_follows_the_loop(sections):
    facts = sections["section_pseudocode"].facts
    assert facts["status_1d"] == "converged"
    assert facts["x_1d"] == pytest.approx(1.0, abs=1e-5)  # x^3 = 1 at the minimum
    # First step on Mount Errorest by hand: (-4, 1.8) - 0.3 * (x, 5 y) = (-2.8, -0.9).
    assert facts["first_step_2d"] == pytest.approx([-2.8, -0.9])
    assert facts["fun_2d"] < 1e-10
    # Each step scales x by 0.7 (and y by -0.5, faster), so step k + 1 is about
    # 0.3 * 4 * 0.7^k long; it first falls under tol = 1e-6 at k = 40, the 41st step.
    assert facts["steps_2d"] == 41


def test_square_trick_lands_on_the_least_squares_line(sections):
    facts = sections["section_linear_regression"].facts
    # Stochastic steps at a constant rate keep hovering around the optimum: each step moves
    # the line by 0.01 * residual * rooms, and the least-squares residuals here are a few
    # dollars at most, so the wander stays well under half a percent.
    assert facts["square"] == pytest.approx(np.polyfit(demo.ROOMS, demo.PRICES, 1), rel=5e-3)
    assert facts["least_squares"] == pytest.approx(np.polyfit(demo.ROOMS, demo.PRICES, 1))
    # One step from the flat line on (5 rooms, 356) at rate 0.01.
    assert facts["square_step"] == pytest.approx((0.01 * 356 * 5, 0.01 * 356))
    assert facts["absolute_step"] == pytest.approx((0.01 * 5, 0.01))


def test_absolute_trick_reaches_a_least_absolute_line(sections):
    facts = sections["section_linear_regression"].facts
    slope, intercept, best = _least_absolute_line(demo.ROOMS, demo.PRICES)
    # Many lines share the least mean absolute error on these six houses (the linear
    # program returns one corner of that set), so compare the error, not the line.
    assert _mean_abs(facts["absolute"], demo.ROOMS, demo.PRICES) == pytest.approx(best, rel=0.01)
    assert _mean_abs((slope, intercept), demo.ROOMS, demo.PRICES) == pytest.approx(best)


def test_people_lines_match_the_references(sections):
    facts = sections["section_linear_regression"].facts
    height, weight = demo.heights_and_weights()
    assert facts["people_square"] == pytest.approx(np.polyfit(height, weight, 1), rel=1e-3)
    best = _least_absolute_line(height, weight)[2]
    assert _mean_abs(facts["people_absolute"], height, weight) == pytest.approx(best, rel=0.01)


def test_perceptron_separates_the_eight_points(sections):
    facts = sections["section_perceptron"].facts
    assert facts["accuracy"] == 1.0
    scores = demo.POINTS @ np.array(facts["coef"]) + facts["intercept"]
    assert np.all((scores >= 0) == (demo.LABELS == 1))
    assert facts["mistakes"][0] == 4  # the zero line calls every point 1
    assert facts["mistakes"][facts["separated_at"]:] == [0] * (
        len(facts["mistakes"]) - facts["separated_at"])


def test_logistic_section(sections):
    facts = sections["section_logistic"].facts
    assert facts["small_accuracy"] == 1.0
    # The log-loss gradient lesson's step from zero on (1, 3) labelled 1:
    # 0.1 * (1 - 0.5) * (1, 3, 1).
    assert facts["first_step"] == pytest.approx(facts["step_by_hand"])
    assert facts["step_by_hand"] == pytest.approx([0.05, 0.15, 0.05])
    assert facts["cancer_test_accuracy"] > 0.93 and facts["cancer_train_accuracy"] > 0.95


def test_network_beats_a_straight_line_on_rings(sections):
    facts = sections["section_network"].facts
    assert facts["network_accuracy"] > 0.9
    assert facts["linear_accuracy"] < 0.7
    assert facts["n_params"] == 2 * 8 + 8 + 8 + 1


def test_svm_margin_narrows_as_c_grows_and_matches_scikit_learn(sections):
    from sklearn.datasets import make_blobs
    from sklearn.svm import SVC

    facts = sections["section_svm"].facts
    X, y = make_blobs(100, centers=2, cluster_std=1.2, random_state=3)
    widths = [facts[C]["width"] for C in (0.01, 1.0, 10.0)]
    assert widths[0] > widths[1] > widths[2]
    assert all(facts[C]["accuracy"] == 1.0 for C in (0.01, 1.0, 10.0))
    # The same objective (C * sum of hinges + |w|^2 / 2, intercept free) as SVC's.
    for C, width in zip((0.01, 1.0, 10.0), widths, strict=True):
        reference = 2 / np.linalg.norm(SVC(kernel="linear", C=C).fit(X, y).coef_)
        assert width == pytest.approx(reference, rel=0.01)


def test_regularization_shrinks_and_l1_switches_weights_off(sections):
    facts = sections["section_regularization"].facts
    l1, l2 = np.array(facts["l1"]), np.array(facts["l2"])
    l1_size, l2_size = np.abs(l1).sum(axis=1), np.abs(l2).sum(axis=1)
    assert np.all(np.diff(l1_size) <= 1e-9) and np.all(np.diff(l2_size) < 0)
    assert np.all(l1[np.array(facts["alphas"]) >= 1.0] == 0)  # exact zeros, not tiny values
    assert facts["l1_all_zero_from"] == 1.0
    assert not np.any(l2 == 0)
    assert facts["l1_step"] == pytest.approx([1.95, -0.45])  # 0.1 * 0.5 off each |w|
    assert facts["l2_step"] == pytest.approx([1.9, -0.475])  # times 1 - 0.1 * 0.5


def test_regularization_path_matches_lasso_and_ridge_where_converged(sections):
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Lasso, Ridge
    from sklearn.preprocessing import StandardScaler

    facts = sections["section_regularization"].facts
    X, y = load_diabetes(return_X_y=True)
    scaler = StandardScaler().fit(X)
    Xs, ys = scaler.transform(X), (y - y.mean()) / y.std()
    to_units = y.std() / scaler.scale_
    for alpha, l1, l2 in zip(facts["alphas"], facts["l1"], facts["l2"], strict=True):
        if alpha < 0.1:
            continue  # 500 plain steps do not finish the job on these correlated features
        lasso = Lasso(alpha=alpha).fit(Xs, ys).coef_ * to_units
        ridge = Ridge(alpha=alpha * len(y)).fit(Xs, ys).coef_ * to_units
        assert np.allclose(l1, lasso, atol=1e-2 * max(np.abs(lasso).max(), 1.0))
        assert np.allclose(l2, ridge, atol=1e-2 * np.abs(ridge).max())


def test_batch_sizes_take_their_steps(sections):
    facts = sections["section_batches"].facts
    assert facts[None]["steps_per_epoch"] == 1
    assert facts[32]["steps_per_epoch"] == 16  # ceil(500 / 32)
    assert facts[1]["steps_per_epoch"] == 500  # one step per point
    assert facts[1]["steps"] == 20 * 500
    assert facts[1]["final_loss"] < facts[32]["final_loss"] < facts[None]["final_loss"]


def test_sections_are_deterministic(sections):
    first, second = sections["section_perceptron"], demo.section_perceptron()
    assert first.rows == second.rows and first.facts == second.facts
    one, two = demo.section_network(epochs=20), demo.section_network(epochs=20)
    assert one.rows == two.rows
