"""A user's own CSV for the model lab: read with the CLI's checks, scaled into the box.

The file must have a header line and exactly three columns: two numeric features, then
the target. The target decides the task:

- text labels: classification, and there must be exactly two of them;
- numbers with exactly two distinct values: classification (the two values are labels);
- numbers with more distinct values: regression.

Each feature column is mapped linearly onto [-BOX, BOX] (its minimum to -BOX, its
maximum to BOX), the box the built-in sets live in, because the lab trains on raw
features: a column in thousands would make the default rate diverge. The reply says
how each column was scaled; the exported script repeats it.

Example:
    >>> data = read_upload("size,age,kind\\n1,10,a\\n2,30,b\\n3,20,a\\n5,40,b\\n")
    >>> data.task, data.classes, data.X[:, 0].tolist()
    ('classification', ['a', 'b'], [-3.0, -1.5, 0.0, 3.0])
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import DataError, read_table
from ..data.tables import HeaderError
from .datasets import BOX, DatasetError

MAX_UPLOAD_BYTES = 1 << 20
MAX_ROWS = 2000
MIN_ROWS = 4


@dataclass
class Upload:
    """A read upload: X (n, 2) in the box, y (labels or numbers), and how it was read."""

    X: np.ndarray
    y: np.ndarray
    columns: list[str]
    task: str
    classes: list
    scale: list[tuple[float, float]]  # each feature's (minimum, maximum) before scaling


def read_upload(text: str) -> Upload:
    """Read CSV text with ``descent.data.read_table`` (through a private temporary file).

    Raises:
        DatasetError: field ``"file"``, with one line saying what is wrong and the fix.
    """
    if len(text.encode("utf-8", "replace")) > MAX_UPLOAD_BYTES:
        raise DatasetError("file", f"the file is over {MAX_UPLOAD_BYTES:,} bytes; upload at "
                           f"most {MAX_ROWS:,} rows")
    if not text.strip():
        raise DatasetError("file", "the file is empty; upload a CSV with a header line and "
                           "three columns: two features and the target")
    try:
        header = next(csv.reader([text.lstrip("\ufeff").split("\n", 1)[0]]), [])
    except csv.Error:  # e.g. one field longer than the csv module's limit
        raise DatasetError("file", "the first line is not a CSV header the lab can read; "
                           "start the file with three column names") from None
    if len(header) > 3:  # refused before the reader spends seconds on 80,000 columns
        raise DatasetError("file", f"the file has {len(header):,} columns; the lab needs "
                           "exactly three: two numeric features, then the target")
    with tempfile.TemporaryDirectory(prefix="descent-upload-") as folder:
        path = Path(folder) / "upload.csv"
        path.write_text(text, encoding="utf-8")
        try:
            table = read_table(path, target=-1, numeric_target=False, header=True)
        except HeaderError:
            raise DatasetError("file", "the file has no header line; its first line must name "
                               "the columns, e.g. x1,x2,label") from None
        except DataError as err:
            message = str(err).replace(f"data file '{path}'", "the file")
            raise DatasetError("file", message.replace(f"'{path}'", "the file")) from None
    names = [*table.feature_names, table.target_name]
    if table.X.shape[1] != 2:
        raise DatasetError("file", f"the file has {len(names)} columns; the lab needs exactly "
                           "three: two numeric features, then the target")
    rows = len(table.X)
    if not MIN_ROWS <= rows <= MAX_ROWS:
        raise DatasetError("file", f"the file has {rows:,} rows of data; the lab takes "
                           f"{MIN_ROWS} to {MAX_ROWS:,}")
    task, y, classes = _target(table.y, table.target_name)
    low, high = table.X.min(axis=0), table.X.max(axis=0)
    return Upload(X=scale_into_box(table.X, low, high), y=y, columns=names, task=task,
                  classes=classes, scale=[(float(a), float(b)) for a, b in zip(low, high,
                                                                              strict=True)])


def scale_into_box(X: np.ndarray, low, high) -> np.ndarray:
    """Each column mapped linearly from [low, high] onto [-BOX, BOX] (a constant one to 0).

    Example:
        >>> scale_into_box(np.array([[0.0, 5.0], [10.0, 5.0]]), [0, 5], [10, 5]).tolist()
        [[-3.0, 0.0], [3.0, 0.0]]
    """
    low, high = np.asarray(low, float), np.asarray(high, float)
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, (X - low) / span * (2 * BOX) - BOX, 0.0)


def _target(y: np.ndarray, name: str):
    """(task, targets, classes) from the target column, by the rules in the module doc."""
    distinct = np.unique(y)
    if y.dtype.kind in "fiu":
        if len(distinct) > 2:
            return "regression", y.astype(np.float64), []
        if np.all(distinct == np.round(distinct)):
            y, distinct = y.astype(np.int64), distinct.astype(np.int64)
    if len(distinct) != 2:
        kinds = ", ".join(repr(v) for v in distinct[:5].tolist())
        raise DatasetError("file", f"the target column {name!r} has {len(distinct)} distinct "
                           f"label(s) ({kinds}{', ...' if len(distinct) > 5 else ''}); the lab "
                           "classifies two labels, or regresses on numbers")
    return "classification", y, distinct.tolist()
