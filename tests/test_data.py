"""Reading data files: headers detected, targets found, and every bad file refused clearly."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from descent.data import DataError, read_table

from .data import DATA


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_header_is_detected_and_target_found_by_name_or_index(tmp_path):
    path = write(tmp_path, "a,b,label\n1,2,0\n3,4.5,1\n")
    by_name = read_table(path, target="label")
    by_index = read_table(path, target="2")
    by_negative = read_table(path, target=-1)
    for t in (by_name, by_index, by_negative):
        assert t.has_header and t.feature_names == ["a", "b"] and t.target_name == "label"
        np.testing.assert_array_equal(t.X, [[1, 2], [3, 4.5]])
        np.testing.assert_array_equal(t.y, [0, 1])
    assert by_name.X.dtype == np.float64


def test_a_file_without_header_names_columns_by_position(tmp_path):
    path = write(tmp_path, "1,2,3\n4,5,6\n")
    t = read_table(path, target=0)
    assert not t.has_header and t.feature_names == ["1", "2"] and t.target_name == "0"
    np.testing.assert_array_equal(t.y, [1, 4])
    np.testing.assert_array_equal(t.X, [[2, 3], [5, 6]])


def test_columns_picks_named_features_in_the_given_order(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n4,5,6\n")
    np.testing.assert_array_equal(read_table(path, columns=["c", "a"]).X, [[3, 1], [6, 4]])


def test_pandas_index_column_is_dropped(tmp_path):
    path = write(tmp_path, ",x_1,x_2,y\n0,0.5,1.5,0\n1,2.5,3.5,1\n2,1.0,1.0,0\n")
    t = read_table(path, target="y")
    assert t.feature_names == ["x_1", "x_2"]
    np.testing.assert_array_equal(t.X[:, 0], [0.5, 2.5, 1.0])


def test_parquet_reads_like_csv(tmp_path):
    path = tmp_path / "data.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0], "n": [3, 4], "y": ["cat", "dog"]}), path)
    t = read_table(path, target="y", numeric_target=False)
    np.testing.assert_array_equal(t.X, [[1, 3], [2, 4]])
    assert t.y.tolist() == ["cat", "dog"]


def test_text_labels_are_kept_for_classifiers_but_refused_for_regressors(tmp_path):
    path = write(tmp_path, "x,kind\n1,cat\n2,dog\n")
    assert read_table(path, target="kind", numeric_target=False).y.tolist() == ["cat", "dog"]
    with pytest.raises(DataError, match="target column 'kind'.*not numeric"):
        read_table(path, target="kind")


@pytest.mark.parametrize("text, target, message", [
    ("a,b\n1,2\n", "c", r"target column 'c' is not in .* its columns are 'a', 'b'"),
    ("a,b\n1,2\n", "7", r"target column '7' is not in"),
    ("a,b,y\n1,x,0\n2,z,1\n", "y", r"feature column 'b' .* is not numeric \(for example 'x'\)"),
    ("a,y\n1,0\n,1\n3,1\n", "y", r"feature column 'a' .* 1 missing .* data row 1"),
    ("a,y\n1,0\nnan,1\n", "y", r"feature column 'a' .* missing or infinite"),
    ("a,y\n", "y", r"no rows of data"),
    ("", "y", r"is empty"),
    ("y\n1\n2\n", "y", r"no feature columns"),
    ("a,y\n1,0\n2,3,4\n", "y", r"could not read .* as CSV"),
])
def test_bad_files_raise_one_clear_error(tmp_path, text, target, message):
    path = write(tmp_path, text)
    with pytest.raises(DataError, match=message):
        read_table(path, target=target)


def test_missing_file_and_folder_are_named(tmp_path):
    with pytest.raises(DataError, match="does not exist; check the path"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


def test_a_parquet_file_that_is_not_parquet_is_refused(tmp_path):
    path = write(tmp_path, "not parquet at all", name="data.parquet")
    with pytest.raises(DataError, match="as Parquet"):
        read_table(path)


def test_diabetes_file_reads_as_759_rows_of_8_features():
    path = DATA / "data-03-diabetes.csv"
    if not path.exists():
        pytest.skip("shared data absent")
    t = read_table(path, target=8)
    assert t.X.shape == (759, 8) and not t.has_header
    assert int(t.y.sum()) == 496
    np.testing.assert_allclose(t.X[0, :2], [-0.294118, 0.487437])


def test_hyderabad_text_column_is_named_in_the_error():
    path = DATA / "Hyderabad.csv"
    if not path.exists():
        pytest.skip("shared data absent")
    with pytest.raises(DataError, match="'Location'.*not numeric"):
        read_table(path, target="Price")
