"""minimize and expressions under careless and hostile input (issue 11: items 13 and 15).

The command line runs for real in a subprocess (and is interrupted with a real SIGINT);
the library is called directly, interrupted by real signals sent to this process.
Expected failures are one-line errors (exit status 2, no traceback) or a ValueError that
names the problem and the fix, never a silent NaN or a 'diverged' run from a bad start.
"""

import os
import re
import select
import signal
import subprocess
import sys
import time
import timeit
from importlib import import_module
from types import SimpleNamespace

import numpy as np
import pytest

import descent as d
from descent.demo import three_valleys
from descent.expression import MAX_DEPTH, MAX_LENGTH, Expression, ExpressionError, parse

minimize_module = import_module("descent.minimize")  # the module: descent.minimize is the function
COMMAND = [sys.executable, "-m", "descent.cli"]
QUARTIC = "x**4 - 3*x**2 + x"
LONGEST_LINE = 640  # an error line holds the reason and the advice, never the whole input


def run_cli(*args, env=None, timeout=300):
    env = {**os.environ, "COLUMNS": "120", **(env or {})}
    return subprocess.run([*COMMAND, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


def run_in_process(*args):
    """The same command line in this process (click's runner): a crash shows as a traceback.

    Most refusals run here, a few in a subprocess as well, to keep the suite fast.
    """
    from click.testing import CliRunner

    from descent.cli import main

    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="descent")
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    return SimpleNamespace(returncode=1 if crashed else result.exit_code, stdout=result.stdout,
                           stderr=result.stderr + (f"Traceback: {result.exception!r}"
                                                   if crashed else ""))


def assert_one_line_error(out, pattern: str) -> str:
    """Exit status 2, no traceback, one short ``error: ...`` line matching ``pattern``."""
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr[-3000:])
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr[-3000:]
    assert out.stderr.startswith("error: ")  # not even an empty line before it
    assert len(lines[0]) <= LONGEST_LINE, len(lines[0])
    assert re.search(pattern, lines[0], flags=re.IGNORECASE), lines[0]
    return lines[0]


# ----- item 13: the command line ---------------------------------------------------------------
CLI_ERRORS = {
    "log outside its domain": (["log(x)", "--x0", "-1"],
                               r"not finite at the start x=-1 .*--x0.*domain.*--bounds"),
    "1/x at its pole": (["1/x", "--x0", "0"], r"not finite at the start x=0 \(f = inf\)"),
    "two variables": (["log(x) + y**2", "--x0", "-1,2"], r"x=-1, y=2 \(f = nan\)"),
    "no slope at the start": (["sqrt(x)", "--x0", "0"], r"gradient of f is not finite .*--x0"),
    "learning rate nan": (["x**2", "--learning-rate", "nan"],
                          r"--learning-rate.*nan.*positive finite number.*0\.01"),
    "learning rate inf": (["x**2", "--learning-rate", "inf"], r"--learning-rate.*inf"),
    "learning rate negative": (["x**2", "--learning-rate", "-0.5"], r"--learning-rate.*-0\.5"),
    "learning rate zero": (["x**2", "--learning-rate", "0"], r"--learning-rate.*positive"),
    "box too wide to draw from": (["x**2", "--bounds", "-1e308:1e308"],
                                  r"--bounds.*too wide.*narrower"),
    "random starts that overflow f": (["x**2", "--bounds", "1e300:1e308", "--restarts", "3"],
                                      r"not finite at any of the 3 random starts.*--bounds"),
    "every restart diverges": (["exp(x**2)", "--bounds", "-20:20", "--restarts", "3",
                                "--learning-rate", "1"], r"all 3 runs diverged.*smaller one"),
    "bounds reversed": (["x**2", "--bounds", "3:1"], r"--bounds.*low below high"),
    "bounds equal": (["x**2", "--bounds", "1:1"], r"--bounds.*low below high"),
    "bounds nan": (["x**2", "--bounds", "nan:1"], r"--bounds"),
    "bounds inf": (["x**2", "--bounds", "0:inf"], r"--bounds"),
    "start not a number": (["x**2", "--x0", "nan"], r"--x0"),
    "negative seed": (["x**2", "--bounds", "0:1", "--random-state", "-1"],
                      r"--random-state.*-1 is not in the range x>=0"),
    "absurd restarts": (["x**2", "--bounds", "0:1", "--restarts", "1000000000"],
                        r"--restarts.*1<=x<=100000"),
    "no restarts": (["x**2", "--bounds", "0:1", "--restarts", "0"], r"--restarts"),
}


IN_A_SUBPROCESS = {"log outside its domain", "learning rate nan", "box too wide to draw from"}


@pytest.mark.parametrize("case", sorted(CLI_ERRORS))
def test_minimize_refuses_bad_input_in_one_line(case):
    args, pattern = CLI_ERRORS[case]
    run = run_cli if case in IN_A_SUBPROCESS else run_in_process
    assert_one_line_error(run("minimize", *args), pattern)


def test_an_expression_over_the_length_limit_is_not_echoed_back():
    text = "x" + "+x" * 22_500  # 45,001 characters
    line = assert_one_line_error(run_cli("minimize", text), r"45,001 characters.*10,000")
    assert "x+x+x+x+x" in line  # an excerpt around the place, to see where it is
    assert line.count("+x") < 40


@pytest.mark.parametrize("text, words", [
    ("x + " + "9" * 3000 + "y", "missing operator"),
    ("x + _" + "a" * 5000, "reserved"),
    ("x + " + "a" * 5000 + "(2)", "not a function"),
    ("x + 1" + "0" * 400 + "..5", "malformed number"),
    ("(" * 300 + "x" + ")" * 300, "nests more than 200"),
    ("x\x1b[2J + \x07", "unexpected character"),  # (argv cannot hold a NUL)
])
def test_every_expression_error_quotes_a_short_excerpt(text, words):
    run = run_cli if "\x1b" in text else run_in_process  # what reaches a real terminal
    line = assert_one_line_error(run("minimize", text), words)
    assert "\x1b" not in line and "\x07" not in line  # no raw control codes to the terminal


def test_the_library_error_for_a_long_token_is_short():
    for text in ("x + " + "9" * 3000 + "y", "x + _" + "a" * 5000, "x + " + "a" * 5000 + "(2)",
                 "x + 1" + "0" * 400 + "..5", "1" + "0" * 500 + " * x", "x" + "+x" * 6_000):
        with pytest.raises(ExpressionError) as info:
            parse(text)
        err = info.value
        assert len(err.reason) <= 200, err.reason[:300]
        assert "\n" not in err.reason
        assert all(len(line) <= 300 for line in str(err).splitlines())
        assert len(err.one_line()) <= 600


def test_one_line_names_the_column_and_quotes_around_it():
    with pytest.raises(ExpressionError) as info:
        parse("x + 2y")
    assert info.value.one_line().startswith("at column 6, near 'x + 2y': missing operator")
    text = "x" + "+x" * 200 + "+ 2y" + "+x" * 200
    with pytest.raises(ExpressionError) as info:
        parse(text)
    line = info.value.one_line()
    near = re.search(r"near '(.*?)': ", line).group(1)
    assert "2y" in near and len(near) <= 70 and near.startswith("...")


# ----- item 13: the library ---------------------------------------------------------------------
@pytest.mark.parametrize(("f", "kwargs", "match"), [
    (d.log, dict(x0=-1.0), r"f is not finite at x0 = -1 \(f = nan\).*inside f's domain"),
    (lambda x: 1 / x, dict(x0=0.0), r"f is not finite at x0 = 0 \(f = inf\)"),
    (d.sqrt, dict(x0=0.0), r"gradient of f is not finite at x0 = 0"),
    (lambda x: x**2, dict(bounds=(1e300, 1e308), restarts=4, random_state=0),
     r"not finite at any of the 4 random starts .*bounds"),
])
def test_a_start_where_f_is_not_finite_is_a_start_error(f, kwargs, match):
    with pytest.raises(minimize_module.StartError, match=match) as info:
        d.minimize(f, **kwargs)
    assert isinstance(info.value, ValueError)
    assert not np.isfinite(info.value.value) or info.value.gradient


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(x0=float("nan")), r"x0 must hold finite numbers"),
    (dict(x0=[1.0, float("inf")]), r"x0 must hold finite numbers"),
    (dict(bounds=(-1e308, 1e308)), r"bounds are too wide.*narrower"),
    (dict(bounds=[(0, 1), (-1e308, 1e308)]), r"bounds are too wide"),
    (dict(bounds=(0, float("nan"))), r"bounds must be finite"),
    (dict(x0=1.0, learning_rate=float("inf")), r"learning_rate must be a positive finite"),
    (dict(bounds=(0, 1), restarts=100_001), r"restarts must be from 1 to 100,000"),
])
def test_the_library_refuses_the_same_bad_input_with_a_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        d.minimize(lambda x: (x**2).sum(), **kwargs)


def test_random_starts_outside_the_domain_are_skipped_and_the_best_is_finite():
    r = d.minimize(d.log, bounds=(-1, 3), restarts=12, random_state=0, learning_rate=0.1,
                   epochs=20)
    skipped = [run for run in r.runs if run.status == "skipped"]
    assert skipped and len(skipped) < len(r.runs)
    assert all("not finite at this random start" in run.message for run in skipped)
    assert r.status != "skipped" and np.isfinite(r.fun) and float(r.x) > 0


# ----- item 15: --restarts, progress and Ctrl-C ------------------------------------------------
def _read_until(stream, pattern: str, seconds: float) -> str:
    """What ``stream`` printed, once it matches ``pattern`` (or ``seconds`` have passed)."""
    seen, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.2)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                break
            seen += chunk
            if re.search(pattern, seen.decode(errors="replace")):
                break
    return seen.decode(errors="replace")


# rich draws its live progress bar on a stream it is told is an interactive terminal.
TERMINAL = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "NO_COLOR": "1"}


@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_during_many_restarts_prints_the_best_so_far_and_exits_130(as_json):
    args = ["minimize", QUARTIC, "--bounds", "-2:2", "--restarts", "100000"]
    child = subprocess.Popen([*COMMAND, *args, *(["--json"] if as_json else [])],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "COLUMNS": "120", **TERMINAL})
    try:
        if as_json:  # no progress bar to watch: let a few runs finish
            time.sleep(10)
            shown = ""
        else:
            shown = _read_until(child.stderr, r"restarts\s+([3-9]|\d\d[\d,]*)/100,000", 120)
            assert re.search(r"restarts\s+[\d,]+/100,000", shown), shown[-2000:]
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    out, err = out.decode(), shown + err.decode()
    assert child.returncode == 130, (out, err[-3000:])
    assert "Traceback" not in err
    assert re.search(r"interrupted \(Ctrl-C\) after [\d,]+ of 100,000 runs", err), err[-2000:]
    if as_json:
        import json

        payload = json.loads(out)
        assert payload["interrupted"] is True and 0 < payload["runs"] < 100_000
        assert payload["value"] == pytest.approx(-3.513905, abs=1e-4)  # the global minimum
        assert "restarts" not in err  # no progress bar with --json
    else:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", out)  # bold names, even with NO_COLOR
        assert re.search(r"value\W+-3\.5139", plain), out
        assert "interrupted" in out


@pytest.mark.parametrize("flag", ["--json", "--quiet"])
def test_no_progress_bar_with_json_or_quiet(flag):
    out = run_cli("minimize", QUARTIC, "--bounds", "-2:2", "--restarts", "5", flag, env=TERMINAL)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


def test_ctrl_c_in_the_library_stops_before_the_next_run_and_keeps_the_best():
    before = signal.getsignal(signal.SIGINT)

    def press_after_third(done, total, run):
        if done == 3:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)  # the handler runs between bytecodes: let it

    with pytest.warns(UserWarning, match=r"interrupted \(Ctrl-C\) after 3 of 1,000 runs"):
        r = d.minimize(three_valleys, bounds=(0, 6), restarts=1000, random_state=0,
                       learning_rate=0.05, on_run=press_after_third)
    assert signal.getsignal(signal.SIGINT) is before
    assert r.interrupted and len(r.runs) == 3
    assert r.fun == min(run.fun for run in r.runs) and np.isfinite(r.fun)


def test_ctrl_c_inside_a_run_ends_it_after_that_step_with_a_consistent_path():
    def press_at_step_7(step, x, fx):
        if step == 7:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)

    with pytest.warns(UserWarning, match="interrupted"):
        r = d.minimize(lambda x: (x**2).sum(), x0=[3.0, -4.0], learning_rate=1e-4,
                       epochs=100_000, callback=press_at_step_7)
    assert r.interrupted and r.status == "interrupted" and r.n_steps == 7
    assert len(r.path) == len(r.losses) == 8
    assert np.array_equal(r.x, r.path[-1]) and r.fun == r.losses[-1]


def test_a_second_ctrl_c_stops_at_once():
    def press_twice(done, total, run):
        if done == 2:
            for _ in range(2):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)

    with pytest.raises(KeyboardInterrupt):
        d.minimize(lambda x: x**2, bounds=(-1, 1), restarts=10, on_run=press_twice)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ----- item 15: cost limits ----------------------------------------------------------------------
def _frames() -> int:
    frame, n = sys._getframe(), 0
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def test_the_deepest_allowed_expression_needs_no_recursion():
    deepest = ["(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH, "-" * MAX_DEPTH + "x",
               "exp(" * (MAX_DEPTH // 2) + "x" + ")" * (MAX_DEPTH // 2),
               "x**" * MAX_DEPTH + "x"]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frames() + 60)  # room for a few calls, far fewer than the depth
    try:
        results = []
        for text in deepest:  # exp(exp(...)) overflows to inf: fine, and not the point here
            e = parse(text)
            x = d.Tensor(1.0)
            with np.errstate(over="ignore", invalid="ignore"):
                out = e(x=x)
                out.backward()
            results.append((out.item(), float(x.grad), str(e)))
        with pytest.raises(ExpressionError, match="nests more than 200"):
            parse("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    finally:
        sys.setrecursionlimit(limit)
    assert results[0][:2] == (1.0, 1.0) and results[1][:2] == (1.0, 1.0)
    assert results[3][:2] == (1.0, 1.0)


def _best_time(fn) -> float:
    return min(timeit.repeat(fn, number=1, repeat=5))


def _long_sum(terms: int) -> Expression:
    """A sum of ``terms`` variables, built past parse's length limit to show growth."""
    program = [("variable", "x", None)]
    for _ in range(terms - 1):
        program += [("variable", "x", None), ("binary", "-", None)]
    return Expression("x" + "-x" * (terms - 1), program)


def test_printing_an_expression_takes_time_linear_in_its_size():
    small, large = _long_sum(25_000), _long_sum(200_000)  # 8 times the terms
    assert str(small) == "x" + " - x" * 24_999
    ratio = _best_time(lambda: str(large)) / _best_time(lambda: str(small))
    assert ratio < 20, ratio  # linear: about 8; quadratic: about 64


def test_an_expression_at_the_length_limit_parses_and_differentiates_quickly():
    text = "x" + "+x" * ((MAX_LENGTH - 1) // 2)  # 9,999 characters, 5,000 terms
    f = parse(text).as_function()
    seconds = _best_time(lambda: d.value_and_grad(parse(text).as_function())(1.0))
    assert d.value_and_grad(f)(1.0) == (5000.0, 5000.0)
    assert seconds < 2.0
