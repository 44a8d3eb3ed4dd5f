"""Run the benchmarks and rewrite BENCHMARKS.md.

    python bench/run.py               # full run (make bench)
    python bench/run.py --quick       # a smoke run on smaller data (used by the tests)
    python bench/run.py --out FILE    # write somewhere other than BENCHMARKS.md
    python bench/run.py --only bench_mlp bench_growth   # some suites only

Each suite is a module here with ``run(quick) -> list[Table]``. A suite that fails is
reported in the file and makes the run exit with status 1; the others still run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from common import machine_record, reexec_without_blas_overrides  # noqa: E402

SUITES = [
    "bench_engine",   # the computation-graph engine against NumPy by hand
    "bench_models",   # the training loop and fit time per epoch against scikit-learn
    # Targets 1-3 (compiled linear kernels: full-batch epoch against one read of X, batch-1
    # SGD against SGDClassifier, mini-batch 256 against NumPy and PyTorch) live in
    # bench_kernels.py, written with the kernels; it is skipped with a note while absent.
    "bench_kernels",
    "bench_optimum",  # target 4: time to reach within 0.001 of the optimal log loss
    "bench_mlp",      # target 5: one MLP epoch against scikit-learn, PyTorch and NumPy
    "bench_memory",   # target 6: peak resident memory during a fit
    "bench_growth",   # target 7: time per epoch against rows and features
    "bench_expression",  # issue 11 item 15: parse + gradient of a typed formula, linear
    "bench_playground",
]


def _target_lines(sections: list[tuple[str, object]]) -> list[str]:
    lines = []
    for _, table in sections:
        lines += [f"- {v} (in \"{table.title}\")" for v in table.verdicts if "target" in v]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--out", type=Path, default=HERE.parent / "BENCHMARKS.md")
    parser.add_argument("--only", nargs="+", metavar="SUITE", help="run only these suites")
    args = parser.parse_args(argv)
    cleared = reexec_without_blas_overrides()
    load_at_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    args.out = args.out.resolve()
    common.OUT_DIR = args.out.parent

    started = time.perf_counter()
    sections, notes, failed = [], [], []
    for name in args.only or SUITES:
        if not (HERE / f"{name}.py").exists():
            notes.append(f"- suite `{name}` is not in bench/ yet: its tables are missing")
            print(f"{name}: not present, skipped", file=sys.stderr)
            continue
        began = time.perf_counter()
        try:
            module = __import__(name)
            tables = module.run(quick=args.quick)
        except Exception:
            failed.append(name)
            notes.append(f"- suite `{name}` FAILED:\n\n```\n{traceback.format_exc()}```")
            traceback.print_exc()
            continue
        for table in tables:
            print(table.markdown(), flush=True)
            sections.append((name, table))
        print(f"{name}: {time.perf_counter() - began:.0f} s", file=sys.stderr, flush=True)

    command = "make bench" if not args.quick else "python bench/run.py --quick"
    header = [
        "# Benchmarks",
        "",
        f"Written by `{command}` in {time.perf_counter() - started:.0f} s. Each table has one "
        "row per method: the time is the median of at least 5 runs after a warm-up (the quick "
        "smoke run may use fewer), with the minimum and maximum in brackets; the methods of a "
        "table run in alternation, round after round, and every ratio is the median of the "
        "per-round ratios to the table's reference, measured in the same run.",
        "",
        machine_record(cleared, load_at_start),
        "",
        "## Targets",
        "",
        *(_target_lines(sections) or ["- no target was measured in this run"]),
        *notes,
        "",
    ]
    text = "\n".join(header) + "\n" + "\n".join(table.markdown() for _, table in sections)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)  # never leave a half-written file behind
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
