"""The benchmark suite stays runnable: a quick smoke run writes every table it promises.

It checks that the suite runs and writes its tables with their headings and columns,
not how fast anything is (the machine running the tests may be busy).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Each benchmark's heading, and the columns its table must have.
TABLES = {
    "Engine gradient of the logistic log loss": ["time: median (min-max)", "throughput",
                                                 "ratio to NumPy by hand (paired)"],
    "Engine cost per operation": ["throughput", "µs per operation"],
    "Training loop per mini-batch": ["per mini-batch", "throughput", "loss reached",
                                     "ratio to bare NumPy loop (paired)"],
    "Fit time per epoch": ["time per epoch", "throughput", "loss reached", "score"],
    "Time to within 0.001 of the optimal training log loss": [
        "time: median (min-max)", "throughput", "gap to the optimum",
        "ratio to scikit-learn default fit (paired)"],
    "MLP 100-64-1, one epoch at batch 256": ["per step", "throughput", "loss reached",
                                             "ratio to scikit-learn (paired)",
                                             "ratio to PyTorch (paired)"],
    "Peak memory during a fit": ["peak growth: median (min-max)", "growth / size of X",
                                 "excess over X + y + model"],
    "Growth of the time per epoch": ["time: median (min-max) per epoch", "throughput",
                                     "loss reached"],
    "Expression cost: parse and gradient time against the length of the text": [
        "prepare: time: median (min-max)", "gradient: time: median (min-max)",
        "throughput (prepare + gradient)"],
    "Playground under load: model-lab steps from many users": [
        "steps answered", "errors", "step latency p50", "p99", "server CPU per step",
        "server memory (RSS)"],
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "BENCH.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return out


def _section(text: str, heading: str) -> str:
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def test_the_record_names_the_machine_libraries_and_blas(quick_run):
    text = quick_run.read_text()
    assert text.startswith("# Benchmarks")
    for needle in ("machine:", "Python", "NumPy", "scikit-learn", "thread pool:",
                   "OPENBLAS_CORETYPE", "load average"):
        assert needle in text, needle


@pytest.mark.parametrize("heading", list(TABLES))
def test_each_benchmark_writes_its_table(quick_run, heading):
    section = _section(quick_run.read_text(), heading)
    header = next(line for line in section.splitlines() if line.startswith("| "))
    first = {"Growth": "series", "Expression": "shape",
             "Playground": "clients x steps/s"}.get(heading.split()[0], "method")
    for column in [first, *TABLES[heading]]:
        assert f" {column} |" in header, (heading, column)
    rows = [line for line in section.splitlines()
            if line.startswith("| ") and line != header and not line.startswith("| ---")]
    assert len(rows) >= 2, heading
    width = header.count("|")
    assert all(row.count("|") == width for row in rows), heading


def test_every_target_gets_a_verdict_and_unmet_ones_say_what_bounds_them(quick_run):
    text = quick_run.read_text()
    targets = _section(text, "Targets")
    for number in (4, 5, 6, 7):
        assert re.search(rf"- target {number} \(.*\): (met|not met) \(", targets), number
    for heading in TABLES:
        section = _section(text, heading)
        if re.search(r"target \d \(.*\): not met", section):
            assert "what bounds it:" in section, heading


def test_the_growth_figure_is_written_beside_the_file(quick_run):
    section = _section(quick_run.read_text(), "Growth of the time per epoch")
    link = re.search(r"!\[[^\]]*\]\(([^)]+)\)", section).group(1)
    figure = quick_run.parent / link
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
