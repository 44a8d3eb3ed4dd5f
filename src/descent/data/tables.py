"""Data files as arrays: one reader for CSV and Parquet, with errors a user can act on.

Every problem a user can cause (a missing file, an unknown target column, text in a
feature column, a missing value) raises ``DataError`` with one sentence saying what is
wrong and how to fix it; the command line prints that sentence and exits with status 2.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PARQUET_SUFFIXES = (".parquet", ".pq")


class DataError(ValueError):
    """A data file cannot be used as it is; the message says why and what to do."""


@dataclass
class Table:
    """Features and (optionally) a target read from a file.

    Attributes:
        X: float64 features, one row per sample.
        y: the target column (numbers, or labels for a classifier), or None.
        feature_names: the name of every column of ``X``.
        target_name: the target's column name, or None.
        has_header: whether the file named its columns (CSV without a header: "0", "1", ...).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_name: str | None
    has_header: bool


def read_table(path, *, target=None, numeric_target: bool = True, columns=None) -> Table:
    """Read a CSV or Parquet file into float64 features and a target.

    Args:
        path: a ``.csv`` file (header detected: a first row with any non-number is a header)
            or a ``.parquet`` file.
        target: the target column, by name or by index (``"8"``, ``8`` or ``-1``); None reads
            features only.
        numeric_target: require a numeric target (regressors); classifiers may pass False to
            accept text labels.
        columns: read exactly these feature columns (a fitted model's), in this order.

    Returns:
        Table

    Example:
        >>> import tempfile, os
        >>> folder = tempfile.mkdtemp()
        >>> path = os.path.join(folder, "rooms.csv")
        >>> _ = open(path, "w").write("rooms,price\\n1,155\\n2,197\\n3,244\\n")
        >>> t = read_table(path, target="price")
        >>> t.X.ravel().tolist(), t.y.tolist(), t.feature_names
        ([1.0, 2.0, 3.0], [155.0, 197.0, 244.0], ['rooms'])
    """
    path = Path(path)
    if not path.is_file():
        where = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise DataError(f"data file '{path}' {where}; check the path")
    names, data, has_header = _read_columns(path)
    if not names or len(data[0]) == 0:
        raise DataError(f"data file '{path}' has no rows of data; give a file with samples")
    names, data = _drop_pandas_index(names, data)

    target_at = None if target is None else _column_index(names, target, path)
    if columns is not None:
        feature_at = [_column_index(names, c, path, role="feature") for c in columns]
    else:
        feature_at = [i for i in range(len(names)) if i != target_at]
    if not feature_at:
        raise DataError(f"data file '{path}' has no feature columns besides the target")

    X = np.empty((len(data[0]), len(feature_at)), dtype=np.float64)
    for j, i in enumerate(feature_at):
        X[:, j] = _numeric(names[i], data[i], path, "feature")
    y = None
    if target_at is not None:
        y = _target(names[target_at], data[target_at], path, numeric_target)
    return Table(X=X, y=y, feature_names=[names[i] for i in feature_at],
                 target_name=None if target_at is None else names[target_at],
                 has_header=has_header)


def _read_columns(path: Path) -> tuple[list[str], list[np.ndarray], bool]:
    """Column names and one NumPy array per column (objects where the column is text)."""
    import pyarrow as pa

    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            table, has_header = pq.read_table(path), True
        else:
            table, has_header = _read_csv(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as err:
        kind = "Parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "CSV"
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError(f"could not read '{path}' as {kind}: {detail}; "
                        "check that the file is a valid, comma-separated table") from err
    names = [str(n) for n in table.column_names]
    return names, [_to_numpy(table.column(i)) for i in range(table.num_columns)], has_header


def _read_csv(path: Path):
    import pyarrow.csv as pacsv

    with open(path, newline="", encoding="utf-8") as handle:
        first = next(csv.reader(handle), None)
    if first is None:
        raise DataError(f"data file '{path}' is empty; give a file with samples")
    has_header = not all(_is_number(field) for field in first)
    options = pacsv.ReadOptions(autogenerate_column_names=not has_header)
    table = pacsv.read_csv(path, read_options=options)
    if not has_header:  # name columns by their position, as users count them
        table = table.rename_columns([str(i) for i in range(table.num_columns)])
    return table, has_header


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return field.strip() == ""  # an empty cell is a missing number, not a column name
    return True


def _to_numpy(column) -> np.ndarray:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        if column.null_count:
            return column.to_numpy(zero_copy_only=False).astype(np.float64)  # nulls -> NaN
        return column.to_numpy(zero_copy_only=False)
    if pa.types.is_null(kind):  # a column that is empty in every row
        return np.full(len(column), np.nan)
    return np.array(column.to_pylist(), dtype=object)


def _drop_pandas_index(names, data):
    """pandas writes its row index as a first column with an empty name: not a feature."""
    first = data[0]
    if names and names[0] in ("", "Unnamed: 0") and first.dtype.kind in "iu" and \
            np.array_equal(first, np.arange(len(first))):
        return names[1:], data[1:]
    return names, data


def _column_index(names: list[str], wanted, path: Path, role: str = "target") -> int:
    text = str(wanted)
    if text in names:
        return names.index(text)
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    shown = ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
    raise DataError(f"{role} column {text!r} is not in '{path}'; its columns are {shown} "
                    f"(give a name or an index from 0 to {len(names) - 1})")


def _numeric(name: str, values: np.ndarray, path: Path, role: str) -> np.ndarray:
    if values.dtype == object:
        example = next((v for v in values if v is not None), None)
        if example is None:
            raise DataError(f"{role} column {name!r} in '{path}' is empty; drop the column")
        raise DataError(f"{role} column {name!r} in '{path}' is not numeric (for example "
                        f"{example!r}); drop it or encode it as numbers")
    values = values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataError(f"{role} column {name!r} in '{path}' has {int(bad.sum())} missing or "
                        f"infinite value(s) (first in data row {row}); fill or drop them first")
    return values


def _target(name: str, values: np.ndarray, path: Path, numeric: bool) -> np.ndarray:
    if values.dtype != object:
        return _numeric(name, values, path, "target")
    if numeric:
        return _numeric(name, values, path, "target")  # raises: text where numbers are needed
    missing = [i for i, v in enumerate(values) if v is None or str(v).strip() == ""]
    if missing:
        raise DataError(f"target column {name!r} in '{path}' has {len(missing)} missing "
                        f"label(s) (first in data row {missing[0]}); fill or drop them first")
    return np.array([str(v) for v in values])
