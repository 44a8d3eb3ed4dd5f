"""Run the benchmarks and rewrite BENCHMARKS.md.

    python bench/run.py            # full run
    python bench/run.py --quick    # a smoke run on smaller data (used by the tests)
    python bench/run.py --out FILE # write somewhere other than BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import machine_record, reexec_without_blas_overrides  # noqa: E402

SUITES = ["bench_engine", "bench_models"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--out", type=Path, default=HERE.parent / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    cleared = reexec_without_blas_overrides()

    started = time.perf_counter()
    sections = []
    for name in SUITES:
        module = __import__(name)
        for table in module.run(quick=args.quick):
            print(table.markdown())
            sections.append(table.markdown())
    command = "make bench" if not args.quick else "python bench/run.py --quick"
    header = [
        "# Benchmarks",
        "",
        f"Written by `{command}` in {time.perf_counter() - started:.0f} s. Times are the median of",
        "repeated runs after a warm-up, with the minimum and maximum in brackets; every ratio",
        "compares two methods measured in the same run.",
        "",
        machine_record(cleared),
        "",
    ]
    text = "\n".join(header) + "\n" + "\n".join(sections)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(args.out)  # never leave a half-written file behind
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
