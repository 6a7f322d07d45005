"""Forecast a real monthly series with the recipe behind `numrnn train csv`, from Python.

Writes El Nino's monthly sea-surface temperatures (shipped with statsmodels, a year-by-month table) as a CSV with
a date column, trains the default forecaster (the last 15% held out), prints its backtest against naive, seasonal
naive and ETS, then forecasts the next 12 months with a 90% interval and backtests three months ahead from 2008.
Needs pandas and statsmodels: pip install ".[forecast]".

    PYTHONPATH=src python examples/forecast_csv.py
"""
import os
import tempfile

import numpy as np
import pandas as pd
import statsmodels.api as sm

from numrnn.apps import forecast

table = sm.datasets.elnino.load_pandas().data
values = table.iloc[:, 1:].to_numpy().reshape(-1)
months = pd.date_range(f"{int(table.YEAR.iloc[0])}-01-01", periods=values.size, freq="MS")
path = os.path.join(tempfile.mkdtemp(), "elnino.csv")
pd.DataFrame({"month": months.strftime("%Y-%m"), "temperature": values}).to_csv(path, index=False)

run = forecast.train_csv(path, "temperature")      # the date column is found; season 12 from its frequency
print(run.data["table"].text())
print(run.summary())

forecaster = forecast.Forecaster.of(run.model)     # the same works on numrnn.load("model.npz")
series = forecaster.read(path)
future = forecaster.forecast(series, steps=12)
for date, value, low, high in zip(future["date"], future["forecast"], future["lower"], future["upper"]):
    print(f"{date}  {value:6.2f}  [{low:6.2f}, {high:6.2f}]")

rows = forecast.backtest(forecaster, series, series.position("2008-01"), horizon=3)
errors = np.array(rows["forecast"]) - np.array(rows["actual"])
print(f"backtest from 2008-01, 1 to 3 months ahead: {len(errors)} forecasts, RMSE {np.sqrt(np.mean(errors ** 2)):.3f}")
