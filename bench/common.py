"""Shared pieces of the benchmarks: timing, the machine record, Markdown tables."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# These two force a slower OpenBLAS kernel on some machines here. Benchmarks clear
# them for their own process (tests and CI leave them alone).
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def reexec_without_blas_overrides() -> list[str]:
    """Restart this script without the BLAS overrides; returns those that were cleared."""
    cleared = [k for k in BLAS_OVERRIDES if k in os.environ]
    if cleared and os.environ.get("DESCENT_BENCH_CHILD") != "1":
        env = {k: v for k, v in os.environ.items() if k not in BLAS_OVERRIDES}
        env["DESCENT_BENCH_CLEARED"] = ",".join(cleared)
        env["DESCENT_BENCH_CHILD"] = "1"
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    return [k for k in os.environ.get("DESCENT_BENCH_CLEARED", "").split(",") if k]


@dataclass
class Timing:
    """Seconds per call: median, min and max over ``repeats`` runs after a warm-up."""

    median: float
    low: float
    high: float
    repeats: int


def measure(fn: Callable[[], object], repeats: int = 7, warmup: int = 1, inner: int = 1) -> Timing:
    """Time ``fn``; with ``inner`` > 1 each sample is the mean of that many calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return Timing(statistics.median(samples), min(samples), max(samples), repeats)


def measure_pair(
    reference: Callable[[], object], candidate: Callable[[], object], repeats: int = 15,
    inner: int = 1,
) -> tuple[Timing, Timing, float]:
    """Time two functions in alternation, so drift in the machine hits both alike.

    Returns both timings and the median of the per-round ratios candidate / reference.
    """
    ref, cand, ratios = [], [], []
    for fn in (reference, candidate):
        fn()  # warm-up
    for _ in range(repeats):
        pair = []
        for fn in (reference, candidate):
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            pair.append((time.perf_counter() - start) / inner)
        ref.append(pair[0])
        cand.append(pair[1])
        ratios.append(pair[1] / pair[0])

    def timing(samples: list[float]) -> Timing:
        return Timing(statistics.median(samples), min(samples), max(samples), repeats)

    return timing(ref), timing(cand), statistics.median(ratios)


@dataclass
class Table:
    """One benchmark's results: a title, a note, column names and rows."""

    title: str
    note: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", self.note, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("| " + " | ".join("---" for _ in self.columns) + " |")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.verdicts:
            lines.append("")
            lines += [f"- {v}" for v in self.verdicts]
        return "\n".join(lines) + "\n"


def fmt_time(t: Timing) -> str:
    """median (min-max) in a readable unit."""
    scale, unit = (1e6, "µs") if t.median < 1e-3 else (1e3, "ms") if t.median < 1 else (1, "s")
    return f"{t.median * scale:.3g} {unit} ({t.low * scale:.3g}-{t.high * scale:.3g})"


def machine_record(cleared: list[str]) -> str:
    """Markdown lines naming the machine, the library versions and the BLAS in use."""
    import numpy as np

    lines = [
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}",
    ]
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lines.append(
                f"- BLAS: {pool.get('internal_api')} {pool.get('version')} "
                f"({pool.get('architecture')}, {pool.get('num_threads')} threads)"
            )
    except ImportError:
        lines.append("- BLAS: unknown (threadpoolctl not installed)")
    if cleared:
        lines.append(f"- cleared for this run: {', '.join(cleared)} (they force a slower kernel)")
    else:
        lines.append("- no BLAS overrides were set")
    return "\n".join(lines)
