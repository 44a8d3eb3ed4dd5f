"""Shared pieces of the benchmarks: timing, data, the machine record, Markdown tables.

Every table has one row per method: the time (median of at least 5 runs after a
warm-up, with the minimum and maximum), a throughput, the loss reached where it means
something, and the ratio to the table's reference measured in the same run (methods
run in alternation, round after round, and the ratio is the median of the per-round
ratios, so drift in a shared machine hits every method alike).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# These two force a slower OpenBLAS kernel on some machines here. Benchmarks clear
# them for their own process (tests and CI leave them alone).
BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# Where the run writes BENCHMARKS.md; figures go under it (run.py sets it).
OUT_DIR = Path(__file__).resolve().parents[1]
FIGURES = "bench/figures"


def reexec_without_blas_overrides() -> list[str]:
    """Restart this script without the BLAS overrides; returns those that were cleared."""
    cleared = [k for k in BLAS_OVERRIDES if k in os.environ]
    if cleared and os.environ.get("DESCENT_BENCH_CHILD") != "1":
        env = {k: v for k, v in os.environ.items() if k not in BLAS_OVERRIDES}
        env["DESCENT_BENCH_CLEARED"] = ",".join(cleared)
        env["DESCENT_BENCH_CHILD"] = "1"
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    return [k for k in os.environ.get("DESCENT_BENCH_CLEARED", "").split(",") if k]


def figure_path(name: str) -> tuple[Path, str]:
    """Where to save a figure, and the link to it relative to BENCHMARKS.md."""
    folder = OUT_DIR / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name, f"{FIGURES}/{name}"


# ----- timing ------------------------------------------------------------------------------
@dataclass
class Timing:
    """Seconds per call: median, min and max over ``repeats`` runs after a warm-up."""

    median: float
    low: float
    high: float
    repeats: int

    @classmethod
    def of(cls, samples: list[float]) -> Timing:
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))


def measure(fn: Callable[[], object], repeats: int = 5, warmup: int = 1, inner: int = 1) -> Timing:
    """Time ``fn``; with ``inner`` > 1 each sample is the mean of that many calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - start) / inner)
    return Timing.of(samples)


def measure_pair(
    reference: Callable[[], object], candidate: Callable[[], object], repeats: int = 15,
    inner: int = 1,
) -> tuple[Timing, Timing, float]:
    """Time two functions in alternation, so drift in the machine hits both alike.

    Returns both timings and the median of the per-round ratios candidate / reference.
    """
    group = measure_group({"ref": reference, "cand": candidate}, "ref", repeats, inner=inner)
    return group.timings["ref"], group.timings["cand"], group.ratios["cand"]


@dataclass
class Group:
    """Timings of several methods run in alternation, and their paired ratios."""

    timings: dict[str, Timing]
    ratios: dict[str, float]  # median over rounds of time / reference's time that round
    last: dict[str, object]  # each method's last return value (a fitted model, ...)

    def ratio_to(self, name: str, reference: str) -> float:
        """Median of per-round ratios against another member than the group's reference."""
        return statistics.median(
            a / b for a, b in zip(self.samples[name], self.samples[reference], strict=True))

    samples: dict[str, list[float]] = field(default_factory=dict)


def measure_group(
    methods: dict[str, Callable[[], object]], reference: str, repeats: int = 5,
    warmup: int = 1, inner: int = 1, timer: Callable[[object, float], float] | None = None,
) -> Group:
    """Time every method once a round, for ``repeats`` rounds, after ``warmup`` rounds.

    The order within a round rotates, so no method always follows the same neighbour.
    ``timer(result, wall)`` may turn a call's result and wall time into the sample (for
    example a time measured inside a fit); by default the sample is the wall time.
    """
    names = list(methods)
    samples = {name: [] for name in names}
    last: dict[str, object] = {}
    for round_ in range(warmup + repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            for _ in range(inner):
                last[name] = methods[name]()
            wall = (time.perf_counter() - start) / inner
            if round_ >= warmup:
                samples[name].append(wall if timer is None else timer(last[name], wall))
    timings = {name: Timing.of(s) for name, s in samples.items()}
    ratios = {
        name: statistics.median(a / b for a, b in zip(s, samples[reference], strict=True))
        for name, s in samples.items()
    }
    return Group(timings, ratios, last, samples)


# ----- data --------------------------------------------------------------------------------
def linear_data(n: int, p: int, seed: int = 0, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
    """Standard normal X (written in place: no temporary the size of X) and 0/1 labels.

    The labels come from a random linear model on the first min(p, 10) features plus
    noise, so the classes overlap and the log loss has a finite optimum.
    """
    rng = np.random.default_rng(seed)
    X = np.empty((n, p), dtype=dtype)
    rng.standard_normal(dtype=dtype, out=X)
    k = min(p, 10)
    w = rng.normal(size=k)
    z = X[:, :k] @ w.astype(dtype)
    z += rng.normal(scale=1.0, size=n).astype(dtype)
    return X, (z > 0).astype(np.int64)


def score_log_loss(y: np.ndarray, scores: np.ndarray) -> float:
    """Mean binary log loss of sigmoid(``scores``) against 0/1 ``y``, computed stably."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    return float(np.mean(np.logaddexp(0.0, s) - np.asarray(y).ravel() * s))


def log_loss(y: np.ndarray, proba: np.ndarray) -> float:
    """Mean binary log loss of P(y = 1) = ``proba``, clipped like scikit-learn's."""
    eps = np.finfo(np.float64).eps
    p = np.clip(np.asarray(proba, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


# ----- formatting --------------------------------------------------------------------------
def fmt_seconds(seconds: float) -> str:
    """A duration in a readable unit."""
    scale, unit = (1e6, "µs") if seconds < 1e-3 else (1e3, "ms") if seconds < 1 else (1, "s")
    return f"{seconds * scale:.3g} {unit}"


def fmt_time(t: Timing) -> str:
    """median (min-max) in a readable unit."""
    scale, unit = (1e6, "µs") if t.median < 1e-3 else (1e3, "ms") if t.median < 1 else (1, "s")
    return f"{t.median * scale:.3g} {unit} ({t.low * scale:.3g}-{t.high * scale:.3g})"


def fmt_rate(per_second: float, unit: str = "samples/s") -> str:
    """A throughput: 12.3 M samples/s."""
    for scale, prefix in ((1e9, "G "), (1e6, "M "), (1e3, "k ")):
        if per_second >= scale:
            return f"{per_second / scale:.3g} {prefix}{unit}"
    return f"{per_second:.3g} {unit}"


def fmt_bandwidth(nbytes: float, seconds: float) -> str:
    return f"{nbytes / seconds / 1e9:.3g} GB/s"


def fmt_ratio(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def fmt_loss(loss: float | None) -> str:
    return "-" if loss is None else f"{loss:.6f}"


def verdict(number: int | str, what: str, ratio: float, limit: float, at_most: bool = True,
            unit: str = "x") -> str:
    """The line each target gets: ``target N (what): met / not met (ratio)``."""
    met = ratio <= limit if at_most else ratio >= limit
    bound = "at most" if at_most else "at least"
    shown = f"{ratio:.2f}{unit}" if np.isfinite(ratio) else "never reached"
    return (f"target {number} ({what}, {bound} {limit:g}{unit}): "
            f"{'met' if met else 'not met'} ({shown})")


# ----- tables ------------------------------------------------------------------------------
TIME = "time: median (min-max)"
THROUGHPUT = "throughput"
LOSS = "loss reached"


def ratio_column(reference: str) -> str:
    return f"ratio to {reference} (paired)"


@dataclass
class Table:
    """One benchmark's results: a title, a note, column names, rows, verdicts and bounds.

    ``verdicts`` are the target lines; ``bounds`` say, with a measurement, what keeps
    a target that is not met from being met; ``extra`` is any Markdown after them (a
    figure, a second small table).
    """

    title: str
    note: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    bounds: list[str] = field(default_factory=list)
    extra: str = ""

    def add(self, *cells) -> None:
        row = [str(c) for c in cells]
        if len(row) != len(self.columns):
            raise ValueError(f"{self.title}: row {row} does not match columns {self.columns}")
        self.rows.append(row)

    def markdown(self) -> str:
        lines = [f"## {self.title}", "", self.note, ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("| " + " | ".join("---" for _ in self.columns) + " |")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.verdicts:
            lines.append("")
            lines += [f"- {v}" for v in self.verdicts]
        if self.bounds:
            lines.append("")
            lines += [f"- what bounds it: {b}" for b in self.bounds]
        if self.extra:
            lines += ["", self.extra]
        return "\n".join(lines) + "\n"


# ----- the machine -------------------------------------------------------------------------
def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception:  # not installed, or broken: say so rather than fail the run
        return None
    return getattr(mod, "__version__", "?")


def machine_record(cleared: list[str], load_at_start: float | None = None) -> str:
    """Markdown lines naming the machine, the library versions and the BLAS in use."""
    import numpy as np

    versions = [f"NumPy {np.__version__}"]
    for label, module in (("scikit-learn", "sklearn"), ("SciPy", "scipy"), ("Numba", "numba"),
                          ("PyTorch", "torch"), ("descent", "descent")):
        found = _version(module)
        versions.append(f"{label} {found}" if found else f"{label} not installed")
    lines = [
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        f"- Python {platform.python_version()}, " + ", ".join(versions),
    ]
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            lines.append(
                f"- thread pool: {pool.get('internal_api')} {pool.get('version') or ''} "
                f"({pool.get('architecture') or pool.get('user_api')}, "
                f"{pool.get('num_threads')} threads) from {Path(pool.get('filepath', '')).name}"
            )
    except ImportError:
        lines.append("- BLAS: unknown (threadpoolctl not installed)")
    if cleared:
        lines.append(f"- BLAS overrides cleared for this run (the script re-executed itself "
                     f"without them; they force a slower kernel): {', '.join(cleared)}")
    else:
        lines.append("- BLAS overrides: neither OPENBLAS_CORETYPE nor OPENBLAS_L2_SIZE was "
                     "set (run.py re-executes itself without them when they are)")
    if load_at_start is not None:
        busy = "other processes were running: absolute times are noisy, and the paired " \
            "ratios are the numbers to trust" if load_at_start > 0.5 else "the machine was idle"
        lines.append(f"- load average (1 min) before the benchmarks began: {load_at_start:.2f} "
                     f"on {os.cpu_count()} cores; {busy}")
    return "\n".join(lines)


def numpy_minibatch_logistic(X, yf, *, learning_rate: float, batch: int, epochs: int = 1):
    """The reference loop: descent's mini-batch arithmetic in bare NumPy, nothing else.

    Each epoch gathers shuffled batches, computes scores, the loss (as descent records it),
    the gradient and a plain gradient step. Returns the weights and the intercept.
    """
    from descent.numerics import sigmoid

    n, p = X.shape
    rng = np.random.default_rng(0)
    w, b = np.zeros(p), 0.0
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            Xb, yb = X[idx], yf[idx]
            z = Xb @ w + b
            loss = np.mean(np.logaddexp(0, z) - yb * z)  # noqa: F841 - the loop records it
            r = (sigmoid(z) - yb) / len(idx)
            w = w - learning_rate * (Xb.T @ r)
            b = b - learning_rate * r.sum()
    return w, b
