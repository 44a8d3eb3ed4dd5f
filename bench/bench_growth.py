"""Target 7: how the time per epoch grows with the rows and with the features.

descent's LogisticRegression on its default path (Adam, batch 32, standardized) with a
fixed number of epochs and tol=None, on standard normal data: rows from 10^4 to 10^7
at 10 features, and features from 10 to 1,000 at 10^5 rows. The exponent k of
time ~ size^k is fitted by least squares on the log-log points, over the whole range
and over its upper half (where the data, not the fixed cost per step, dominates).
Both series are drawn into a PNG beside BENCHMARKS.md. Target: about 1 (no worse than
linear) in each.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from common import (
    LOSS,
    THROUGHPUT,
    TIME,
    Table,
    figure_path,
    fmt_loss,
    fmt_rate,
    fmt_time,
    linear_data,
    measure_group,
)

import descent as d

# The first epoch is left out: the per-epoch time is from the history's clock. Small
# data runs more epochs, so that one fit lasts long enough to time on a busy machine.
EPOCHS = 3


def _epochs(n: int) -> int:
    return max(EPOCHS, min(50, 1_000_000 // n))
FEATURES_AT, ROWS_AT = 10, 100_000


def _per_epoch(model, wall):
    """Seconds per epoch from the fit's own clock, after its first epoch."""
    t = model.history_.time
    return (t[-1] - t[0]) / (len(t) - 1)


def _series(sizes, make_data, repeats, **settings):
    """[(size, Timing, final loss, shape)] for one axis."""
    out = []
    for size in sizes:
        X, y = make_data(size)
        model = d.LogisticRegression(epochs=_epochs(len(X)), tol=None, random_state=0,
                                     batch_size=32, **settings)  # fixed: "auto" grows with n
        group = measure_group({"fit": lambda X=X, y=y, m=model: m.fit(X, y)}, "fit",
                              repeats=repeats, timer=_per_epoch)
        out.append((size, group.timings["fit"], model.history_.loss[-1], X.shape))
        del X, y
    return out


def _caches() -> str:
    """The CPU's cache sizes, e.g. "L1d 48K, L2 2048K, L3 ...", from sysfs."""
    found = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind != "Instruction":
            found.append(f"L{level}{'d' if kind == 'Data' else ''} {size}")
    return ", ".join(found) or "sizes unknown"


def _exponent(points) -> tuple[float, float]:
    """Least-squares slope of log(time) on log(size): all points, and the upper half."""
    sizes = np.log([s for s, *_ in points])
    times = np.log([t.median for _, t, *_ in points])
    whole = float(np.polyfit(sizes, times, 1)[0])
    half = len(points) // 2
    upper = float(np.polyfit(sizes[half:], times[half:], 1)[0]) if len(points) - half >= 2 \
        else whole
    return whole, upper


def _plot(rows, features, fits) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, points, (whole, _), xlabel, fixed in (
        (axes[0], rows, fits[0], "rows", f"{FEATURES_AT} features"),
        (axes[1], features, fits[1], "features", f"{features[0][3][0]:,} rows"),
    ):
        x = np.array([s for s, *_ in points], dtype=float)
        t = np.array([tm.median for _, tm, *_ in points])
        low = np.array([tm.low for _, tm, *_ in points])
        high = np.array([tm.high for _, tm, *_ in points])
        ax.errorbar(x, t, yerr=[t - low, high - t], fmt="o", capsize=3, label="measured")
        slope, icpt = np.polyfit(np.log(x), np.log(t), 1)
        ax.plot(x, np.exp(icpt) * x**slope, "-", label=f"fit: time ~ {xlabel}^{whole:.2f}")
        ax.plot(x, t[0] * x / x[0], ":", color="gray", label="linear from the first point")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(f"{xlabel} ({fixed})")
        ax.set_ylabel("seconds per epoch")
        ax.legend()
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("descent LogisticRegression (default path): time per epoch")
    fig.tight_layout()
    path, link = figure_path("growth.png")
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.replace(tmp, path)  # a reader never sees half a picture
    return link


def growth(quick: bool) -> Table:
    if quick:
        row_sizes, feature_sizes, rows_at, repeats = [10_000, 30_000, 100_000], \
            [10, 30, 100], 20_000, 5
    else:
        row_sizes = [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]
        feature_sizes, rows_at, repeats = [10, 30, 100, 300, 1_000], ROWS_AT, 5
    rows = _series(row_sizes, lambda n: linear_data(n, FEATURES_AT), repeats)
    features = _series(feature_sizes, lambda p: linear_data(rows_at, p), repeats)
    fits = (_exponent(rows), _exponent(features))
    link = _plot(rows, features, fits)

    table = Table(
        title="Growth of the time per epoch with rows and features (target 7)",
        note=f"descent LogisticRegression with its defaults (Adam, batch 32, standardized), "
             f"{EPOCHS} to 50 epochs (10^6 rows in all where that is more), tol=None, on "
             "standard normal data with labels from a linear model. The time per epoch is "
             "read from the fit's own clock (history_.time) "
             f"after the first epoch; median (min-max) over {repeats} fits after a warm-up "
             "fit. The loss reached is the last epoch's mean training objective. The last "
             "column is the time per row (or per feature) relative to the first size of the "
             "series: 1.00 is linear growth.",
        columns=["series", "size", TIME + " per epoch", THROUGHPUT, LOSS,
                 "time per unit / first size's"],
    )
    for name, points in ((f"rows ({FEATURES_AT} features)", rows),
                         (f"features ({rows_at:,} rows)", features)):
        size0, t0 = points[0][0], points[0][1].median
        for size, t, loss, shape in points:
            table.add(name, f"{shape[0]:,} x {shape[1]:,}", fmt_time(t),
                      fmt_rate(shape[0] / t.median), fmt_loss(loss),
                      f"{(t.median / size) / (t0 / size0):.2f}")
    for axis, (whole, upper) in zip(("rows", "features"), fits, strict=True):
        met = whole <= 1.2 and upper <= 1.2
        table.verdicts.append(
            f"target 7 (time per epoch against {axis}, exponent about 1, at most 1.2): "
            f"{'met' if met else 'not met'} (exponent {whole:.2f} over the whole range, "
            f"{upper:.2f} over its upper half)"
        )
        if not met and axis == "rows":
            # Is it the reading of rows in a shuffled order? The same fit without shuffling.
            n_big = row_sizes[-1]
            (_, plain, *_), = _series([n_big], lambda n: linear_data(n, FEATURES_AT), repeats,
                                      shuffle=False)
            per_row = [t.median / size * 1e9 for size, t, *_ in rows]
            table.add(f"rows ({FEATURES_AT} features), shuffle=False", f"{n_big:,} x "
                      f"{FEATURES_AT}", fmt_time(plain), fmt_rate(n_big / plain.median), "-",
                      f"{(plain.median / n_big) / (rows[0][1].median / rows[0][0]):.2f}")
            table.bounds.append(
                f"rows: the time per row is {per_row[0]:.0f} ns at {row_sizes[0]:,} rows and "
                f"{per_row[-1]:.0f} ns at {n_big:,} ({', '.join(f'{v:.0f}' for v in per_row)} "
                f"ns along the series), and {plain.median / n_big * 1e9:.0f} ns at {n_big:,} "
                "rows read in order (shuffle=False). A shuffled epoch fetches each row from a "
                f"random place: while X fits in the caches ({_caches()}) that is cheap, and "
                "once it does not, every row waits for memory, so the cost per row steps up "
                "with the size instead of staying flat. Prefetching the next batch's rows "
                "while the current one is computed would hide that wait."
            )
        elif not met:
            table.bounds.append(
                f"{axis}: time grows faster than linearly (exponent {whole:.2f}); the table's "
                "last column shows from which size the time per unit rises"
            )
    if fits[1][0] < 0.8:
        table.verdicts.append(
            f"below about 100 features an epoch's time is mostly the fixed cost of each "
            f"batch step, so the features exponent over the whole range ({fits[1][0]:.2f}) "
            "is below 1; the upper half shows the cost of the data"
        )
    table.extra = f"![time per epoch against rows and features]({link})"
    return table


def run(quick: bool = False) -> list[Table]:
    return [growth(quick)]
