"""One numeric column of a CSV file as a time series for forecasting; the standard library's csv module only.

    read_column(path, column)                  the column's values in file order, float64 (n,)
    windows(series, window)                    X (n - window, window, 1) of consecutive values, y (n - window, 1)
                                               the next one
    split_series(series, window, fraction)     where training ends: the chronological split and its size checks

The first row is the header. Every problem is a ValueError (FileNotFoundError for a missing file) whose message
names what is wrong: the available columns, the row (1-based, the header being row 1) of a value that is not a
number, how many rows a window needs.
"""
import csv
import math
import os
import stat

import numpy as np

from ..._validate import check_positive_int

__all__ = ["read_column", "windows", "split_series"]


def read_column(path, column):
    """The values of `column` (a header name, or a 0-based index given as an int) from the CSV at `path`."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such data file: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not a CSV file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path} is not a regular file (a FIFO, socket or device would never end)")
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            rows = list(csv.reader(stream))
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text CSV file (it is not UTF-8)") from None
    except csv.Error as error:
        raise ValueError(f"{path} is not a readable CSV file: {error}") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ValueError(f"{path} is empty: expected a header row naming the columns")
    header = [cell.strip() for cell in rows[0]]
    index = _column_index(header, column, path)
    values = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue  # blank lines, often at the end of a file
        cell = row[index].strip() if index < len(row) else ""
        try:
            value = float(cell)
        except ValueError:
            shown = repr(cell) if cell else "an empty cell"
            raise ValueError(f"{path}: column {header[index]!r} must hold numbers, row {number} has {shown}") from None
        if not math.isfinite(value):
            raise ValueError(f"{path}: column {header[index]!r} must hold finite numbers, row {number} has {cell!r}")
        values.append(value)
    if not values:
        raise ValueError(f"{path}: column {header[index]!r} has no values (the file has only a header)")
    return np.array(values, dtype=np.float64)


def _column_index(header, column, path):
    available = ", ".join(repr(name) for name in header)
    if isinstance(column, (int, np.integer)) and not isinstance(column, bool):
        if not 0 <= column < len(header):
            raise ValueError(f"{path} has {len(header)} columns, so column index {column} does not exist "
                             f"(columns: {available})")
        return int(column)
    name = str(column).strip()
    if name in header:
        return header.index(name)
    raise ValueError(f"{path} has no column {name!r}; available columns: {available}")


def windows(series, window):
    """Every run of `window` consecutive values and the value after it: X (m, window, 1), y (m, 1), m = n - window."""
    window = check_positive_int("window", window)
    series = np.asarray(series, dtype=np.float64).reshape(-1)
    if series.size <= window:
        raise ValueError(f"a window of {window} needs at least {window + 1} values, got {series.size}")
    index = np.arange(series.size - window)[:, None] + np.arange(window)[None, :]
    return series[index][:, :, None], series[window:, None]


def split_series(series, window, validation_fraction=0.2):
    """Chronological split: the last `validation_fraction` of the values are validation targets.

    Returns (number of training values, number of validation targets); raises a clear ValueError if there are
    too few rows for the window.
    """
    count = len(series)
    n_val = max(1, int(round(validation_fraction * count)))
    n_train = count - n_val
    needed = window + 1 + n_val
    if n_train < window + 1:
        minimum = int(math.ceil((window + 2) / (1 - validation_fraction)))
        raise ValueError(f"too few rows for a window of {window}: the column has {count} values, and training "
                         f"needs more than {window} of them before the last {int(100 * validation_fraction)}% "
                         f"kept for validation (at least {max(minimum, needed)} rows)")
    return n_train, n_val
