"""A user's CSV file as a time series: pandas reads it, parses and sorts the dates, infers their frequency and
finds the gaps. pandas is imported here, on use, never by `import numrnn`.

    series = read_series("sales.csv", "units", features=["price"], date="day", fill="interpolate")
    series.values          float64 (n, 1 + features): the target first, then each feature, in time order
    series.dates           pandas DatetimeIndex (or None: rows in file order), series.freq ("MS", "W-SUN", ...)
    series.season          steps per season from the frequency (12 monthly, 4 quarterly, 7 daily, ...) or None
    series.filled          the dates (or rows) whose values --fill interpolate made up

The date column is --date, else the first text column whose every value parses as a date (ISO dates and
datetimes, 2024-01, 01/31/2024, ...; date=False: none, the rows in file order); a column of whole numbers from 1
to 9999 given as --date holds years. Every
problem is a ValueError (FileNotFoundError for a missing file) naming the file, the column and the rows or dates.
"""
import os
import stat
import warnings

import numpy as np

__all__ = ["INSTALL_HINT", "Series", "read_series", "require_pandas", "season_of"]

INSTALL_HINT = "numrnn's forecaster needs pandas: pip install 'numrnn[forecast]' (or pip install pandas)"
FILLS = (None, "interpolate")


def require_pandas():
    """pandas, or ImportError with the install command."""
    try:
        import pandas
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return pandas


class Series:
    """Columns of a CSV in time order: `values` (n, 1 + len(features)), the target in column 0."""

    def __init__(self, values, target, features=(), dates=None, freq=None, season=None, date_column=None,
                 filled=(), source=None, reordered=False):
        self.values = np.asarray(values, dtype=np.float64)
        self.target, self.features = str(target), tuple(str(f) for f in features)
        self.dates, self.freq, self.season, self.date_column = dates, freq, season, date_column
        self.filled, self.source, self.reordered = list(filled), source, bool(reordered)

    def __len__(self):
        return self.values.shape[0]

    @property
    def y(self):
        return self.values[:, 0]

    @property
    def columns(self):
        return (self.target, *self.features)

    def label(self, index):
        """Row `index` as the user names it: its date (2001-03-01, or with the time when it has one) or row number."""
        if self.dates is None:
            return str(int(index))
        return format_date(self.dates[int(index)])

    def labels(self, start=0, stop=None):
        return [self.label(i) for i in range(start, len(self) if stop is None else stop)]

    def future_labels(self, last, steps):
        """The dates (or row numbers) of the `steps` values after row `last`."""
        if self.dates is None or self.freq is None:
            return [str(int(last) + k) for k in range(1, steps + 1)]
        pd = require_pandas()
        dates = pd.date_range(self.dates[int(last)], periods=steps + 1, freq=self.freq)[1:]
        return [format_date(d) for d in dates]

    def position(self, when, what="--from"):
        """The first row at or after `when` (a date, or a row number for a series without dates)."""
        if self.dates is None:
            try:
                index = int(when)
            except (TypeError, ValueError):
                raise ValueError(f"{what} must be a row number for data without a date column, got {when!r}") from None
            if not 0 <= index < len(self):
                raise ValueError(f"{what} {index} is outside the file's rows 0 to {len(self) - 1}")
            return index
        pd = require_pandas()
        try:
            stamp = pd.Timestamp(str(when))
        except (TypeError, ValueError):
            raise ValueError(f"{what} must be a date like {self.label(0)}, got {when!r}") from None
        index = int(self.dates.searchsorted(stamp))
        if index >= len(self):
            raise ValueError(f"{what} {when} is after the last date of the file ({self.label(len(self) - 1)})")
        return index


def format_date(stamp):
    return stamp.strftime("%Y-%m-%d") if stamp == stamp.normalize() else stamp.strftime("%Y-%m-%d %H:%M:%S")


def read_series(path, target, features=(), date=None, fill=None, date_format=None, season=None):
    """The columns `target` and `features` of the CSV at `path` as a Series, sorted by the date column.

    fill: None refuses a missing value or a missing date, naming them; "interpolate" fills them linearly in time.
    season: steps per season, overriding the one the frequency gives (0: none).
    """
    pd = require_pandas()
    if fill not in FILLS:
        raise ValueError(f"fill must be None or 'interpolate', got {fill!r}")
    frame = _read_csv(pd, os.fspath(path))
    features = [str(f) for f in features or ()]
    for column in [target, *features] + ([date] if date not in (None, False) else []):
        _check_column(frame, column, path)
    if str(target) in features or len(set(features)) != len(features):
        raise ValueError(f"--features must name columns other than the target {target!r}, each once")
    if date is None:
        date = _find_date_column(pd, frame, exclude={str(target), *features})
    elif date is False:
        date = None
    values = _numeric(pd, frame, [str(target), *features], path)
    dates = freq = None
    reordered = False
    if date is not None:
        dates = _parse_dates(pd, frame[date], date, path, date_format)
        order = np.argsort(dates.to_numpy(), kind="stable")
        reordered = bool(np.any(order != np.arange(order.size)))
        dates, values = dates[order], values.iloc[order]
        values.index = dates
        _refuse_duplicates(dates, date, path)
        freq = infer_frequency(pd, dates, date, path)
        grid = pd.date_range(dates[0], dates[-1], freq=freq)
        values = values.reindex(grid)
        dates = grid
    missing = values.isna().any(axis=1).to_numpy()
    filled = []
    if missing.any():
        where = [format_date(d) for d in values.index[missing]] if dates is not None \
            else [str(int(i) + 2) for i in np.flatnonzero(missing)]
        if fill is None:
            shown = ", ".join(where[:5]) + (f" and {len(where) - 5} more" if len(where) > 5 else "")
            kind = "dates" if dates is not None else "rows"
            raise ValueError(f"{path}: {len(where)} missing values or dates ({kind} {shown}); fill them by "
                             f"linear interpolation with --fill interpolate, or fix the file")
        values = values.reset_index(drop=True).interpolate(limit_direction="both")
        filled = where
    if len(values) == 0:
        raise ValueError(f"{path}: column {target!r} has no values (the file has only a header)")
    steps = season_of(freq) if season is None else (int(season) or None)
    return Series(values.to_numpy(dtype=np.float64), target, features, dates, freq, steps, date, filled,
                  source=os.fspath(path), reordered=reordered)


def _read_csv(pd, path):
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such data file: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not a CSV file")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path} is not a regular file (a FIFO, socket or device would never end)")
    try:
        frame = pd.read_csv(path, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} is empty: expected a header row naming the columns") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a text CSV file (it is not UTF-8)") from None
    except pd.errors.ParserError as error:
        raise ValueError(f"{path} is not a readable CSV file: {str(error).strip()}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _check_column(frame, column, path):
    if str(column) not in frame.columns:
        available = ", ".join(repr(c) for c in frame.columns)
        raise ValueError(f"{path} has no column {str(column)!r}; available columns: {available}")


def _numeric(pd, frame, columns, path):
    """The columns as float64, a missing cell NaN; a cell that is not a number is refused, naming its row."""
    out = {}
    for column in columns:
        raw = frame[column]
        numbers = pd.to_numeric(raw, errors="coerce")
        bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{path}: column {column!r} must hold numbers, row {row + 2} has {raw.iloc[row]!r}")
        numbers = numbers.astype(np.float64)
        infinite = np.isinf(numbers.to_numpy())
        if infinite.any():
            row = int(np.flatnonzero(infinite)[0])
            raise ValueError(f"{path}: column {column!r} must hold finite numbers, row {row + 2} has "
                             f"{raw.iloc[row]!r}")
        out[column] = numbers.to_numpy()
    return pd.DataFrame(out)


def _find_date_column(pd, frame, exclude):
    """The first text column, other than those used, whose every value parses as a date; None if there is none."""
    for column in frame.columns:
        if column in exclude or pd.api.types.is_numeric_dtype(frame[column]):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(frame[column], errors="coerce")
        if len(parsed) and parsed.notna().all():
            return column
    return None


def _parse_dates(pd, raw, column, path, date_format=None):
    if pd.api.types.is_numeric_dtype(raw):
        numbers = raw.to_numpy(dtype=np.float64)
        if not (np.all(np.isfinite(numbers)) and np.all(numbers == np.round(numbers))
                and np.all((numbers >= 1) & (numbers <= 9999))):
            raise ValueError(f"{path}: column {column!r} holds numbers that are not years; a date column holds "
                             f"dates (2024-01-31, 2024-01, 2024-01-31 12:00) or years (1700)")
        raw, date_format = raw.astype(np.int64).astype(str).str.zfill(4), "%Y"
    text = raw.astype("string").str.strip()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            dates = pd.to_datetime(text, errors="coerce", format=date_format)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}: column {column!r}: {error}") from None
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna().to_numpy())[0])
        shown = "an empty cell" if text.isna().iloc[row] or not text.iloc[row] else repr(str(text.iloc[row]))
        raise ValueError(f"{path}: column {column!r} must hold dates (like 2024-01-31), row {row + 2} has {shown}"
                         + ("" if date_format else "; --date-format says how they are written (%d/%m/%Y)"))
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index


def _refuse_duplicates(dates, column, path):
    duplicated = dates[dates.duplicated()]
    if len(duplicated):
        shown = ", ".join(format_date(d) for d in duplicated[:5])
        raise ValueError(f"{path}: column {column!r} has the same date on several rows: {shown}")


def infer_frequency(pd, dates, column="date", path="the data"):
    """The dates' frequency as a pandas offset alias; gaps allowed (the most common frequency of runs of three
    consecutive dates), dates off that grid refused."""
    if len(dates) < 3:
        raise ValueError(f"{path}: column {column!r} needs at least 3 dates to tell their frequency, got {len(dates)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = pd.infer_freq(dates)
        if whole is None:
            counts = {}
            for start in range(0, len(dates) - 2):
                found = pd.infer_freq(dates[start:start + 3])
                if found is not None:
                    key = pd.tseries.frequencies.to_offset(found).freqstr
                    counts[key] = counts.get(key, 0) + 1
            whole = max(counts, key=counts.get) if counts else None
    if whole is None:
        raise ValueError(f"{path}: the dates of column {column!r} have no regular frequency (daily, weekly, "
                         f"monthly, ...): resample the data to one first")
    freq = pd.tseries.frequencies.to_offset(whole).freqstr
    grid = pd.date_range(dates[0], dates[-1], freq=freq)
    off = dates.difference(grid)
    if len(off):
        shown = ", ".join(format_date(d) for d in off[:5])
        raise ValueError(f"{path}: the dates of column {column!r} are mostly {describe_freq(freq)} ({freq}) but "
                         f"{len(off)} fall between the steps: {shown}")
    return freq


def season_of(freq):
    """Steps per season for a pandas frequency: a year of months (12), quarters (4) or weeks (52), a week of days
    (7) or business days (5), a day of hours or minutes; None for years, an unknown frequency or None."""
    if freq is None:
        return None
    pd = require_pandas()
    offset = pd.tseries.frequencies.to_offset(freq)
    name = offset.rule_code.split("-")[0]
    per = {"MS": 12, "ME": 12, "M": 12, "BMS": 12, "BME": 12, "BM": 12, "SMS": 24, "SME": 24, "QS": 4, "QE": 4,
           "Q": 4, "BQS": 4, "BQE": 4, "W": 52, "D": 7, "B": 5}.get(name)
    if per is not None:
        return per // offset.n if per % offset.n == 0 and per // offset.n > 1 else None
    try:
        seconds = pd.Timedelta(offset).total_seconds()
    except (TypeError, ValueError):
        return None
    per_day = 86400 / seconds if seconds > 0 else 0
    return int(per_day) if per_day == int(per_day) and 1 < per_day <= 1440 else None


def describe_freq(freq):
    names = {"MS": "monthly", "ME": "monthly", "QS": "quarterly", "QE": "quarterly", "YS": "yearly",
             "YE": "yearly", "W": "weekly", "D": "daily", "B": "business-daily", "h": "hourly", "min": "minutely"}
    return names.get(str(freq).split("-")[0], str(freq))
