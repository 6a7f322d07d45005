"""The forecaster's commands: `numrnn train csv` (dates, features, the backtest table), `forecast` (dated CSV with
an interval, and a plot), `backtest`, `evaluate` and `predict` on a forecaster, and the errors a user's CSV can
cause, each one line `numrnn: error: ...` with exit status 2."""
import csv
import json

import numpy as np
import pytest

import numrnn

from ._helpers import assert_usage_error, run

pd = pytest.importorskip("pandas")
FAST = ("--epochs", "4", "--patience", "2", "--quiet")


def write_monthly(path, rows=130, newest_first=False, features=False, drop=()):
    t = np.arange(rows)
    y = 20 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(0).normal(0, 0.3, rows)
    dates = pd.date_range("2001-01-01", periods=rows, freq="MS").strftime("%Y-%m-%d")
    lines = [f"{d},{v:.4f}" + (f",{np.cos(i / 5):.4f}" if features else "")
             for i, (d, v) in enumerate(zip(dates, y)) if i not in drop]
    header = "month,sales" + (",price" if features else "")
    path.write_text(header + "\n" + "\n".join(lines[::-1] if newest_first else lines) + "\n")
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A forecaster trained by the command line on a newest-first monthly CSV, and what it printed."""
    import subprocess
    import sys
    folder = tmp_path_factory.mktemp("forecaster")
    data = write_monthly(folder / "sales.csv", newest_first=True)
    result = subprocess.run([sys.executable, "-m", "numrnn", "train", "csv", "--data", str(data), "--target", "sales",
                             "--out", str(folder / "run"), *FAST], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return folder / "run" / "model.npz", data, result.stdout


def test_train_csv_sorts_the_dates_and_ends_with_the_test_table(trained):
    model, _, out = trained
    assert "rows sorted by 'month': the file was not in time order" in out
    assert "window 18, horizon 1, differenced, season of 12; 90 training, 20 validation, 20 test rows" in out
    assert "test tail: 2010-03-01 .. 2011-10-01 (20 values, never seen in training or model selection)" in out
    for name in ("numrnn (lstm, window 18)", "naive", "seasonal naive (12)", "ETS("):
        assert name in out
    assert "result: numrnn" in out and out.strip().splitlines()[-2].startswith("csv: test RMSE")
    assert {"model.npz", "history.json", "loss.png", "predictions.png", "gradient_heatmap.png"} <= \
        {p.name for p in model.parent.iterdir()}
    extra = numrnn.load(model).extra
    assert extra["forecaster"]["date"] == "month" and extra["backtest"]["values"] == 20


def test_forecast_writes_dates_forecasts_and_an_interval(trained, tmp_path, capsys):
    model, data, _ = trained
    status, out, _ = run(capsys, "forecast", model, "--data", data, "--steps", "14", "--out", tmp_path)
    assert status == 0 and out.splitlines()[0] == "date\tforecast\t90% interval"
    with open(tmp_path / "forecast.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["date", "forecast", "lower", "upper"] and len(rows) == 14
    assert rows[0]["date"] == "2011-11-01" and rows[-1]["date"] == "2012-12-01"
    assert all(float(r["lower"]) <= float(r["forecast"]) <= float(r["upper"]) for r in rows)
    assert (tmp_path / "forecast.png").stat().st_size > 5000


def test_forecast_from_a_date_inside_the_file(trained, capsys):
    model, data, _ = trained
    status, out, _ = run(capsys, "forecast", model, "--data", data, "--steps", "2", "--from", "2005-06",
                         "--level", "0.8")
    lines = out.splitlines()
    assert status == 0 and lines[0] == "date\tforecast\t80% interval"
    assert [line.split("\t")[0] for line in lines[1:]] == ["2005-06-01", "2005-07-01"]


def test_backtest_writes_every_date_and_prints_the_table(trained, tmp_path, capsys):
    model, data, _ = trained
    status, out, _ = run(capsys, "backtest", model, "--data", data, "--from", "2010-01-01", "--out", tmp_path)
    assert status == 0 and "backtest: 2010-01-01 .. 2011-10-01 (22 values)" in out and "seasonal naive" in out
    frame = pd.read_csv(tmp_path / "backtest.csv")
    assert list(frame.columns) == ["date", "actual", "forecast"] and len(frame) == 22
    assert frame["date"].iloc[0] == "2010-01-01"
    status, out, _ = run(capsys, "backtest", model, "--data", data, "--from", "2011-01", "--horizon", "3",
                         "--out", tmp_path, "--json")
    table = json.loads(out)
    assert status == 0 and table["steps"] == 3 and table["rows"][0]["model"].startswith("numrnn")
    frame = pd.read_csv(tmp_path / "backtest.csv")
    assert list(frame.columns) == ["date", "actual", "forecast", "horizon"] and set(frame["horizon"]) == {1, 2, 3}


def test_evaluate_a_forecaster_on_the_rows_it_never_saw(trained, capsys, tmp_path):
    model, data, out = trained
    status, text, _ = run(capsys, "evaluate", model, "--data", data)
    assert status == 0 and text.startswith("evaluated: 2010-03-01 .. 2011-10-01 (20 values)")
    numbers = [line for line in text.splitlines() if line.startswith("naive")]
    assert numbers and numbers[0] in out  # the same table as training's
    status, text, _ = run(capsys, "evaluate", model, "--data", data, "--from", "2011-01", "--json")
    assert status == 0 and json.loads(text)["values"] == 10
    seen = tmp_path / "seen.csv"
    lines = data.read_text().splitlines()  # newest first: drop the 20 newest rows, the test tail
    seen.write_text("\n".join([lines[0]] + lines[21:]) + "\n")
    assert_usage_error(run(capsys, "evaluate", model, "--data", seen),
                       "saw every row of this file up to 2010-02-01 in training", "--from DATE")


def test_predict_reads_the_forecasters_columns_and_refuses_raw_windows(trained, tmp_path, capsys):
    model, data, _ = trained
    status, out, _ = run(capsys, "predict", model, "--input", data, "--output", tmp_path / "p.csv")
    frame = pd.read_csv(tmp_path / "p.csv")
    assert status == 0 and list(frame.columns) == ["date", "forecast"]
    assert frame["date"].iloc[-1] == "2011-11-01" and len(frame) == 130 - 18
    np.save(tmp_path / "x.npy", np.zeros((2, 18, 1)))
    assert_usage_error(run(capsys, "predict", model, "--input", tmp_path / "x.npy"),
                       "is a forecaster: it does not take raw windows", "'sales'", "numrnn forecast")
    (tmp_path / "w.csv").write_text("1,2,3\n4,5,6\n")
    assert_usage_error(run(capsys, "predict", model, "--input", tmp_path / "w.csv"), "no column 'sales'")


def test_info_describes_the_forecaster(trained, capsys):
    status, out, _ = run(capsys, "info", trained[0])
    assert status == 0 and "forecaster: target 'sales', dates in 'month' (monthly), window 18" in out


def test_features_horizon_and_an_undated_file(tmp_path, capsys, series_csv):
    data = write_monthly(tmp_path / "f.csv", features=True)
    status, out, _ = run(capsys, "train", "csv", "--data", data, "--column", "sales", "--features", "price",
                         "--horizon", "2", "--cell", "gru", "--window", "12", "--out", tmp_path / "f", "--no-plots",
                         *FAST)
    assert status == 0 and "features 'price'" in out and "1 to 2 steps ahead" in out
    assert_usage_error(run(capsys, "forecast", tmp_path / "f" / "model.npz", "--data", data, "--steps", "5"),
                       "at most its horizon (2 steps)")
    status, out, _ = run(capsys, "train", "csv", "--data", series_csv, "--target", "level", "--out",
                         tmp_path / "u", "--no-plots", "--cell", "rnn", *FAST)
    assert status == 0 and "window 16" in out and "seasonal naive (" not in out
    status, out, _ = run(capsys, "forecast", tmp_path / "u" / "model.npz", "--data", series_csv, "--steps", "2")
    assert status == 0 and [line.split("\t")[0] for line in out.splitlines()] == ["row", "120", "121"]


def test_gaps_are_refused_naming_the_dates_or_filled(tmp_path, capsys):
    data = write_monthly(tmp_path / "gap.csv", drop=(40, 41))
    assert_usage_error(run(capsys, "train", "csv", "--data", data, "--target", "sales", "--out", tmp_path / "o"),
                       "2 missing values or dates (dates 2004-05-01, 2004-06-01)", "--fill interpolate")
    status, out, _ = run(capsys, "train", "csv", "--data", data, "--target", "sales", "--fill", "interpolate",
                         "--out", tmp_path / "filled", "--no-plots", *FAST)
    assert status == 0 and "filled 2 missing values by interpolation: 2004-05-01, 2004-06-01" in out


def test_too_little_data_names_the_rows_needed(tmp_path, capsys):
    data = tmp_path / "five.csv"
    data.write_text("day,v\n" + "".join(f"2024-01-0{i + 1},{i}\n" for i in range(5)))
    assert_usage_error(run(capsys, "train", "csv", "--data", data, "--target", "v", "--window", "3",
                           "--out", tmp_path / "o"), "too little data: 5 rows", "need at least 64 rows")


@pytest.mark.parametrize("argv, fragments", [
    (("--target", "price"), ("no column 'price'", "'day', 'level', 'note'")),
    (("--target", "note"), ("must hold numbers", "row 2")),
    (("--target", "level", "--date", "note"), ("column 'note' must hold dates", "row 2 has 'x'")),
    (("--target", "level", "--test-fraction", "0.7"), ("expected a fraction in [0, 0.5)",)),
])
def test_errors_in_a_csv_are_one_line(tmp_path, capsys, series_csv, argv, fragments):
    assert_usage_error(run(capsys, "train", "csv", "--data", series_csv, *argv, "--out", tmp_path / "o"), *fragments)


def test_command_errors_are_one_line(trained, tmp_path, capsys, mod3_model):
    model, data, _ = trained
    assert_usage_error(run(capsys, "forecast", mod3_model, "--data", data, "--steps", "3"), "not a forecaster")
    assert_usage_error(run(capsys, "backtest", model, "--data", data, "--from", "2030-01", "--out", tmp_path),
                       "after the last date of the file (2011-10-01)")
    assert_usage_error(run(capsys, "forecast", model, "--data", data, "--steps", "3", "--from", "2001-03"),
                       "a forecast needs 19 rows before it")
    assert_usage_error(run(capsys, "backtest", model, "--data", tmp_path / "none.csv", "--from", "2010",
                           "--out", tmp_path), "no such data file")
    assert_usage_error(run(capsys, "evaluate", mod3_model, "--from", "2010"), "--from is for forecasters")
