"""The command line, run as a user runs it: in a subprocess."""

import os
import subprocess
import sys

import descent


def run_cli(*args):
    env = {**os.environ, "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "descent.cli", *args], capture_output=True, text=True,
        timeout=120, env=env,
    )


def test_demo_walks_through_the_seeds_examples():
    out = run_cli("demo")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for heading in ("computation graph", "One weight", "random restarts", "Too small"):
        assert heading in text
    # Seed 002's gradients and the learning-rate verdicts appear with their numbers.
    graph_rows = [line for line in text.splitlines() if line.startswith("c ") and "input" in line]
    assert graph_rows and graph_rows[0].split()[-1] == "9"
    assert "1 step " in text and "diverged" in text
    assert "Traceback" not in out.stderr


def test_version_and_help():
    out = run_cli("--version")
    assert out.returncode == 0 and descent.__version__ in out.stdout
    out = run_cli("--help")
    assert out.returncode == 0 and "demo" in out.stdout


def test_unknown_command_is_one_clear_error_without_traceback():
    out = run_cli("dmeo")
    assert out.returncode == 2
    assert "No such command" in out.stderr and "Traceback" not in out.stderr
