"""The command line, run as a user runs it: in a subprocess, on real files."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import descent

from .data import DATA

DIABETES = DATA / "data-03-diabetes.csv"


def run_cli(*args, cwd=None):
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", *map(str, args)], capture_output=True, text=True,
        timeout=300, env=env, cwd=cwd,
    )


def ok_json(*args, cwd=None) -> dict:
    out = run_cli(*args, "--json", cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_png(path, min_size=(300, 200)):
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]
        extrema = image.convert("L").getextrema()
        assert extrema[0] < extrema[1]  # not blank


@pytest.fixture(scope="module")
def line_csv(tmp_path_factory):
    """y = 2 x1 - x2 + 1 with a little noise, with a header."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = 2 * X[:, 0] - X[:, 1] + 1 + 0.01 * rng.normal(size=200)
    path = tmp_path_factory.mktemp("data") / "line.csv"
    rows = "\n".join(f"{a:.6f},{b:.6f},{t:.6f}" for (a, b), t in zip(X, y, strict=True))
    path.write_text("x1,x2,y\n" + rows + "\n")
    return path


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0 and descent.__version__ in out.stdout
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("fit", "predict", "minimize", "lr-find", "demo"):
        assert command in out.stdout


def test_fit_diabetes_logistic_reaches_076_and_predict_reproduces_it(tmp_path):
    if not DIABETES.exists():
        pytest.skip("shared data absent")
    model = tmp_path / "diabetes.descent"
    plot = tmp_path / "loss.png"
    result = ok_json("fit", DIABETES, "--target", 8, "--model", "logistic", "--save", model,
                     "--plot", plot)
    assert result["rows"] == 759 and result["features"] == 8 and result["target"] == "8"
    assert result["score_name"] == "accuracy" and result["train_score"] >= 0.76
    assert model.is_file() and result["saved"] == str(model)
    assert_png(plot)

    out_csv = tmp_path / "pred.csv"
    out = run_cli("predict", model, DIABETES, "--out", out_csv)
    assert out.returncode == 0, out.stderr
    lines = out_csv.read_text().splitlines()
    assert lines[0] == "prediction" and len(lines) == 760
    labels = np.loadtxt(DIABETES, delimiter=",")[:, 8]
    predicted = np.array([float(v) for v in lines[1:]])
    assert np.mean(predicted == labels) == pytest.approx(result["train_score"])


def test_fit_with_test_size_reports_both_scores_and_the_table(line_csv):
    out = run_cli("fit", line_csv, "--target", "y", "--model", "linear", "--test-size", 0.25,
                  "--optimizer", "gd", "--learning-rate", 0.1, "--batch-size", "full")
    assert out.returncode == 0, out.stderr
    assert "training R^2" in out.stdout and "test R^2" in out.stdout
    result = ok_json("fit", line_csv, "--target", "y", "--model", "linear", "--test-size", 0.25)
    assert result["train_score"] > 0.99 and result["test_score"] > 0.99


def test_predict_prints_to_stdout_and_reads_header_files_by_name(tmp_path, line_csv):
    model = tmp_path / "line.descent"
    assert run_cli("fit", line_csv, "--target", "y", "--model", "linear", "--save", model,
                   "--quiet").returncode == 0
    # The same columns in another order, without the target: picked by name.
    rows = np.loadtxt(line_csv, delimiter=",", skiprows=1)
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("x2,x1\n" + "\n".join(f"{b},{a}" for a, b, _ in rows[:5]) + "\n")
    out = run_cli("predict", model, swapped)
    assert out.returncode == 0, out.stderr
    values = np.array(out.stdout.split()[1:], dtype=float)
    np.testing.assert_allclose(values, rows[:5, 2], atol=0.05)


def test_minimize_finds_the_minima_of_the_issue_examples(tmp_path):
    quartic = ok_json("minimize", "x**4 - 3*x**2 + x", "--x0", "2")
    x = quartic["variables"]["x"]
    assert abs(4 * x**3 - 6 * x + 1) < 1e-3 and x > 0  # a stationary point, the right valley
    best = ok_json("minimize", "x**4 - 3*x**2 + x", "--bounds", "-2:2", "--restarts", 6)
    assert best["variables"]["x"] < 0 and best["value"] < quartic["value"]  # the deeper valley
    plot = tmp_path / "rosenbrock.png"
    rosen = ok_json("minimize", "(1-x)**2 + 100*(y-x**2)**2", "--x0", "-1,1", "--optimizer",
                    "adam", "--learning-rate", "0.05", "--epochs", 3000, "--plot", plot)
    assert rosen["variables"]["x"] == pytest.approx(1, abs=0.02)
    assert rosen["variables"]["y"] == pytest.approx(1, abs=0.04)
    assert_png(plot)


def test_lr_find_suggests_a_rate_that_trains(tmp_path, line_csv):
    plot = tmp_path / "lr.png"
    found = ok_json("lr-find", line_csv, "--target", "y", "--model", "linear", "--optimizer",
                    "gd", "--plot", plot)
    rate = found["suggested_learning_rate"]
    losses = [v for v in found["losses"] if v is not None]
    assert None in found["losses"]  # the grid reaches rates that diverge
    assert 1e-4 < rate < 10 and len(losses) >= 5
    assert_png(plot)
    trained = ok_json("fit", line_csv, "--target", "y", "--model", "linear", "--optimizer", "gd",
                      "--learning-rate", rate, "--epochs", 50)
    assert trained["train_score"] > 0.99


def test_demo_writes_the_report_into_a_folder(demo_run):
    # The session's one run (see conftest), into "x[/]report", which reads as rich markup (a
    # closing tag with nothing open): shown as written.
    out_dir = demo_run.folder
    assert demo_run.result.exit_code == 0, demo_run.result.output
    index = out_dir / "index.html"
    assert index.is_file() and f"{index}" in " ".join(demo_run.result.output.split())
    html = index.read_text()
    import re

    links = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert links and not any(link.startswith(("http:", "https:", "//")) for link in links)
    for link in links:
        target = out_dir / link
        assert target.is_file() and target.stat().st_size > 0, link
        if link.endswith(".png"):
            assert_png(target, min_size=(200, 150))


def _errors(tmp_path, line_csv):
    text = tmp_path / "words.csv"
    text.write_text("a,b,y\n1,hello,0\n2,world,1\n")
    holes = tmp_path / "holes.csv"
    holes.write_text("a,y\n1,0\nnan,1\n3,0\n")
    broken = tmp_path / "broken.csv"
    broken.write_text("a,y\n1,0\n2,3,4\n")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    return {
        "missing file": (["fit", tmp_path / "none.csv", "--target", "y", "--model", "linear"],
                         "does not exist"),
        "unreadable csv": (["fit", broken, "--target", "y", "--model", "linear"],
                           "could not read"),
        "unknown target": (["fit", line_csv, "--target", "price", "--model", "linear"],
                           "target column 'price' is not in"),
        "text feature": (["fit", text, "--target", "y", "--model", "logistic"],
                         "'b'.*not numeric"),
        "nan in data": (["fit", holes, "--target", "y", "--model", "linear"], "missing"),
        "unknown model": (["fit", line_csv, "--target", "y", "--model", "forest"],
                          "'forest' is not one of"),
        "wrong option for model": (["fit", line_csv, "--target", "y", "--model", "linear",
                                    "--hidden", "3"], "--hidden does not apply"),
        "continuous target for classifier": (["fit", line_csv, "--target", "y", "--model",
                                              "logistic"], "looks continuous"),
        "bad expression": (["minimize", "__import__('os')"], "bad expression .* not allowed"),
        "expression with a string": (["minimize", "x + 'abc'"], "strings are not allowed"),
        "diverging fit": (["fit", line_csv, "--target", "y", "--model", "linear", "--optimizer",
                           "gd", "--batch-size", "full", "--learning-rate", "1e4"],
                          "learning.rate"),
        "diverging minimize": (["minimize", "x**2", "--x0", "1", "--learning-rate", "5"],
                               "learning rate"),
        "unwritable output folder": (["fit", line_csv, "--target", "y", "--model", "linear",
                                      "--save", blocker / "m.descent"], "cannot write"),
        "unwritable report folder": (["demo", "--out", blocker / "report"], "report|folder"),
        "not a model file": (["predict", line_csv, line_csv], "not a descent model"),
        "bad bounds": (["minimize", "x**2", "--bounds", "3:1"], "--bounds"),
    }


@pytest.mark.parametrize("case", [
    "missing file", "unreadable csv", "unknown target", "text feature", "nan in data",
    "unknown model", "wrong option for model", "continuous target for classifier",
    "bad expression", "expression with a string", "diverging fit", "diverging minimize",
    "unwritable output folder", "unwritable report folder", "not a model file", "bad bounds",
])
def test_user_errors_are_one_line_and_exit_status_2(tmp_path, line_csv, case):
    import re

    args, pattern = _errors(tmp_path, line_csv)[case]
    out = run_cli(*args)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert re.search(pattern, lines[0], flags=re.IGNORECASE), lines[0]


def test_unknown_command_is_one_clear_error_without_traceback():
    out = run_cli("dmeo")
    assert out.returncode == 2
    assert "No such command" in out.stderr and "Traceback" not in out.stderr
