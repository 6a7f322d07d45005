"""Forecasting one numeric column of a CSV file: reading the column (series.py) and the forecaster (recipe.py).

    from numrnn.apps import forecast
    run = forecast.train_csv("prices.csv", "close", window=30)
    forecast.forecast(run.model, forecast.read_column("prices.csv", "close"), steps=5)
"""
from .recipe import CSV_DEFAULTS, CSV_TASK, CsvTask, forecast, forecaster_info, train_csv
from .series import read_column, split_series, windows

__all__ = ["read_column", "windows", "split_series", "train_csv", "forecast", "forecaster_info", "CsvTask",
           "CSV_TASK", "CSV_DEFAULTS"]
