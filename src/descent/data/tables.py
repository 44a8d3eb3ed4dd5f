"""Data files as arrays: one reader for CSV and Parquet, with errors a user can act on.

Every problem a user can cause (a missing file, an unknown target column, text in a
feature column, a missing value, two columns with one name) raises ``DataError`` with one
sentence saying what is wrong and how to fix it; the command line prints that sentence
and exits with status 2.

Reads are bounded, so a hostile or mistaken file cannot exhaust memory or hang:

- only regular files are read: a FIFO, a socket or a device is refused from its ``stat``,
  without opening it;
- a file larger than ``max_file_bytes()`` (a quarter of this machine's memory, at most
  ``MAX_FILE_BYTES``) is refused before reading; for Parquet the same bound applies to
  the uncompressed size its metadata declares;
- the first rows of a CSV (read on their own, to tell a header from data) come from its
  first ``MAX_ROW_BYTES``, within which the first row must end; the rest is parsed by
  pyarrow in blocks of that size, and a row it cannot fit in a block is refused.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PARQUET_SUFFIXES = (".parquet", ".pq")
#: The largest data file read, whatever the memory (a CSV is parsed whole, then copied).
MAX_FILE_BYTES = 16 * 2**30
#: The longest first row of a CSV, and pyarrow's block size, in bytes of the file.
MAX_ROW_BYTES = 16 * 2**20


class DataError(ValueError):
    """A data file cannot be used as it is; the message says why and what to do."""


class HeaderError(DataError):
    """A file with a header line where one without was required, or the reverse."""


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


def read_table(path, *, target=None, numeric_target: bool = True, columns=None,
               header: bool | None = None) -> Table:
    """Read a CSV or Parquet file into float64 features and a target.

    Args:
        path: a ``.csv`` file (header detected: a first row with a word above a column of
            numbers is a header, see ``_is_header``) or a ``.parquet`` file.
        target: the target column, by name or by index (``"8"``, ``8`` or ``-1``); None reads
            features only.
        numeric_target: require a numeric target (regressors); classifiers may pass False to
            accept text labels.
        columns: read exactly these feature columns (a fitted model's), in this order,
            matched by name only (in a file without a header the names are "0", "1", ...).
        header: True or False to require a file with or without a header line (a
            fitted model's columns are named, or counted by position); None accepts either.

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
    _check_size(path, _regular_file_size(path))
    names, data, has_header = _read_columns(path)
    if not names or len(data[0]) == 0:
        raise DataError(f"data file '{path}' has no rows of data; give a file with samples")
    names, data = _drop_pandas_index(names, data)
    _refuse_duplicate_names(names, path)
    if header is not None and header != has_header:
        raise HeaderError(_header_mismatch(path, names, has_header, columns))

    target_at = None if target is None else _column_index(names, target, path)
    if columns is not None:
        feature_at = [_named_column(names, c, path) for c in columns]
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


# ----- bounds: what is read at all ----------------------------------------------------
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _regular_file_size(path: Path) -> int:
    """The size of ``path``, or DataError unless it is a regular file (``stat`` only:
    opening a FIFO would wait for a writer, and a device may never end)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"data file '{path}' does not exist; check the path") from None
    except OSError as err:
        raise DataError(f"cannot read data file '{path}': {err.strerror or err}; "
                        "check the path and its permissions") from None
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"data file '{path}' is a folder, not a file; check the path")
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
        raise DataError(f"data file '{path}' is not a regular file ({kind}); save the data "
                        "to a file first and give that file")
    return info.st_size


def max_file_bytes() -> int:
    """The largest data file ``read_table`` reads: a quarter of this machine's memory, at
    most ``MAX_FILE_BYTES`` (the table is parsed whole, then copied into arrays).

    >>> 0 < max_file_bytes() <= MAX_FILE_BYTES
    True
    """
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: the fixed bound
        return MAX_FILE_BYTES
    return min(MAX_FILE_BYTES, max(memory // 4, 2**20))


def _check_size(path: Path, size: int, what: str = "is") -> None:
    limit = max_file_bytes()
    if size > limit:
        raise DataError(f"data file '{path}' {what} {_size(size)}, larger than the "
                        f"{_size(limit)} descent reads at once; use a sample of its rows")


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


# ----- reading ---------------------------------------------------------------------------
def _read_columns(path: Path) -> tuple[list[str], list[np.ndarray], bool]:
    """Column names and one NumPy array per column (objects where the column is text)."""
    import pyarrow as pa

    try:
        if path.suffix.lower() in PARQUET_SUFFIXES:
            table, has_header = _read_parquet(path), True
        else:
            table, has_header = _read_csv(path)
    except (pa.ArrowException, OSError, UnicodeDecodeError, csv.Error) as err:
        raise _unreadable(path, err) from err
    names = [str(n) for n in table.column_names]
    return names, [_to_numpy(table.column(i)) for i in range(table.num_columns)], has_header


def _unreadable(path: Path, err: BaseException) -> DataError:
    if "straddl" in str(err):  # pyarrow: a row does not fit in one block
        return _row_too_long(path)
    kind = "Parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "CSV"
    detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return DataError(f"could not read '{path}' as {kind}: {detail}; "
                     "check that the file is a valid, comma-separated table")


def _row_too_long(path: Path) -> DataError:
    return DataError(f"data file '{path}' has a row longer than {_size(MAX_ROW_BYTES)}, the "
                     "most descent reads in one row; check that it is a table with one "
                     "sample per line")


def _read_parquet(path: Path):
    """The Parquet table, after checking the size its metadata declares."""
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    _refuse_duplicate_names(file.schema_arrow.names, path)  # before pyarrow trips on them
    metadata = file.metadata
    declared = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    _check_size(path, max(declared, 8 * metadata.num_rows * metadata.num_columns),
                "holds")
    return file.read()


def _read_csv(path: Path):
    import pyarrow.csv as pacsv

    rows = _first_rows(path)
    if not rows:
        raise DataError(f"data file '{path}' is empty; give a file with samples")
    has_header = _is_header(rows[0], rows[1:])
    # A block must hold a whole row: the block size is the bound on a row's length.
    options = pacsv.ReadOptions(autogenerate_column_names=not has_header,
                                block_size=MAX_ROW_BYTES)
    table = pacsv.read_csv(path, read_options=options)
    if not has_header:  # name columns by their position, as users count them
        table = table.rename_columns([str(i) for i in range(table.num_columns)])
    return table, has_header


SAMPLE_ROWS = 20  # rows after the first that tell a header from data


def _first_rows(path: Path) -> list[list[str]]:
    """The first non-empty row and up to ``SAMPLE_ROWS`` more, all read from at most
    ``MAX_ROW_BYTES`` of the file (the first row must end within them).

    A leading byte-order mark is not part of the first field (``utf-8-sig``), so a file
    without a header keeps its first row.
    """
    with open(path, "rb") as handle:
        head = handle.read(MAX_ROW_BYTES + 1)
    truncated = len(head) > MAX_ROW_BYTES
    # An incremental decoder: a character cut at the end of the head is not an error.
    text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=not truncated)
    stream = io.StringIO(text, newline="")
    rows = []
    with _field_limit(len(text) + 1):  # the head's length is the bound, checked below
        for row in csv.reader(stream):
            if truncated and stream.tell() >= len(text):
                break  # a row cut short by the end of the head: not a row
            if row:
                rows.append(row)
            if len(rows) > SAMPLE_ROWS:
                break
    if truncated and not rows:
        raise _row_too_long(path)  # the first row did not end within the bound
    return rows


@contextlib.contextmanager
def _field_limit(limit: int):
    """The csv module's field size bound (a process-wide setting), for one read."""
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _is_header(first: list[str], later: list[list[str]]) -> bool:
    """Whether the first row names the columns, judged as ``csv.Sniffer`` does: by
    comparing each of its fields with the same column in the rows below.

    A row of numbers is data. A word above numbers is a column name. A word above words
    (a column of labels, as in ``5.1,3.5,setosa``) says nothing, so a row whose words
    all sit above words is data when some other column holds numbers, and a header in a
    table of words only.
    """
    words = [i for i, field in enumerate(first) if not _is_number(field)]
    if not words:
        return False
    if not later:
        return True  # names alone, without data

    def column(i: int) -> list[str]:
        return [row[i] for row in later if i < len(row)]

    if any(column(i) and all(map(_is_number, column(i))) for i in words):
        return True
    numbers_elsewhere = any(column(i) and all(map(_is_number, column(i)))
                            for i in range(len(first)) if i not in words)
    return not numbers_elsewhere


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


def _refuse_duplicate_names(names: list[str], path: Path) -> None:
    """Two columns with one name make matching by name a guess: refuse the file."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        seen.setdefault(name, []).append(i)
    twice = {name: at for name, at in seen.items() if len(at) > 1}
    if twice:
        shown = "; ".join(f"{name!r} (columns {', '.join(map(str, at))})"
                          for name, at in list(twice.items())[:5])
        raise DataError(f"data file '{path}' has more than one column named "
                        f"{', '.join(repr(n) for n in list(twice)[:5])}: {shown}, counting "
                        "from 0; rename them so that every column has its own name")


def _header_mismatch(path: Path, names: list[str], has_header: bool, wanted) -> str:
    if not has_header:
        by_name = "" if wanted is None else f" ({_shown(list(wanted))})"
        return (f"data file '{path}' has no header line, but its columns are wanted by "
                f"name{by_name}; add a first line naming the columns (matching them by "
                "position would be a guess)")
    starts = "names its columns" if path.suffix.lower() in PARQUET_SUFFIXES else \
        "starts with a header line"
    return (f"data file '{path}' {starts} ({_shown(names)}), but its columns are wanted by "
            "position, as in a file without a header; delete the header line so that "
            "columns count from 0")


def _shown(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")


def _named_column(names: list[str], wanted: str, path: Path) -> int:
    """A fitted model's feature column, by its exact name: never by a guessed position."""
    if wanted in names:
        return names.index(wanted)
    raise DataError(f"feature column {wanted!r} is not in '{path}'; its columns are "
                    f"{_shown(names)}; give a file with the columns used when fitting")


def _column_index(names: list[str], wanted, path: Path) -> int:
    """The target column: by name, else by an index the user typed ("8", -1)."""
    text = str(wanted)
    if text in names:
        return names.index(text)
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is not None and -len(names) <= index < len(names):
        return index % len(names)
    raise DataError(f"target column {text!r} is not in '{path}'; its columns are "
                    f"{_shown(names)} (give a name or an index from 0 to {len(names) - 1})")


def _numeric(name: str, values: np.ndarray, path: Path, role: str) -> np.ndarray:
    if values.dtype == object:
        example = next((v for v in values if v is not None), None)
        if example is None:
            raise DataError(f"{role} column {name!r} in '{path}' is empty; drop the column")
        shown = repr(example) if len(repr(example)) <= 60 else repr(example)[:56] + "...'"
        raise DataError(f"{role} column {name!r} in '{path}' is not numeric (for example "
                        f"{shown}); drop it or encode it as numbers")
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
