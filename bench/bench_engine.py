"""The computation-graph engine against hand-written NumPy.

1. The gradient of the logistic-regression log loss on a 100,000 x 100 array:
   the engine (forward graph + backward) against the hand-written gradient
   X.T @ (sigmoid(X w + b) - y) / n. Target: at most 1.2x.
2. The engine's own cost per operation on small arrays: a 51-operation graph on
   3-element arrays, forward and backward, against the same arithmetic in bare
   NumPy. Target: under 5 microseconds of overhead per operation.
"""

from __future__ import annotations

import numpy as np
from common import (
    LOSS,
    THROUGHPUT,
    TIME,
    Table,
    fmt_bandwidth,
    fmt_rate,
    fmt_time,
    measure_pair,
    ratio_column,
)

import descent as d
from descent.numerics import sigmoid as stable_sigmoid


def logistic_gradient(quick: bool) -> Table:
    n, p = (20_000, 100) if quick else (100_000, 100)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = (rng.random(n) < 0.5).astype(float)
    w0, b0 = rng.normal(size=p) * 0.1, 0.1

    def by_hand():
        r = (stable_sigmoid(X @ w0 + b0) - y) / n
        return X.T @ r, r.sum()

    def by_engine():
        w, b = d.Tensor(w0), d.Tensor(b0)
        d.log_loss_with_logits(X @ w + b, y).backward()
        return w.grad, b.grad

    gw_hand, gb_hand = by_hand()
    gw_engine, gb_engine = by_engine()
    assert np.allclose(gw_hand, gw_engine, rtol=1e-10, atol=1e-14)
    assert np.isclose(gb_hand, gb_engine, rtol=1e-10)

    hand, engine, ratio = measure_pair(by_hand, by_engine, repeats=5 if quick else 41)
    table = Table(
        title=f"Engine gradient of the logistic log loss, {n:,} x {p} float64",
        note="Both compute the same gradient (checked equal to 1e-10 in the run). The "
             "throughput is the bytes of X over the time (each gradient reads X twice: "
             "X @ w, then X.T @ r).",
        columns=["method", TIME, THROUGHPUT, LOSS, ratio_column("NumPy by hand")],
    )
    table.add("NumPy by hand", fmt_time(hand), fmt_bandwidth(X.nbytes, hand.median), "-", "1.00")
    table.add("descent engine", fmt_time(engine), fmt_bandwidth(X.nbytes, engine.median), "-",
              f"{ratio:.2f}")
    table.verdicts.append(
        f"engine target (gradient, at most 1.2x NumPy by hand): "
        f"{'met' if ratio <= 1.2 else 'not met'} ({ratio:.2f}x)"
    )
    return table


def op_overhead(quick: bool) -> Table:
    depth = 25  # each link is a multiply and an add: 2 * depth + 1 ops with the final sum
    ops = 2 * depth + 1
    w0, x0 = np.full(3, 0.9), np.ones(3)

    def by_engine():
        x, w = d.Tensor(x0), d.Tensor(w0)
        y = x
        for _ in range(depth):
            y = y * w + 0.5
        y.sum().backward()
        return w.grad

    def by_numpy():
        ys, y = [], x0
        for _ in range(depth):
            ys.append(y)
            y = y * w0 + 0.5
        y.sum()
        g, gw = np.ones(3), np.zeros(3)
        for prev in reversed(ys):
            gw = gw + g * prev
            g = g * w0
        return gw

    assert np.allclose(by_engine(), by_numpy())
    inner = 20 if quick else 100
    numpy_, engine, ratio = measure_pair(by_numpy, by_engine, repeats=5 if quick else 21,
                                         inner=inner)
    per_op = engine.median / ops * 1e6
    overhead = (engine.median - numpy_.median) / ops * 1e6
    table = Table(
        title="Engine cost per operation on 3-element arrays",
        note=(
            f"A graph of {ops} operations (multiply, add, ..., sum), built and differentiated; "
            "the same arithmetic in bare NumPy (forward and hand-written backward) is the "
            "floor. The throughput is operations per second, forward and backward."
        ),
        columns=["method", TIME + " per graph", THROUGHPUT, LOSS, "µs per operation",
                 ratio_column("bare NumPy")],
    )
    table.add("bare NumPy", fmt_time(numpy_), fmt_rate(ops / numpy_.median, "ops/s"), "-",
              f"{numpy_.median / ops * 1e6:.2f}", "1.00")
    table.add("descent engine", fmt_time(engine), fmt_rate(ops / engine.median, "ops/s"), "-",
              f"{per_op:.2f}", f"{ratio:.2f}")
    table.verdicts.append(
        f"engine target (overhead per operation, engine minus NumPy, under 5 µs): "
        f"{'met' if overhead < 5 else 'not met'} ({overhead:.2f} µs)"
    )
    return table


def run(quick: bool = False) -> list[Table]:
    return [logistic_gradient(quick), op_overhead(quick)]
