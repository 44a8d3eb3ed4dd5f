"""Reading data files under hostile and careless input (issue 11: items 8, 9 and fuzzing).

``read_table`` either returns a valid Table (finite float64 features, one name per
column, no name twice) or raises ``DataError`` with a message; never another exception,
never a hang on a FIFO or a device, and never an unbounded read.
"""

import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from descent.data import DataError, Table, read_table, tables

BOM = "\ufeff"


def write(folder, text, name="data.csv"):
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    return path


# ----- item 9: a byte-order mark is not data ---------------------------------------------
@pytest.mark.parametrize("bom", ["", BOM], ids=["no BOM", "BOM"])
@pytest.mark.parametrize("header", [True, False], ids=["header", "no header"])
def test_a_byte_order_mark_never_costs_a_row_or_a_name(tmp_path, bom, header):
    body = "1,2,3\n4,5,6\n7,8,9\n"
    path = write(tmp_path, bom + ("a,b,y\n" if header else "") + body)
    table = read_table(path, target=-1)
    assert table.has_header is header
    assert table.feature_names == (["a", "b"] if header else ["0", "1"])
    np.testing.assert_array_equal(table.X, [[1, 2], [4, 5], [7, 8]])
    np.testing.assert_array_equal(table.y, [3, 6, 9])


@pytest.mark.parametrize("text, header, first", [
    ("5.1,3.5,setosa\n4.9,3.0,setosa\n6.2,2.9,virginica\n", False, [5.1, 3.5]),
    ("length,width,kind\n5.1,3.5,setosa\n4.9,3.0,setosa\n", True, [5.1, 3.5]),
    ("length,3.5,kind\n5.1,3.5,setosa\n", True, [5.1, 3.5]),
    ("1,2,3\n4,5,6\n", False, [1, 2]),
])
def test_a_column_of_labels_does_not_make_the_first_row_a_header(tmp_path, text, header, first):
    # A word above words is a label, not a name; a word above numbers is a name.
    table = read_table(write(tmp_path, text), target=-1, numeric_target=False)
    assert table.has_header is header
    np.testing.assert_array_equal(table.X[0], first)


# ----- item 8: duplicate names, and columns matched by name only --------------------------
@pytest.mark.parametrize("text, names", [
    ("a,b,a\n1,2,3\n", r"'a'"),
    ("y,x,y,x\n1,2,3,4\n", r"'y', 'x'|'x', 'y'"),
    ("a,,\n1,2,3\n", r"''"),
])
def test_duplicate_column_names_are_refused(tmp_path, text, names):
    with pytest.raises(DataError, match=rf"more than one column named {names}.*rename"):
        read_table(write(tmp_path, text))


def test_duplicate_column_names_in_parquet_are_refused(tmp_path):
    path = tmp_path / "twice.parquet"
    columns = [pa.array([1.0, 2.0]), pa.array([3.0, 4.0]), pa.array([0, 1])]
    pq.write_table(pa.Table.from_arrays(columns, names=["x", "x", "y"]), path)
    with pytest.raises(DataError, match=r"more than one column named 'x'"):
        read_table(path, target="y")


def test_named_columns_are_matched_by_name_never_by_position(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n")
    with pytest.raises(DataError, match=r"feature column '1' is not in"):
        read_table(path, columns=["a", "1"])
    bare = write(tmp_path, "1,2,3\n4,5,6\n", name="bare.csv")
    np.testing.assert_array_equal(read_table(bare, columns=["2", "0"]).X, [[3, 1], [6, 4]])


def test_a_header_is_required_or_refused_when_the_caller_says_so(tmp_path):
    headed = write(tmp_path, "a,b\n1,2\n", name="headed.csv")
    bare = write(tmp_path, "1,2\n3,4\n", name="bare.csv")
    assert read_table(headed, header=True).has_header
    assert not read_table(bare, header=False).has_header
    with pytest.raises(DataError, match=r"has no header line.*add"):
        read_table(bare, header=True)
    with pytest.raises(DataError, match=r"starts with a header line \('a', 'b'\).*delete"):
        read_table(headed, header=False)


# ----- bounded reads: no hang, no unbounded memory ---------------------------------------
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code = ("from descent.data import read_table, DataError\n"
            f"try:\n    read_table({str(fifo)!r})\n"
            "except DataError as err:\n    print(err)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)  # a reader that opened the FIFO would wait forever
    assert "is not a regular file" in done.stdout and "FIFO" in done.stdout, done


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused_without_reading_it(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(DataError, match=r"is not a regular file \(a character device\)"):
        read_table(device)


def test_a_file_larger_than_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:  # sparse: no disk space used, nothing to read
        handle.truncate(tables.max_file_bytes() + 1)
    with pytest.raises(DataError, match=r"huge.csv' is .* larger than .* descent reads"):
        read_table(path)


def test_a_first_row_longer_than_the_limit_is_refused_clearly(tmp_path):
    long_field = "7" * (tables.MAX_ROW_BYTES + 10)
    path = write(tmp_path, f"{long_field},1\n2,3\n")
    with pytest.raises(DataError, match=r"row longer than 16.0 MiB"):
        read_table(path, target="-1")
    path = write(tmp_path, f"a,y\n{long_field},1\n")  # a later row: pyarrow parses it
    with pytest.raises(DataError, match=r"feature column 'a' .* infinite"):
        read_table(path, target="-1")


def test_a_wide_file_within_the_limits_reads(tmp_path):
    n = 20_000  # a header of ~130 KB, wider than pyarrow's default block of rows
    path = write(tmp_path, ",".join(f"column_{i}" for i in range(n)) + "\n" +
                 ",".join("1" for _ in range(n)) + "\n")
    assert read_table(path, target=0).X.shape == (1, n - 1)


# ----- fuzzing: random text is a Table or a DataError ------------------------------------
NUMBERISH = ["", " ", "nan", "NaN", "-nan", "NA", "N/A", "null", "NULL", "None", "inf", "-inf",
             "Infinity", "1e999", "-1e999", "1e-999", "0x10", "1_000", " 3 ", "+4", "TRUE",
             "false", "1,5", "\"", "\"\"", "'", "2020-01-01", "12:00:00", "1e308", "-0",
             str(2**64), str(-(2**63) - 1), "\x00", "\r", "é", BOM]
NUMBERS = st.one_of(st.integers(-10**25, 10**25).map(str),
                    st.floats(allow_nan=False, allow_infinity=False).map(repr))
# Mostly numbers, so that many examples are valid tables and get checked as such.
CELLS = st.one_of(NUMBERS, NUMBERS, NUMBERS, st.sampled_from(NUMBERISH),
                  st.floats().map(repr), st.text(max_size=6))


@st.composite
def csv_texts(draw) -> str:
    """CSV-like text: maybe a header (maybe with repeated names), ragged rows, odd cells."""
    width = draw(st.integers(1, 4))
    ragged = draw(st.integers(0, 3)) == 0
    rows = draw(st.lists(st.lists(CELLS, min_size=0 if ragged else width,
                                  max_size=width + 1 if ragged else width),
                         min_size=0, max_size=6))
    if draw(st.booleans()):
        names = st.sampled_from(["a", "b", "y", "", "a"]) | st.text(max_size=4)
        rows.insert(0, draw(st.lists(names, min_size=width, max_size=width)))
    delimiter = draw(st.sampled_from([",", ",", ";", "\t"]))
    buffer = io.StringIO()
    if draw(st.booleans()):  # quoted as a CSV writer would
        csv.writer(buffer, delimiter=delimiter, lineterminator=draw(
            st.sampled_from(["\n", "\r\n"]))).writerows(rows)
    else:  # joined raw: stray quotes and delimiters make ragged rows
        buffer.write("\n".join(delimiter.join(row) for row in rows))
    return draw(st.sampled_from(["", BOM])) + buffer.getvalue()


def assert_valid(table: Table, target, numeric_target: bool) -> None:
    X = table.X
    assert X.dtype == np.float64 and X.ndim == 2 and X.shape[0] >= 1
    assert np.isfinite(X).all()
    assert len(table.feature_names) == X.shape[1] >= 1
    assert len(set(table.feature_names)) == len(table.feature_names)
    if target is None:
        assert table.y is None and table.target_name is None
    else:
        assert len(table.y) == len(X) and table.target_name not in table.feature_names
        if numeric_target:
            assert table.y.dtype == np.float64 and np.isfinite(table.y).all()


def read_or_refuse(content, target, numeric_target, suffix=".csv"):
    """``read_table`` on ``content`` in a temporary file: a valid Table or a DataError."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        try:
            table = read_table(path, target=target, numeric_target=numeric_target)
        except DataError as err:
            assert str(err).strip()
            return None
    assert_valid(table, target, numeric_target)
    return table


TARGETS = st.sampled_from([None, "0", "-1", "1", "y", "a"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=csv_texts(), target=TARGETS, numeric_target=st.booleans())
def test_random_csv_text_is_a_valid_table_or_a_data_error(text, target, numeric_target):
    read_or_refuse(text, target, numeric_target)


@settings(max_examples=60, deadline=None)
@given(content=st.binary(max_size=200), bom=st.booleans(), target=TARGETS,
       suffix=st.sampled_from([".csv", ".parquet"]))
def test_random_bytes_are_a_valid_table_or_a_data_error(content, bom, target, suffix):
    read_or_refuse((b"\xef\xbb\xbf" if bom else b"") + content, target, True, suffix)


@settings(max_examples=8, deadline=None)
@given(rows=st.integers(4, 30), width=st.integers(1, 3),
       scale=st.sampled_from([1e-3, 1.0, 1e3]), header=st.booleans(),
       model=st.sampled_from(["linear", "logistic"]), seed=st.integers(0, 2**32 - 1))
def test_fit_on_random_small_valid_tables_trains_or_says_why(rows, width, scale, header,
                                                              model, seed):
    from descent.cli import main

    rng = np.random.default_rng(seed)
    X = scale * rng.normal(size=(rows, width))
    y = X.sum(axis=1) if model == "linear" else (X[:, 0] > np.median(X[:, 0])).astype(int)
    with tempfile.TemporaryDirectory() as folder:
        lines = [",".join(f"x{j}" for j in range(width)) + ",y"] if header else []
        lines += [",".join(repr(float(v)) for v in row) + f",{t!r}" for row, t in
                  zip(X, y.tolist(), strict=True)]
        path = write(folder, "\n".join(lines) + "\n")
        result = CliRunner().invoke(main, ["fit", str(path), "--target", "-1", "--model",
                                           model, "--epochs", "30", "--json"])
    if result.exit_code == 2:  # refused: one line that says why
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        return
    assert result.exit_code == 0, (result.output, "".join(
        traceback.format_exception(*result.exc_info)) if result.exc_info else None)
    report = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(name))
    assert report["rows"] == rows and report["features"] == width
    assert np.isfinite(report["train_score"]) and np.isfinite(report["final_loss"])


def test_a_huge_text_value_is_shown_as_a_short_excerpt(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("a,b,c\n" + "y" * 100_000 + ",1,2\n3,4,5\n")
    with pytest.raises(DataError, match=r"not numeric \(for example 'y{20,}\.\.\.'\)") as caught:
        read_table(path, target="c")
    assert len(str(caught.value)) < 300
