"""A trained forecaster: the network and what it needs to read a series the way it was trained, kept with the
model (model.extra["forecaster"], saved in model.npz) so a loaded model forecasts as the trained one did.

    forecaster = Forecaster.of(numrnn.load("runs/co2/model.npz"))
    series = forecaster.read("co2.csv")                              the model's columns, dates and frequency
    forecaster.paths(series, origins, steps)                         (origins, steps): forecasts from any rows
    forecaster.forecast(series, steps, origin=None, level=0.9)       the next values, dated, with an interval

The interval at step k is the forecast plus the quantiles of the validation part's k-step errors (made by the
model before it saw the validation rows); past the last step that had at least 10 errors, the last quantiles
grow as the square root of the steps.
"""
import math

import numpy as np

from .features import Transform, phases
from .series import describe_freq, read_series
from .windows import Framing

__all__ = ["Forecaster", "LEVELS", "PROBABILITIES"]

#: the error quantiles kept with a model, and the interval levels they give
PROBABILITIES = (0.025, 0.05, 0.1, 0.9, 0.95, 0.975)
#: the longest window, horizon or season a forecaster file may declare (a longer one is refused unread)
MAX_WINDOW = 100_000
LEVELS = (0.8, 0.9, 0.95)
NOT_A_FORECASTER = ("this model is not a forecaster: train one with `numrnn train csv --data FILE --target COLUMN "
                    "--out DIR`")


class Forecaster:
    """A model and its forecaster config (see the module docstring)."""

    def __init__(self, model, config):
        self.model, self.config = model, config
        self.framing = Framing(Transform.from_config(config["transform"]), config["window"], config["horizon"],
                               config.get("season") if config.get("calendar") else None)

    @classmethod
    def of(cls, model, source=None):
        """The forecaster of a model from `numrnn train csv`; a ValueError (naming `source`, the model's file) for
        any other model, or for facts that cannot be right: nothing in a file is trusted (a window of 10**12 would
        have a forecast read that many rows)."""
        where = f"{source}: " if source else ""
        config = (getattr(model, "extra", None) or {}).get("forecaster")
        if not config:
            raise ValueError(where + NOT_A_FORECASTER)
        if isinstance(config, dict) and "transform" not in config:  # numrnn 0.1's: one column, scaled, no difference
            config = {"target": config.get("column"), "features": [], "date": None, "freq": None, "season": None,
                      "calendar": False, "window": config.get("window"), "horizon": 1,
                      "transform": {"difference": [False], "mean": [config.get("mean")], "std": [config.get("std")]}}
        problems = check_config(config, model)
        if problems:
            raise ValueError(f"{where}not a usable forecaster: {'; '.join(problems)}")
        return cls(model, config)

    @property
    def target(self):
        return self.config["target"]

    @property
    def features(self):
        return list(self.config.get("features") or [])

    @property
    def horizon(self):
        return self.framing.horizon

    @property
    def window(self):
        return self.framing.window

    def describe(self):
        """One line: what the forecaster reads and predicts."""
        c = self.config
        parts = [f"target {c['target']!r}"]
        if self.features:
            parts.append("features " + ", ".join(repr(f) for f in self.features))
        if c.get("date"):
            parts.append(f"dates in {c['date']!r} ({describe_freq(c.get('freq'))})")
        parts.append(f"window {self.window}, horizon {self.horizon}")
        parts.append("differenced" if self.framing.transform.difference[0] else "not differenced")
        if self.framing.season:
            parts.append(f"season of {self.framing.season}")
        return ", ".join(parts)

    def read(self, path, fill=None, date_format=None, target=None):
        """The model's columns of the CSV at `path`, as it was trained on them (target: the target's column when
        the file names it otherwise)."""
        series = read_series(path, target or self.target, self.features, date=self.config.get("date") or False, fill=fill,
                             date_format=date_format, season=self.config.get("season") or 0)
        series.target = self.target
        self.check(series)
        return series

    def check(self, series):
        """A clear error when `series` cannot be read by this model (other columns, another frequency)."""
        if list(series.columns) != [self.target, *self.features]:
            raise ValueError(f"the model reads the columns {[self.target, *self.features]}, got "
                             f"{list(series.columns)}")
        freq = self.config.get("freq")
        if freq and series.freq and series.freq != freq:
            raise ValueError(f"the model was trained on {describe_freq(freq)} data ({freq}), the file's dates are "
                             f"{describe_freq(series.freq)} ({series.freq})")

    def phase(self, series, extra=0):
        """The phase of every row of `series` and of `extra` rows after it (None without a season)."""
        season = self.framing.season
        if not season:
            return None
        if series.dates is None or series.freq is None:
            return phases(None, None, season, len(series) + extra)
        from .series import require_pandas
        dates = require_pandas().date_range(series.dates[0], periods=len(series) + extra, freq=series.freq)
        return phases(dates, series.freq, season)

    def first_origin(self):
        return self.framing.first_origin

    def paths(self, series, origins, steps):
        """Forecasts (origins, steps) after each origin, each from the rows up to it."""
        origins = np.asarray(origins, dtype=np.int64)
        if origins.size and origins.min() < self.first_origin():
            raise ValueError(f"a forecast needs {self.first_origin() + 1} rows before it (window {self.window}"
                             + (", one more for the difference" if self.framing.transform.lost_rows else "") + ")")
        phase = self.phase(series, extra=steps + self.horizon)
        return self.framing.paths(self.model, series.values, phase, origins, steps)

    def interval(self, steps, level=0.9):
        """(lower, upper) offsets (steps,) to add to the forecasts for a `level` interval."""
        level = float(level)
        if not any(math.isclose(level, known) for known in LEVELS):
            raise ValueError(f"the interval level must be one of {', '.join(f'{v:g}' for v in LEVELS)}, got {level:g}")
        probabilities = list(PROBABILITIES)
        low = probabilities.index(min(probabilities, key=lambda p: abs(p - (1 - level) / 2)))
        high = probabilities.index(min(probabilities, key=lambda p: abs(p - (1 + level) / 2)))
        quantiles = np.asarray((self.config.get("intervals") or {}).get("quantiles") or [], dtype=np.float64)
        if quantiles.size == 0:
            return np.full(steps, np.nan), np.full(steps, np.nan)
        known = quantiles.shape[0]
        k = np.arange(1, steps + 1)
        rows = quantiles[np.minimum(k, known) - 1]
        grow = np.sqrt(np.maximum(k, known) / known)
        return rows[:, low] * grow, rows[:, high] * grow

    def forecast(self, series, steps, origin=None, level=0.9):
        """The `steps` values after row `origin` (default: the last row), with their labels (dates) and a `level`
        prediction interval: a dict of lists "date", "forecast", "lower", "upper"."""
        origin = len(series) - 1 if origin is None else int(origin)
        values = self.paths(series, [origin], steps)[0]
        lower, upper = self.interval(steps, level)
        return {"date": series.future_labels(origin, steps), "forecast": values.tolist(),
                "lower": (values + lower).tolist(), "upper": (values + upper).tolist()}


def check_config(config, model=None):
    """What is wrong with a forecaster's config read from a file (an empty list if nothing)."""
    if not isinstance(config, dict):
        return [f"its forecaster facts must be a dict, got {type(config).__name__}"]
    problems = []

    def count(key, low, high, optional=False):
        value = config.get(key)
        if optional and value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(f"{key} must be an integer in [{low}, {high:,}], got {value!r}")

    def name(key, optional=False):
        value = config.get(key)
        if not (optional and value is None) and not (isinstance(value, str) and 0 < len(value) <= 1000):
            problems.append(f"{key} must be a name, got {value!r}")

    count("window", 1, MAX_WINDOW)
    count("horizon", 1, MAX_WINDOW)
    count("season", 2, MAX_WINDOW, optional=True)
    name("target")
    name("date", optional=True)
    name("freq", optional=True)
    features = config.get("features")
    if not isinstance(features, list) or len(features) > 1000 or not all(isinstance(f, str) for f in features):
        problems.append(f"features must be a list of names, got {features!r}")
        features = []
    transform = config.get("transform")
    columns = 1 + len(features)
    if not isinstance(transform, dict):
        problems.append(f"transform must be a dict, got {type(transform).__name__}")
    else:
        for key in ("difference", "mean", "std"):
            values = transform.get(key)
            numbers = key != "difference"
            if not isinstance(values, list) or len(values) != columns or not all(
                    (_finite(v) if numbers else isinstance(v, bool)) for v in values):
                problems.append(f"transform {key} must be {columns} {'finite numbers' if numbers else 'flags'}, "
                                f"got {values!r}")
            elif key == "std" and not all(v > 0 for v in values):
                problems.append(f"std must be positive, got {values!r}")
    intervals = config.get("intervals") or {}  # none in a best model written while training
    quantiles = intervals.get("quantiles", []) if isinstance(intervals, dict) else None
    if not isinstance(quantiles, list) or len(quantiles) > MAX_WINDOW or not all(
            isinstance(row, list) and len(row) == len(PROBABILITIES) and all(_finite(v) for v in row)
            for row in quantiles):
        problems.append("intervals must hold a list of error quantiles")
    if not problems and model is not None and getattr(model, "layers", None):
        inputs = columns + (2 if config.get("calendar") and config.get("season") else 0)
        got_in = getattr(model.layers[0], "input_size", None)
        got_out = getattr(model.layers[-1], "out_features", None)
        if got_in != inputs or got_out != config["horizon"]:
            problems.append(f"the network takes {got_in} inputs and gives {got_out} outputs; the forecaster needs "
                            f"{inputs} and {config['horizon']}")
    return problems


def _finite(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def error_quantiles(errors, minimum=10):
    """Quantiles (PROBABILITIES) of the k-step errors, for k = 1 .. while at least `minimum` errors exist;
    errors: (origins, steps) actual - forecast, NaN where the actual value is unknown."""
    rows = []
    for column in np.asarray(errors, dtype=np.float64).T:
        column = column[np.isfinite(column)]
        if column.size < minimum:
            break
        rows.append(np.quantile(column, PROBABILITIES).tolist())
    return rows
