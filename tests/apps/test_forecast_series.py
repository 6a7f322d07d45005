"""numrnn.apps.forecast.series: a user's CSV as a time series (pandas): dates parsed and sorted, the frequency
inferred, gaps refused naming them or filled, several columns, and clear errors naming the rows."""
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("pandas")

from numrnn.apps.forecast.series import read_series, season_of  # noqa: E402


def write(tmp_path, text, name="series.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def monthly(values, start="2020-01-01", reverse=False, extra=None):
    import pandas as pd
    dates = pd.date_range(start, periods=len(values), freq="MS").strftime("%Y-%m-%d")
    rows = [f"{d},{v}" + (f",{extra[i]}" if extra is not None else "") for i, (d, v) in enumerate(zip(dates, values))]
    return "month,sales" + (",price" if extra is not None else "") + "\n" + "\n".join(rows[::-1] if reverse
                                                                                     else rows) + "\n"


def test_dates_are_parsed_their_frequency_and_season_inferred(tmp_path):
    series = read_series(write(tmp_path, monthly(range(30))), "sales", date="month")
    assert series.freq == "MS" and series.season == 12 and series.date_column == "month"
    assert series.label(0) == "2020-01-01" and series.label(29) == "2022-06-01"
    np.testing.assert_array_equal(series.y, np.arange(30.0))


def test_the_date_column_is_found_without_being_named(tmp_path):
    series = read_series(write(tmp_path, monthly(range(30))), "sales")
    assert series.date_column == "month" and series.freq == "MS"


def test_a_newest_first_file_is_sorted_into_time_order(tmp_path):
    series = read_series(write(tmp_path, monthly(range(30), reverse=True)), "sales", date="month")
    np.testing.assert_array_equal(series.y, np.arange(30.0))
    assert series.reordered and series.label(0) == "2020-01-01"


def test_a_gap_is_refused_naming_the_missing_dates(tmp_path):
    lines = monthly(range(30)).splitlines()
    del lines[5:7]  # 2020-05-01 and 2020-06-01
    with pytest.raises(ValueError, match=r"2 missing values or dates \(dates 2020-05-01, 2020-06-01\).*"
                                         r"--fill interpolate"):
        read_series(write(tmp_path, "\n".join(lines) + "\n"), "sales", date="month")


def test_a_gap_is_filled_by_interpolation_when_asked(tmp_path):
    lines = monthly(np.arange(30) * 2.0).splitlines()
    del lines[5:7]
    series = read_series(write(tmp_path, "\n".join(lines) + "\n"), "sales", date="month", fill="interpolate")
    np.testing.assert_allclose(series.y, np.arange(30) * 2.0)
    assert series.filled == ["2020-05-01", "2020-06-01"] and len(series) == 30


def test_an_empty_cell_is_a_gap_too(tmp_path):
    text = monthly(range(30)).replace("2020-03-01,2\n", "2020-03-01,\n")
    with pytest.raises(ValueError, match=r"1 missing values or dates \(dates 2020-03-01\)"):
        read_series(write(tmp_path, text), "sales")
    series = read_series(write(tmp_path, text), "sales", fill="interpolate")
    assert series.y[2] == pytest.approx(2.0)


def test_features_are_read_beside_the_target(tmp_path):
    series = read_series(write(tmp_path, monthly(range(30), extra=np.arange(30) * 10)), "sales", ["price"])
    assert series.columns == ("sales", "price") and series.values.shape == (30, 2)
    np.testing.assert_array_equal(series.values[:, 1], np.arange(30) * 10.0)
    with pytest.raises(ValueError, match="other than the target"):
        read_series(write(tmp_path, monthly(range(30), extra=np.arange(30))), "sales", ["sales"])


def test_a_column_of_years_holds_dates(tmp_path):
    text = "year,level\n" + "".join(f"{1700 + i},{i}\n" for i in range(40))
    series = read_series(write(tmp_path, text), "level", date="year")
    assert series.freq.startswith("YS") and series.season is None and series.label(3) == "1703-01-01"


def test_datetimes_and_their_hourly_season(tmp_path):
    text = "time,load\n" + "".join(f"2024-01-{1 + i // 24:02d} {i % 24:02d}:00,{i}\n" for i in range(72))
    series = read_series(write(tmp_path, text), "load")
    assert series.freq == "h" and series.season == 24 and series.label(25) == "2024-01-02 01:00:00"


@pytest.mark.parametrize("freq, season", [("MS", 12), ("ME", 12), ("QS-OCT", 4), ("W-SUN", 52), ("D", 7),
                                          ("B", 5), ("h", 24), ("15min", 96), ("YS-JAN", None), (None, None)])
def test_the_season_of_each_frequency(freq, season):
    assert season_of(freq) == season


def test_without_dates_the_rows_keep_the_file_order(tmp_path):
    series = read_series(write(tmp_path, "a,b\n3,1\n1,2\n2,3\n"), "a")
    assert series.dates is None and series.freq is None and series.label(2) == "2"
    np.testing.assert_array_equal(series.y, [3.0, 1.0, 2.0])


def test_an_unparseable_date_names_its_row(tmp_path):
    text = monthly(range(5)).replace("2020-03-01", "March the 3rd")
    with pytest.raises(ValueError, match=r"column 'month' must hold dates .* row 4 has 'March the 3rd'"):
        read_series(write(tmp_path, text), "sales", date="month")


def test_a_repeated_date_is_refused(tmp_path):
    text = monthly(range(5)).replace("2020-03-01", "2020-02-01")
    with pytest.raises(ValueError, match="same date on several rows: 2020-02-01"):
        read_series(write(tmp_path, text), "sales", date="month")


def test_dates_off_the_grid_are_named(tmp_path):
    text = monthly(range(12)).replace("2020-03-01", "2020-03-17")
    with pytest.raises(ValueError, match=r"mostly monthly \(MS\) but 1 fall between the steps: 2020-03-17"):
        read_series(write(tmp_path, text), "sales", date="month")


def test_a_non_number_names_its_row_and_a_missing_column_lists_the_columns(tmp_path):
    path = write(tmp_path, "day,value\n1,2\n2,lots\n")
    with pytest.raises(ValueError, match="row 3 has 'lots'"):
        read_series(path, "value")
    with pytest.raises(ValueError, match="no column 'price'; available columns: 'day', 'value'"):
        read_series(path, "price")
    with pytest.raises(ValueError, match="finite"):
        read_series(write(tmp_path, "a\ninf\n", "inf.csv"), "a")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such data file"):
        read_series(tmp_path / "nope.csv", "a")
    with pytest.raises(ValueError, match="empty"):
        read_series(write(tmp_path, ""), "a")
    with pytest.raises(ValueError, match="a folder"):
        read_series(tmp_path, "a")


def test_a_date_from_the_command_line_finds_its_row(tmp_path):
    series = read_series(write(tmp_path, monthly(range(30))), "sales")
    assert series.position("2021-01") == 12 and series.position("2020-12-15") == 12
    with pytest.raises(ValueError, match="after the last date"):
        series.position("2030-01-01")
    assert series.future_labels(29, 2) == ["2022-07-01", "2022-08-01"]


def test_import_numrnn_and_the_command_line_never_import_pandas_or_statsmodels():
    code = ("import sys, numrnn, numrnn.cli.main, numrnn.apps.forecast; "
            "print(sorted(m for m in ('pandas', 'statsmodels') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": ":".join(sys.path), "PATH": ""})
    assert result.stdout.strip() == "[]", result.stderr
