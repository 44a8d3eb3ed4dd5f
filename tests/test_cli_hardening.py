"""The command line under hostile and careless input (issue 11: items 6, 7, 8, 13, 14).

The tests run the real ``descent`` command on real files: outputs that would overwrite
inputs, a full disk (a file-size limit, and the ``/dev/full`` device behind a symlink),
duplicate or mismatched columns, out-of-range options, and labels that hold commas,
quotes, newlines or terminal escape sequences. Most run it in a subprocess; refusals that
come before any work run it in this process too (click's runner), where a new interpreter
per case would only add its start-up time, and a few of them also in a subprocess.
"""

import csv
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from descent.cli.app import print_json

from .subprocesses import run_on_terminal

COMMAND = [sys.executable, "-m", "descent.cli"]


def run_cli(*args, cwd=None, env=None, preexec_fn=None):
    env = {**os.environ, "COLUMNS": "120", **(env or {})}
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=cwd, preexec_fn=preexec_fn)


def run_in_process(*args):
    """The same command line in this process; a crash shows up as a traceback on stderr."""
    from click.testing import CliRunner

    from descent.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="descent")
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return SimpleNamespace(returncode=1 if crashed else result.exit_code,
                           stdout=result.stdout,
                           stderr=result.stderr + (f"Traceback: {result.exception!r}"
                                                   if crashed else ""))


def assert_one_line_error(out, pattern: str) -> str:
    """Exit status 2, no traceback, one ``error: ...`` line on stderr matching ``pattern``."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert re.search(pattern, lines[0], flags=re.IGNORECASE), lines[0]
    return lines[0]


def strict_json(text: str):
    """JSON as the standard defines it: a bare NaN or Infinity is an error."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def write_csv(path, header, rows):
    lines = ([",".join(header)] if header else []) + [",".join(f"{v:.6g}" if isinstance(
        v, float) else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def signal_data():
    """400 rows: y is 1 exactly when a > 0; b is noise. A model on a, b is ~99% right."""
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=400), rng.normal(size=400)
    return a, b, (a > 0).astype(int)


@pytest.fixture(scope="module")
def files(tmp_path_factory, signal_data):
    """The signal data with and without a header, and a logistic model fitted on each."""
    folder = tmp_path_factory.mktemp("hardening")
    a, b, y = signal_data
    rows = list(zip(a, b, y, strict=True))
    headed = write_csv(folder / "headed.csv", ["a", "b", "y"], rows)
    bare = write_csv(folder / "bare.csv", None, rows)
    paths = {"headed": headed, "bare": bare}
    for name, target in (("headed", "y"), ("bare", "2")):
        model = folder / f"{name}.descent"
        out = run_cli("fit", paths[name], "--target", target, "--model", "logistic",
                      "--save", model, "--quiet")
        assert out.returncode == 0, out.stderr
        paths[f"{name} model"] = model
    return paths


# ----- item 6: an output never overwrites an input or another output -------------------
def _clash_cases(tmp_path, files):
    data = tmp_path / "data.csv"
    data.write_bytes(files["headed"].read_bytes())
    model = tmp_path / "model.descent"
    model.write_bytes(files["headed model"].read_bytes())
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.png"
    link.symlink_to(data)
    hard = tmp_path / "hard.descent"
    os.link(data, hard)
    fit = ["fit", data, "--target", "y", "--model", "logistic"]
    return {
        "fit --save is the data file": ([*fit, "--save", data], r"--save .*data file"),
        "fit --save is the data file spelled another way":
            ([*fit, "--save", tmp_path / "sub" / ".." / "data.csv"], r"--save .*data file"),
        "fit --plot is a symlink to the data file": ([*fit, "--plot", link],
                                                     r"--plot .*data file"),
        "fit --save is a hard link to the data file": ([*fit, "--save", hard],
                                                       r"--save .*data file"),
        "fit --save and --plot name one file":
            ([*fit, "--save", tmp_path / "both", "--plot", tmp_path / "both"],
             r"--plot .*--save|--save .*--plot"),
        "predict --out is the model file": (["predict", model, data, "--out", model],
                                            r"--out .*model file"),
        "predict --out is the data file": (["predict", model, data, "--out", data],
                                           r"--out .*data file"),
        "lr-find --plot is the data file":
            (["lr-find", data, "--target", "y", "--model", "logistic", "--plot", data],
             r"--plot .*data file"),
    }


CLASHES = ["fit --save is the data file", "fit --save is the data file spelled another way",
           "fit --plot is a symlink to the data file", "fit --save is a hard link to the data file",
           "fit --save and --plot name one file", "predict --out is the model file",
           "predict --out is the data file", "lr-find --plot is the data file"]


@pytest.mark.parametrize("case", CLASHES)
def test_an_output_naming_an_input_or_another_output_is_refused_before_any_work(
        tmp_path, files, case):
    _assert_clash_refused(tmp_path, files, case, run_in_process)


@pytest.mark.parametrize("case", ["fit --save is a hard link to the data file",
                                  "predict --out is the model file"])
def test_a_clash_is_refused_by_the_command_in_its_own_process(tmp_path, files, case):
    _assert_clash_refused(tmp_path, files, case, run_cli)


def _assert_clash_refused(tmp_path, files, case, run):
    args, pattern = _clash_cases(tmp_path, files)[case]
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    out = run(*args)
    assert_one_line_error(out, pattern)
    assert out.stdout == ""  # refused before training or predicting
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # every input intact, and nothing new written


# ----- item 7: a full disk is one line, and the earlier file survives -------------------
def _file_size_limit(limit: int):
    """For a child process: writes past ``limit`` bytes fail with EFBIG (a full disk)."""
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    return apply


@pytest.mark.parametrize("option", ["--save", "--plot", "--out"])
def test_a_write_that_hits_a_full_disk_is_one_line_and_keeps_the_earlier_file(
        tmp_path, files, option):
    # Fill matplotlib's font cache first, so the limited process writes nothing but its output.
    subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], check=True,
                   timeout=300)
    target = tmp_path / "earlier"
    target.write_bytes(b"an earlier file that must survive")
    if option == "--out":
        args = ["predict", files["headed model"], files["headed"], "--out", target]
    else:
        args = ["fit", files["headed"], "--target", "y", "--model", "logistic", option, target]
    out = run_cli(*args, env={"DESCENT_JIT": "0"}, preexec_fn=_file_size_limit(600))
    # One naming of the file: the model file's own message, or the CLI's for other outputs.
    line = assert_one_line_error(out, r"cannot (write|save the model to) .*earlier.*too large")
    assert line.count("earlier") == 1 + ("intact" in line), line
    assert out.stderr.startswith("error: ")  # not even an empty line before it
    assert target.read_bytes() == b"an earlier file that must survive"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier"]  # no temporary left


@pytest.mark.parametrize("option", ["--save", "--out"])
def test_writing_to_a_full_device_is_one_line_and_the_device_stays(tmp_path, files, option):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    full = tmp_path / "full"
    full.symlink_to("/dev/full")  # the output is written through the link, into the device
    if option == "--out":
        args = ["predict", files["headed model"], files["headed"], "--out", full]
    else:
        args = ["fit", files["headed"], "--target", "y", "--model", "logistic", option, full]
    assert_one_line_error(run_cli(*args),
                          r"cannot (write|save the model to) .*no space left on device")
    assert full.is_symlink() and stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]


def test_an_output_into_a_device_or_stdout_is_written_into_it(files):
    out = run_cli("predict", files["headed model"], files["headed"], "--out", "/dev/null")
    assert out.returncode == 0, out.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    printed = run_cli("predict", files["headed model"], files["headed"])
    into_stdout = run_cli("predict", files["headed model"], files["headed"], "--out",
                          "/dev/stdout")
    assert into_stdout.returncode == 0, into_stdout.stderr
    assert into_stdout.stdout == printed.stdout  # the CSV alone, nothing renamed over it
    assert printed.stdout.startswith("prediction\n") and printed.stdout.count("\n") == 401


# ----- item 8: columns are matched by name or by position, never by a guess -------------
def test_fit_refuses_a_file_with_duplicate_column_names(tmp_path, signal_data):
    a, b, y = signal_data
    path = write_csv(tmp_path / "twice.csv", ["a", "y", "b", "y"],
                     list(zip(a, y, b, 1 - y, strict=True)))
    line = assert_one_line_error(run_cli("fit", path, "--target", "y", "--model", "logistic"),
                                 r"more than one column named 'y'")
    assert "rename" in line


def test_predict_refuses_duplicate_column_names_instead_of_taking_the_first(
        tmp_path, files, signal_data):
    # Columns a, b, a: taking the first 'a' (here the noise) gives about 50% accuracy.
    a, b, y = signal_data
    path = write_csv(tmp_path / "swapped.csv", ["a", "b", "a"], list(zip(b, a, a, strict=True)))
    assert_one_line_error(run_cli("predict", files["headed model"], path),
                          r"more than one column named 'a'.*rename")


def test_a_model_fitted_with_a_header_refuses_a_file_without_one(files):
    assert_one_line_error(run_cli("predict", files["headed model"], files["bare"]),
                          r"trained on a file with a header.*has no header")


def test_a_model_fitted_without_a_header_refuses_a_file_with_one(files):
    assert_one_line_error(run_cli("predict", files["bare model"], files["headed"]),
                          r"trained on a file without a header.*header line")


@pytest.mark.parametrize("record", [{"features": 5, "header": True}, ["a", "b"],
                                    {"features": ["a", 1], "header": True},
                                    {"features": ["a", "b"], "header": "yes"}])
def test_a_malformed_record_of_the_columns_in_a_model_file_is_one_line(
        tmp_path, files, record):
    import descent

    model = descent.load(files["headed model"])
    model.data_columns_ = record  # as a hand-edited file would bring it back
    edited = tmp_path / "edited.descent"
    model.save(edited)
    out = run_in_process("predict", edited, files["headed"])
    assert_one_line_error(out, r"model file .*edited.descent' is damaged: .*data_columns_")


def test_a_named_column_that_is_missing_is_never_taken_by_position(tmp_path, signal_data):
    a, b, y = signal_data
    train = write_csv(tmp_path / "train.csv", ["a", "1", "y"], list(zip(a, b, y, strict=True)))
    model = tmp_path / "m.descent"
    assert run_cli("fit", train, "--target", "y", "--model", "logistic", "--save", model,
                   "--quiet").returncode == 0
    other = write_csv(tmp_path / "other.csv", ["a", "c"], list(zip(a, b, strict=True)))
    assert_one_line_error(run_cli("predict", model, other), r"column '1' .*is not in")


def test_predict_by_name_and_by_position_still_work(files, signal_data):
    a, b, y = signal_data
    out = run_cli("predict", files["headed model"], files["headed"], "--json")
    assert out.returncode == 0, out.stderr
    assert np.mean(np.array(strict_json(out.stdout)["predictions"]) == y) > 0.95
    out = run_cli("predict", files["bare model"], files["bare"])
    assert out.returncode == 0, out.stderr
    assert np.mean(np.array(out.stdout.split()[1:], dtype=float) == y) > 0.95


# ----- item 13: out-of-range options are one clear line ----------------------------------
def _option_cases(tmp_path, files):
    rare = tmp_path / "rare.csv"
    rare.write_text("x,label\n" + "".join(f"{i},{'common' if i % 2 else 'other'}\n"
                                          for i in range(40)) + "41,rare\n")
    ten = tmp_path / "ten.csv"
    ten.write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(10)))
    fit = ["fit", files["headed"], "--target", "y", "--model", "logistic"]
    lr_find = ["lr-find", files["headed"], "--target", "y", "--model", "logistic"]
    return {
        "predict with a missing model file":
            (["predict", tmp_path / "none.descent", files["headed"]],
             r"model file .*none.descent.* does not exist.*descent fit"),
        "fit --learning-rate nan": ([*fit, "--learning-rate", "nan"],
                                    r"--learning-rate.*nan is not a finite number"),
        "fit --learning-rate inf": ([*fit, "--learning-rate", "inf"],
                                    r"--learning-rate.*inf is not a finite number"),
        "fit --learning-rate -1": ([*fit, "--learning-rate", "-1"], r"--learning-rate.*x>0"),
        "fit --learning-rate 0": ([*fit, "--learning-rate", "0"], r"--learning-rate.*x>0"),
        "fit --alpha nan": ([*fit, "--alpha", "nan"], r"--alpha.*not a finite number"),
        "fit --tol inf": ([*fit, "--tol", "inf"], r"--tol.*not a finite number"),
        "lr-find --max-rate inf": ([*lr_find, "--max-rate", "inf"],
                                   r"--max-rate.*not a finite number"),
        "lr-find --min-rate nan": ([*lr_find, "--min-rate", "nan"],
                                   r"--min-rate.*not a finite number"),
        "lr-find --min-rate 0": ([*lr_find, "--min-rate", "0"], r"--min-rate.*x>0"),
        "fit --random-state -1": ([*fit, "--random-state", "-1"],
                                  r"--random-state.*0<=x<=4294967295"),
        "fit --random-state huge": ([*fit, "--random-state", str(2**64)],
                                    r"--random-state.*0<=x<=4294967295"),
        "lr-find --random-state -1": ([*lr_find, "--random-state", "-1"],
                                      r"--random-state.*0<=x<=4294967295"),
        "fit --test-size 0": ([*fit, "--test-size", "0"], r"--test-size.*0<x<1"),
        "fit --test-size 1": ([*fit, "--test-size", "1"], r"--test-size.*0<x<1"),
        "fit --test-size -0.2": ([*fit, "--test-size", "-0.2"], r"--test-size.*0<x<1"),
        "fit --test-size nan": ([*fit, "--test-size", "nan"], r"--test-size.*not a finite"),
        "fit --test-size 0.999": ([*fit, "--test-size", "0.999"],
                                  r"--test-size 0.999 .*no rows for training.*smaller"),
        "fit --test-size 0.997 leaves fewer rows than classes":
            ([*fit, "--test-size", "0.997"], r"--test-size 0.997 .*1 row.* 2 classes"),
        "fit --test-size that holds out one row for R^2":
            (["fit", ten, "--target", "y", "--model", "linear", "--test-size", "0.1"],
             r"--test-size 0.1 holds out 1 .*R\^2 needs at least 2.*larger"),
        "stratified split with a one-member class":
            (["fit", rare, "--target", "label", "--model", "logistic", "--test-size", "0.25"],
             r"class 'rare' has only 1 row.*--test-size"),
    }


OPTION_CASES = [
    "predict with a missing model file", "fit --learning-rate nan", "fit --learning-rate inf",
    "fit --learning-rate -1", "fit --learning-rate 0", "fit --alpha nan", "fit --tol inf",
    "lr-find --max-rate inf", "lr-find --min-rate nan", "lr-find --min-rate 0",
    "fit --random-state -1", "fit --random-state huge", "lr-find --random-state -1",
    "fit --test-size 0", "fit --test-size 1", "fit --test-size -0.2", "fit --test-size nan",
    "fit --test-size 0.999", "fit --test-size 0.997 leaves fewer rows than classes",
    "fit --test-size that holds out one row for R^2", "stratified split with a one-member class",
]


@pytest.mark.parametrize("case", OPTION_CASES)
def test_bad_options_are_one_line_and_exit_status_2(tmp_path, files, case):
    args, pattern = _option_cases(tmp_path, files)[case]
    assert_one_line_error(run_in_process(*args), pattern)


@pytest.mark.parametrize("case", ["predict with a missing model file", "fit --test-size nan",
                                  "stratified split with a one-member class"])
def test_bad_options_are_one_line_in_the_commands_own_process(tmp_path, files, case):
    args, pattern = _option_cases(tmp_path, files)[case]
    assert_one_line_error(run_cli(*args), pattern)


def test_a_large_random_state_and_a_stratified_split_still_work(files):
    out = run_cli("fit", files["headed"], "--target", "y", "--model", "logistic",
                  "--random-state", 2**32 - 1, "--test-size", "0.3", "--json")
    assert out.returncode == 0, out.stderr
    result = strict_json(out.stdout)
    assert result["test_score"] > 0.9


# ----- item 14: JSON, CSV and the terminal ----------------------------------------------
def test_json_output_writes_nan_and_infinity_as_null(capsys):
    print_json({"loss": float("nan"), "scores": [np.inf, -np.inf, 1.5],
                "value": np.float32("nan"), "array": np.array([np.nan, 2.0])})
    assert strict_json(capsys.readouterr().out) == {
        "loss": None, "scores": [None, None, 1.5], "value": None, "array": [None, 2.0]}


HOSTILE_LABELS = ["calm", "a,b", 'say "hi"', "two\nlines", "\x1b[2J", "\x1b]0;pwned\x07"]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A classifier whose labels hold commas, quotes, a newline and escape sequences."""
    folder = tmp_path_factory.mktemp("labels")
    rng = np.random.default_rng(3)
    k, per = len(HOSTILE_LABELS), 20
    which = np.repeat(np.arange(k), per)
    X = np.eye(k)[which] + 0.05 * rng.normal(size=(k * per, k))
    columns = {f"f{j}": X[:, j] for j in range(k)}
    data = folder / "labels.parquet"
    pq.write_table(pa.table({**columns, "label": [HOSTILE_LABELS[i] for i in which]}), data)
    model = folder / "labels.descent"
    out = run_cli("fit", data, "--target", "label", "--model", "logistic", "--save", model,
                  "--quiet")
    assert out.returncode == 0, out.stderr
    return data, model


def test_prediction_csv_quotes_labels_and_reads_back_equal(tmp_path, hostile):
    from descent.data import read_table
    from descent.model_io import load

    data, model = hostile
    out_csv = tmp_path / "predictions.csv"
    out = run_cli("predict", model, data, "--out", out_csv)
    assert out.returncode == 0, out.stderr
    expected = load(model).predict(read_table(data, columns=[f"f{j}" for j in range(6)]).X)
    assert set(expected) == set(HOSTILE_LABELS)  # every kind of label is predicted
    with open(out_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["prediction"]] + [[label] for label in expected]
    # Printed to a pipe, the predictions are the same CSV, byte for byte.
    piped = subprocess.run([*COMMAND, "predict", str(model), str(data)], capture_output=True,
                           timeout=300)
    assert piped.returncode == 0 and piped.stdout == out_csv.read_bytes()


def run_in_terminal(*args) -> tuple[int, bytes]:
    """Run the command with stdout and stderr on a pseudo-terminal; what the terminal got."""
    return run_on_terminal([*COMMAND, *args])


def test_labels_with_escape_sequences_reach_a_terminal_escaped(hostile):
    data, model = hostile
    status, shown = run_in_terminal("predict", model, data)
    assert status == 0
    assert b"\x1b" not in shown and b"\x07" not in shown
    assert b"\\x1b[2J" in shown and b"\\x1b]0;pwned\\x07" in shown


def test_file_names_with_escape_sequences_reach_a_terminal_escaped(tmp_path):
    hostile_name = tmp_path / "\x1b]0;pwned\x07\x1b[2J.csv"
    status, shown = run_in_terminal("fit", hostile_name, "--target", "y", "--model", "linear")
    assert status == 2 and b"error: data file" in shown
    assert b"\x1b" not in shown and b"\x07" not in shown
    assert b"\\x1b]0;pwned\\x07\\x1b[2J.csv" in shown


def test_column_names_are_shown_as_written_never_as_markup_or_escapes(tmp_path, signal_data):
    a, b, y = signal_data
    name = "[/][bold red]y\x1b]0;pwned\x07"  # rich markup (a stray [/] crashed) and an OSC
    path = write_csv(tmp_path / "names.csv", ["a", "b", name], list(zip(a, b, y, strict=True)))
    status, shown = run_in_terminal("fit", path, "--target", "-1", "--model", "logistic")
    assert status == 0, shown
    assert b"Traceback" not in shown and b"\x1b]0;" not in shown and b"\x07" not in shown
    assert b"[/][bold red]y\\x1b]0;pwned\\x07" in shown
