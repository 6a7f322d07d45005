"""numrnn.apps.forecast's recipe, forecaster and backtest: the chronological split and its refusal of too little
data, a test tail that no training or choice ever reads, features and horizons, intervals, a forecaster that
forecasts the same after save and load, and backtests that use only the rows before each prediction."""
import re

import numpy as np
import pytest

import numrnn

pd = pytest.importorskip("pandas")

from numrnn.apps.forecast import (DEFAULTS, Forecaster, Series, Table, backtest, compare,  # noqa: E402
                                  default_window, plan_split, train_series)

FAST = {"epochs": 4, "patience": 2}


def make_series(rows=130, features=0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    y = 20 + 0.1 * t + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.3, rows)
    columns = [y] + [np.cos(t / (3 + j)) + rng.normal(0, 0.1, rows) for j in range(features)]
    dates = pd.date_range("2001-01-01", periods=rows, freq="MS")
    return Series(np.stack(columns, axis=1), "sales", [f"x{j}" for j in range(features)], dates, "MS", 12, "month")


@pytest.fixture(scope="module")
def run():
    return train_series(make_series(), FAST)


def test_the_split_is_chronological_with_a_default_window_of_two_seasons():
    assert default_window(12) == 24 and default_window(None) == 20 and default_window(365) == 52 and default_window(24) == 48
    n_train, n_val, n_test, window = plan_split(400, dict(DEFAULTS), season=12)
    assert (n_train, n_val, n_test, window) == (280, 60, 60, 24)
    assert plan_split(130, dict(DEFAULTS), season=12)[3] == 18  # a fifth of the 90 training rows


def test_too_little_data_says_how_many_rows_are_needed():
    settings = dict(DEFAULTS, window=12, horizon=3)
    with pytest.raises(ValueError) as error:
        plan_split(50, settings, season=12)
    message = str(error.value)
    needed = int(message.split("need at least ")[1].split(" rows")[0])
    assert "too little data: 50 rows" in message and "a window of 12, a horizon of 3" in message
    assert plan_split(needed, settings, season=12)
    with pytest.raises(ValueError, match="too little data"):
        plan_split(needed - 1, settings, season=12)


def test_a_five_row_series_with_a_window_of_three_is_refused():
    with pytest.raises(ValueError, match=r"too little data: 5 rows, and a window of 3, .* at least 64 rows"):
        train_series(make_series(5), dict(FAST, window=3))


def test_the_test_tail_is_never_seen_in_training_or_model_selection(run):
    """The same run on a series whose test tail is garbage ends with the same weights and validation errors."""
    series = make_series()
    n_seen = run.settings["train_rows"] + run.settings["validation_rows"]
    series.values[n_seen:, 0] = 1e6
    other = train_series(series, FAST)
    for name, value in run.model.state_dict().items():
        np.testing.assert_array_equal(value, other.model.state_dict()[name])
    assert other.metrics["validation_rmse"] == run.metrics["validation_rmse"]
    assert other.extra["forecaster"]["transform"] == run.extra["forecaster"]["transform"]


def test_the_run_reports_its_table_and_keeps_its_forecaster(run):
    table, config = run.data["table"], run.extra["forecaster"]
    assert run.metrics["part"] == "test" and table.count == run.settings["test_rows"] == 20
    assert [row["model"] for row in table.rows][1:3] == ["naive", "seasonal naive (12)"]
    assert table.steps == 12 and "multi_step" in table.numrnn
    assert config["season"] == 12 and config["calendar"] and config["transform"]["difference"] == [True]
    assert run.model.layers[0].input_size == 3  # the target's change and the calendar's sine and cosine
    assert config["test_from"] == "2010-03-01" and len(config["intervals"]["quantiles"]) >= 1


def test_features_and_a_horizon_shape_the_network():
    run = train_series(make_series(features=2), dict(FAST, horizon=3, cell="gru", hidden=8))
    assert run.model.layers[0].input_size == 5 and run.model.layers[-1].out_features == 3
    assert run.data["table"].steps == 3 and type(run.model.layers[0]).__name__ == "GRU"


def test_a_saved_forecaster_forecasts_as_the_trained_one(run, tmp_path):
    series = make_series()
    run.model.save(tmp_path / "model.npz", extra=run.model.extra)
    loaded = Forecaster.of(numrnn.load(tmp_path / "model.npz"))
    trained = Forecaster.of(run.model).forecast(series, 5)
    again = loaded.forecast(series, 5)
    np.testing.assert_allclose(again["forecast"], trained["forecast"], rtol=1e-6)
    assert again["date"] == ["2011-11-01", "2011-12-01", "2012-01-01", "2012-02-01", "2012-03-01"]


def test_the_interval_holds_the_forecast_and_widens(run):
    result = Forecaster.of(run.model).forecast(make_series(), 30, level=0.8)
    lower, value, upper = (np.array(result[key]) for key in ("lower", "forecast", "upper"))
    assert np.all(lower <= value) and np.all(value <= upper)
    assert (upper - lower)[-1] > (upper - lower)[0]
    with pytest.raises(ValueError, match="level must be one of 0.8, 0.9, 0.95"):
        Forecaster.of(run.model).interval(3, level=0.5)


def test_a_forecast_from_any_row_uses_only_the_rows_before_it(run):
    forecaster, series = Forecaster.of(run.model), make_series()
    before = forecaster.forecast(series, 4, origin=80)
    series.values[81:, 0] = -1e3
    assert forecaster.forecast(series, 4, origin=80)["forecast"] == before["forecast"]


def test_a_backtest_forecasts_each_date_from_the_rows_before_it(run):
    forecaster, series = Forecaster.of(run.model), make_series()
    rows = backtest(forecaster, series, 120, horizon=2)
    assert rows["date"][:3] == ["2011-01-01", "2011-01-01", "2011-02-01"] and rows["horizon"][:3] == [1, 2, 1]
    assert len(rows["date"]) == 2 * 10 - 0 and rows["actual"][0] == series.y[120]
    one = forecaster.paths(series, [119], 1)[0, 0]
    assert rows["forecast"][0] == pytest.approx(one)
    changed = make_series()
    changed.values[125:, 0] += 50
    again = backtest(forecaster, changed, 120, horizon=2)
    assert again["forecast"][:10] == rows["forecast"][:10]  # dates up to 2011-05: made before the change


def test_the_verdict_says_plainly_when_numrnn_does_not_beat_a_baseline():
    rows = [{"model": "numrnn (lstm, window 24)", "one_step": {"rmse": 2.0, "mae": 1.5}},
            {"model": "naive", "one_step": {"rmse": 3.0, "mae": 2.0}},
            {"model": "ETS(A,A,A)", "one_step": {"rmse": 1.0, "mae": 0.8}}]
    table = Table("2001-01-01", "2002-01-01", 13, None, rows)
    assert not table.beaten and table.best_baseline["model"] == "ETS(A,A,A)"
    assert "numrnn does NOT beat ETS(A,A,A) one step ahead (RMSE 2 against 1, 2.00x)" in table.text()
    assert table.json()["beats_baselines"] is False


def test_the_forecaster_of_numrnn_0_1_still_forecasts():
    model = numrnn.Sequential([numrnn.RNN(1, 3, return_sequences=False), numrnn.Dense(3, 1)], loss="mse")
    model.extra = {"forecaster": {"window": 4, "mean": 10.0, "std": 2.0, "column": "v", "rows": 9}}
    forecaster = Forecaster.of(model)
    series = Series(np.array([[9.0], [11.0], [10.0], [12.0], [8.0]]), "v")
    context = list((series.y[-4:] - 10.0) / 2.0)
    values = forecaster.forecast(series, 2)["forecast"]
    for value in values:
        scaled = float(model.predict(np.array(context[-4:])[None, :, None])[0, 0])
        assert value == pytest.approx(scaled * 2.0 + 10.0, rel=1e-6)
        context.append(scaled)


def test_another_model_is_not_a_forecaster():
    model = numrnn.Sequential([numrnn.RNN(1, 3, return_sequences=False), numrnn.Dense(3, 1)])
    with pytest.raises(ValueError, match="not a forecaster: train one with `numrnn train csv"):
        Forecaster.of(model)


def test_a_table_without_statsmodels_says_ets_was_left_out(run, monkeypatch):
    import sys
    module = sys.modules["numrnn.apps.forecast.backtest"]
    monkeypatch.setattr(module, "statsmodels_available", lambda: False)
    table = compare(Forecaster.of(run.model), make_series(), 110)
    assert "ETS left out: statsmodels is not installed" in table.text()
    assert [row["model"] for row in table.rows][1:] == ["naive", "seasonal naive (12)"]



@pytest.mark.parametrize("change, fragment", [
    ({"window": 10 ** 12}, "window must be an integer in [1, 100,000]"),
    ({"horizon": "3"}, "horizon must be an integer"),
    ({"season": -1}, "season must be an integer"),
    ({"target": 3}, "target must be a name"),
    ({"features": "price"}, "features must be a list of names"),
    ({"transform": {"difference": [True], "mean": [0.0, 1.0], "std": [1.0]}}, "transform mean must be 1 finite"),
    ({"transform": {"difference": [True], "mean": [0.0], "std": [0.0]}}, "std must be positive"),
    ({"intervals": {"quantiles": [[float("nan")] * 6]}}, "intervals must hold a list of error quantiles"),
    ({"calendar": False}, "the network takes 3 inputs and gives 1 outputs; the forecaster needs 1 and 1"),
])
def test_a_forecaster_file_that_lies_is_refused_naming_it(run, change, fragment):
    """Nothing a model file says about its forecaster is trusted: each lie is a ValueError naming the file."""
    model = run.model.clone() if hasattr(run.model, "clone") else run.model
    model.extra = {"forecaster": dict(run.extra["forecaster"], **change)}
    with pytest.raises(ValueError, match=r"^runs/x/model.npz: not a usable forecaster: .*" + re.escape(fragment)):
        Forecaster.of(model, source="runs/x/model.npz")


def test_refit_trains_a_fresh_network_on_training_and_validation_rows(run):
    again = train_series(make_series(), dict(FAST, refit=True))
    assert again.metrics["best_epoch"] == run.metrics["best_epoch"]
    assert again.extra["forecaster"]["intervals"] == run.extra["forecaster"]["intervals"]  # from the first fit
    weights, refitted = run.model.state_dict(), again.model.state_dict()
    assert any(not np.array_equal(weights[name], refitted[name]) for name in weights)
