"""The benchmark suite stays runnable: a quick smoke run writes its tables."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_run_writes_its_tables(tmp_path):
    out = tmp_path / "BENCH.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.startswith("# Benchmarks")
    assert "Engine gradient of the logistic log loss" in text
    assert "Engine cost per operation" in text
    assert "BLAS" in text
    # Every table has its header row and at least two measured rows.
    assert text.count("| descent engine |") == 2
    assert "Training loop per mini-batch" in text and "Fit time per epoch" in text
