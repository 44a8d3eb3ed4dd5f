"""Take a model lab session home: its model file, and a script that retrains it.

The model file is ``descent.model_io.save``'s, written to a private temporary folder and
read back; the model's inputs are the session's features (in the order the network
diagram shows). The script uses descent's API to rebuild the same points (same seed), the
same features and the same estimator, and calls ``partial_fit`` once per epoch the
session trained, so it reaches the same weights.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..model_io import save
from .datasets import BOX
from .features import NUMPY_SPELLING
from .model_setup import estimator_class, loss_name


def model_file(session) -> tuple[str, bytes]:
    """(file name, the bytes of the descent model file) of the session's trained model."""
    settings = session.settings
    name = f"descent-{settings['model']}-{settings['dataset']}-epoch{session.epoch}.descent"
    with tempfile.TemporaryDirectory(prefix="descent-export-") as folder:
        path = save(session.estimator, Path(folder) / name)
        return name, path.read_bytes()


def _data_lines(session) -> list[str]:
    s = session.settings
    if s["dataset"] == "upload":
        return [
            "from descent.playground.uploads import read_upload",
            "",
            f"# The file you uploaded; its columns are scaled into [-{BOX:g}, {BOX:g}] as in "
            "the lab.",
            'with open("your-data.csv", encoding="utf-8") as file:',
            "    data = read_upload(file.read())",
            f"X_train, X_test, y_train, y_test = split(data.X, data.y, "
            f"train_ratio={s['train_ratio']!r}, seed={s['seed']!r})",
        ]
    curve = f", curve={s['curve']!r}" if s["dataset"] == "curve" else ""
    return [
        "",
        "# The lab's points: the same set, size, noise and seed give the same points.",
        f"X, y = make_dataset({s['dataset']!r}, n_points={s['n_points']!r}, "
        f"noise={s['noise']!r}, seed={s['seed']!r}{curve})",
        f"X_train, X_test, y_train, y_test = split(X, y, train_ratio={s['train_ratio']!r}, "
        f"seed={s['seed']!r})",
    ]


def python_script(session) -> str:
    """A runnable script that rebuilds the session's data and retrains its model.

    It prints the test loss (the estimator's own loss, as the lab shows it) and the
    test score (accuracy, or R^2 for regression).
    """
    s, data = session.settings, session.data
    cls = estimator_class(s["model"], data.task).__name__
    arguments = ", ".join(f"{key}={value!r}" for key, value in session.estimator_params().items())
    columns = ", ".join(NUMPY_SPELLING[name] for name in session.features)
    fit_classes = f", classes={data.classes!r}" if data.classes else ""
    target = (f"(y_test == {data.classes[1]!r}).astype(float)" if data.classes
              else "y_test.astype(float)")
    lines = [
        f'"""The descent playground\'s model lab, rebuilt: {cls} on the {s["dataset"]!r} data, '
        f'{session.epoch} epochs."""',
        "import numpy as np",
        "",
        f"from descent import {cls}",
        "from descent.losses import get_loss",
        "from descent.playground.datasets import "
        + ("split" if s["dataset"] == "upload" else "make_dataset, split"),
        *_data_lines(session),
        "",
        "",
        "def features(X):",
        f'    """The model\'s inputs: {", ".join(session.features)}."""',
        f"    return np.column_stack([{columns}])",
        "",
        "",
        f"model = {cls}({arguments})",
        f"for epoch in range({session.epoch}):  # one partial_fit is one epoch, as the lab's STEP",
        f"    model.partial_fit(features(X_train), y_train{fit_classes})",
        "",
    ]
    if session.epoch == 0:
        return "\n".join([*lines, 'print("the lab had not trained this model yet")', ""])
    lines += [
        f'scores = model.{"decision_function" if data.classes else "predict"}'
        "(features(X_test))",
        f'loss = get_loss({loss_name(s["model"], data.task)!r})',
        f"test_loss = loss.point_values(scores[:, None], {target}[:, None]).mean()",
        'print(f"test loss: {test_loss:.6g}")',
        'print(f"test score: {model.score(features(X_test), y_test):.6g}")',
        "",
    ]
    return "\n".join(lines)
