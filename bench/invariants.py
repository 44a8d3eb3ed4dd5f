"""Fitted coefficients for a fixed grid of configurations, to show a refactor changes no result.

    python bench/invariants.py record   # write bench/invariants.npz from the code as it is
    python bench/invariants.py check    # fit again; every array must be bit-identical

The grid: every estimator (linear regression with the square and the absolute error, the
perceptron, logistic regression with two and three classes, the linear SVM, the MLP
classifier and regressor) x every optimizer x full batch, mini-batches of 16 and batch size
1 x float64 and float32, each seeded, on small generated data, with an L2 penalty on half
of them and standardization on, as the defaults have it. Each grid runs twice, with the
compiled kernels (DESCENT_JIT=1) and with the NumPy path (DESCENT_JIT=0), each in a fresh
process, since the choice is made at import.

``check`` prints each configuration whose arrays differ (the largest relative difference)
and exits 1 if any does. Compare on the machine that recorded: another CPU or BLAS may
round differently. The record in the repository was taken before the training layer's
re-layer (issue "One source of truth in the training layer"), on the code of the
playground's release.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RECORD = HERE / "invariants.npz"
OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
BATCHES = {"full": None, "mini16": 16, "sgd": 1}
EPOCHS = 4


def _data(dtype):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(120, 5)).astype(dtype)
    score = X @ np.array([1.5, -2.0, 0.5, 0.0, 1.0]) + 0.3
    return X, {
        "binary": (score > 0).astype(int),
        "three": np.digitize(score, [-1.0, 1.0]),
        "real": (score + rng.normal(scale=0.3, size=120)).astype(dtype),
    }


def _configurations():
    import descent as d

    models = [
        ("linear-square", lambda **k: d.LinearRegression(**k), "real"),
        ("linear-absolute", lambda **k: d.LinearRegression("absolute_error", **k), "real"),
        ("perceptron", lambda **k: d.Perceptron(**k), "binary"),
        ("logistic", lambda **k: d.LogisticRegression(**k), "binary"),
        ("logistic-3", lambda **k: d.LogisticRegression(**k), "three"),
        ("svm", lambda **k: d.LinearSVC(**k), "binary"),
        ("mlp-classifier", lambda **k: d.MLPClassifier((6,), **k), "binary"),
        ("mlp-regressor", lambda **k: d.MLPRegressor((6,), **k), "real"),
    ]
    for name, make, target in models:
        for optimizer in OPTIMIZERS:
            for batch_name, batch in BATCHES.items():
                for dtype in ("float64", "float32"):
                    yield name, make, target, optimizer, batch_name, batch, dtype


def fit_all() -> dict[str, np.ndarray]:
    """Every configuration's fitted arrays, keyed ``config/array``."""
    out = {}
    for i, (name, make, target, optimizer, batch_name, batch, dtype) in enumerate(
            _configurations()):
        X, targets = _data(np.dtype(dtype))
        y = targets[target]
        kwargs = {"optimizer": optimizer, "epochs": EPOCHS, "random_state": i, "tol": 0.0,
                  "learning_rate": 0.01, "batch_size": batch or len(X)}
        if name not in ("svm",) and i % 2:
            kwargs.update(penalty="l2", alpha=1e-3)
        model = make(**kwargs)
        model.fit(X, y)
        key = f"{name}/{optimizer}/{batch_name}/{dtype}"
        arrays = ([*model.coefs_, *model.intercepts_] if hasattr(model, "coefs_")
                  else [model.coef_, np.atleast_1d(model.intercept_)])
        for j, array in enumerate(arrays):
            out[f"{key}/{j}"] = np.asarray(array)
    return out


def _child(jit: str) -> dict[str, np.ndarray]:
    code = (f"import sys, io, numpy as np; sys.path.insert(0, {str(HERE)!r}); "
            "import invariants; buf = io.BytesIO(); np.savez(buf, **invariants.fit_all()); "
            "sys.stdout.buffer.write(buf.getvalue())")
    env = {**os.environ, "DESCENT_JIT": jit, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env,
                          check=True)
    import io

    with np.load(io.BytesIO(done.stdout)) as arrays:
        return {f"jit{jit}/{k}": arrays[k] for k in arrays.files}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "check"])
    args = parser.parse_args(argv)
    arrays = {**_child("1"), **_child("0")}
    if args.action == "record":
        np.savez_compressed(RECORD, **arrays)
        print(f"recorded {len(arrays)} arrays in {RECORD.name}")
        return 0
    with np.load(RECORD) as before:
        keys = set(before.files) | set(arrays)
        differ = {}
        for key in sorted(keys):
            if key not in before.files or key not in arrays:
                differ[key] = "missing on one side"
            elif not np.array_equal(before[key], arrays[key]) or (
                    before[key].dtype != arrays[key].dtype):
                a, b = before[key].astype(np.float64), arrays[key].astype(np.float64)
                scale = np.maximum(np.abs(a), 1e-300)
                differ[key] = f"max relative difference {np.max(np.abs(a - b) / scale):.3g}"
    print(json.dumps(differ, indent=1) if differ else f"all {len(keys)} arrays bit-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
