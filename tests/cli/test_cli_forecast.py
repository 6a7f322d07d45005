"""`numrnn train csv` and `numrnn forecast`: the forecaster's folder, the forecast fed back on itself, and the
errors a CSV file can cause."""
import numpy as np
import pytest

import numrnn

from ._helpers import assert_usage_error, run


def test_train_csv_and_forecast(tmp_path, capsys, series_csv):
    out = tmp_path / "out"
    status, text, _ = run(capsys, "train", "csv", "--data", series_csv, "--column", "level", "--window", "8",
                          "--epochs", "3", "--out", out, "--quiet")
    assert status == 0 and text.startswith("csv: validation RMSE")
    assert {"model.npz", "history.json", "loss.png", "predictions.png", "gradient_heatmap.png"} <= \
        {p.name for p in out.iterdir()}
    forecaster = numrnn.load(out / "model.npz").extra["forecaster"]
    assert forecaster["window"] == 8 and forecaster["column"] == "level"
    assert abs(forecaster["mean"] - 5.0) < 0.2  # the first 80% of the rows of 5 + sin(i / 4)
    status, text, _ = run(capsys, "forecast", out / "model.npz", "--data", series_csv, "--steps", "5",
                          "--out", tmp_path / "fc")
    assert status == 0
    rows = [line.split("\t") for line in text.splitlines() if "\t" in line]
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert all(np.isfinite(float(r[1])) for r in rows)
    assert (tmp_path / "fc" / "forecast.png").stat().st_size > 1000
    assert (tmp_path / "fc" / "forecast.csv").read_text().startswith("step,level\n1,")


def test_forecast_feeds_predictions_back():
    model = numrnn.Sequential([numrnn.RNN(1, 3, return_sequences=False), numrnn.Dense(3, 1)], loss="mse")
    model.extra = {"forecaster": {"window": 4, "mean": 10.0, "std": 2.0, "column": "v"}}
    series = np.array([9.0, 11.0, 10.0, 12.0, 8.0])
    from numrnn.apps.forecast import forecast

    values = forecast(model, series, 3)
    context = list((series[-4:] - 10.0) / 2.0)
    for value in values:
        scaled = float(model.predict(np.array(context[-4:])[None, :, None])[0, 0])
        assert value == pytest.approx(scaled * 2.0 + 10.0, rel=1e-6)
        context.append(scaled)


def test_csv_missing_file(tmp_path, capsys):
    assert_usage_error(run(capsys, "train", "csv", "--data", tmp_path / "none.csv", "--column", "a", "--window", "3",
                           "--out", tmp_path / "o"), "no such data file")


def test_csv_missing_column_lists_the_columns(tmp_path, capsys, series_csv):
    assert_usage_error(run(capsys, "train", "csv", "--data", series_csv, "--column", "price", "--window", "3",
                           "--out", tmp_path / "o"), "no column 'price'", "'day', 'level', 'note'")


def test_csv_non_numeric_column_names_the_row(tmp_path, capsys, series_csv):
    assert_usage_error(run(capsys, "train", "csv", "--data", series_csv, "--column", "note", "--window", "3",
                           "--out", tmp_path / "o"), "must hold numbers", "row 2")


def test_csv_too_few_rows_for_the_window(tmp_path, capsys):
    path = tmp_path / "short.csv"
    path.write_text("v\n" + "\n".join(str(i) for i in range(12)) + "\n")
    assert_usage_error(run(capsys, "train", "csv", "--data", path, "--column", "v", "--window", "10",
                           "--out", tmp_path / "o"), "too few rows for a window of 10", "12 values")


def test_csv_requires_data_column_and_window(tmp_path, capsys):
    status, _, err = run(capsys, "train", "csv", "--out", tmp_path)
    assert status == 2 and "--data" in err


def test_forecast_with_a_model_that_is_not_a_forecaster(capsys, mod3_model, series_csv):
    assert_usage_error(run(capsys, "forecast", mod3_model, "--data", series_csv, "--steps", "3"),
                       "not a forecaster")
