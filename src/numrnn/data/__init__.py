"""Built-in datasets: the four tasks of the seed tutorials.

    from numrnn import data
    X, y = data.count_ones(20, steps=10, seed=0)     # X (20, 10, 1) of 0.0/1.0, y (20, 1) counts
    X, y = data.mod3(100, steps=10, seed=0)          # X (100, 10, 3) one-hot, y (100, 10) int: (x_t + 1) % 3
    X, y = data.sine(100, start=0)                   # X (100, 50, 1) windows of sin(x), y (100, 1) the next value
    X, y = data.mult_series(3000, seed=0)            # X (3000, 10, 61) one-hot s..10s, y (3000, 10) int, 1 = end

A column of a CSV file as a time series is an application's data: numrnn.apps.forecast.read_series.
"""
from .tasks import (END_MARKER, MULT_SERIES_CLASSES, SINE_WINDOW, count_ones, mod3, mult_series, sine,
                    sine_windows)

__all__ = ["count_ones", "mod3", "sine", "sine_windows", "mult_series", "END_MARKER", "MULT_SERIES_CLASSES",
           "SINE_WINDOW"]
