"""numrnn.apps.forecast.series: one column of a CSV file read as a time series, the windows a forecaster trains
on, and the chronological split with its size check."""
import numpy as np
import pytest

from numrnn.apps.forecast.series import read_column, split_series, windows


def write(tmp_path, text, name="series.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_column_by_name_and_by_index(tmp_path):
    path = write(tmp_path, "day,value\n1,0.5\n2,1.5\n\n3,-2\n")
    np.testing.assert_array_equal(read_column(path, "value"), [0.5, 1.5, -2.0])
    np.testing.assert_array_equal(read_column(path, 0), [1.0, 2.0, 3.0])


def test_read_column_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such data file"):
        read_column(tmp_path / "nope.csv", "value")


def test_read_column_lists_the_available_columns(tmp_path):
    path = write(tmp_path, "day,value\n1,2\n")
    with pytest.raises(ValueError, match="no column 'price'; available columns: 'day', 'value'"):
        read_column(path, "price")


def test_read_column_names_the_row_of_a_non_number(tmp_path):
    path = write(tmp_path, "day,value\n1,2\n2,n/a\n")
    with pytest.raises(ValueError, match="row 3 has 'n/a'"):
        read_column(path, "value")


def test_read_column_rejects_an_empty_cell_and_infinity(tmp_path):
    with pytest.raises(ValueError, match="row 2 has an empty cell"):
        read_column(write(tmp_path, "a,b\n1,\n"), "b")
    with pytest.raises(ValueError, match="finite"):
        read_column(write(tmp_path, "a\ninf\n", "inf.csv"), "a")


def test_read_column_of_an_empty_file(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        read_column(write(tmp_path, ""), "a")


def test_windows_pair_each_run_with_the_next_value():
    X, y = windows(np.arange(6.0), 3)
    assert X.shape == (3, 3, 1) and y.shape == (3, 1)
    np.testing.assert_array_equal(X[1, :, 0], [1, 2, 3])
    np.testing.assert_array_equal(y[:, 0], [3, 4, 5])


def test_windows_need_more_values_than_the_window():
    with pytest.raises(ValueError, match="at least 6 values, got 5"):
        windows(np.arange(5.0), 5)


def test_split_series_keeps_the_last_fifth_for_validation():
    assert split_series(np.arange(100.0), 10) == (80, 20)


def test_split_series_says_how_many_rows_a_window_needs():
    with pytest.raises(ValueError, match="too few rows for a window of 10: the column has 12 values"):
        split_series(np.arange(12.0), 10)
