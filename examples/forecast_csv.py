"""Forecast a numeric column of a CSV file with the recipe behind `numrnn train csv` and `numrnn forecast`.

Writes a small CSV (a noisy seasonal series) to a temporary folder, trains on it and forecasts.

    PYTHONPATH=src python examples/forecast_csv.py
"""
import os
import tempfile

import numpy as np

from numrnn.apps import forecast

rng = np.random.default_rng(0)
days = np.arange(400)
values = 10 + 3 * np.sin(2 * np.pi * days / 25) + 0.02 * days + rng.normal(0, 0.2, days.size)
path = os.path.join(tempfile.mkdtemp(), "temperature.csv")
with open(path, "w") as stream:
    stream.write("day,temperature\n")
    stream.writelines(f"{d},{v:.4f}\n" for d, v in zip(days, values))

run = forecast.train_csv(path, "temperature", window=30)
print(run.summary())
print("next 5 values:", np.round(forecast.forecast(run.model, values, 5), 3))
