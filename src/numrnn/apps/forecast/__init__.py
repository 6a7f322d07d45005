"""Forecasting a user's own series: dates, several columns, trend, early stopping and honest backtests.

    from numrnn.apps import forecast
    run = forecast.train_csv("co2.csv", "co2", date="month")        # train, then backtest on the last 15%
    print(run.data["table"].text())                                 # numrnn against naive, seasonal naive, ETS
    forecaster = forecast.Forecaster.of(run.model)                  # or of numrnn.load("model.npz")
    forecaster.forecast(forecaster.read("co2.csv"), steps=12)       # dates, forecasts, a 90% interval

series.py reads the CSV (pandas: dates, frequency, gaps), features.py and windows.py turn it into the network's
examples, recipe.py trains, forecaster.py forecasts with a trained model, baselines.py and backtest.py judge it.
pandas (and statsmodels, for ETS) are imported on use: `import numrnn` never imports them.
"""
from .backtest import Table, backtest, compare
from .baselines import ETS, naive, seasonal_naive
from .forecaster import LEVELS, Forecaster
from .recipe import CELLS, DEFAULTS, default_window, plan_split, train_csv, train_series
from .series import INSTALL_HINT, Series, read_series
from .task import CSV_TASK, CsvTask

__all__ = ["read_series", "Series", "train_csv", "train_series", "Forecaster", "compare", "backtest", "Table",
           "naive", "seasonal_naive", "ETS", "CsvTask", "CSV_TASK", "DEFAULTS", "CELLS", "LEVELS", "INSTALL_HINT",
           "default_window", "plan_split"]
