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
    def of(cls, model):
        """The forecaster of a model from `numrnn train csv`; ValueError for any other model."""
        config = (getattr(model, "extra", None) or {}).get("forecaster")
        if not config:
            raise ValueError(NOT_A_FORECASTER)
        if "transform" not in config:  # a model of numrnn 0.1's forecaster: one column, scaled, no differencing
            config = {"target": config["column"], "features": [], "date": None, "freq": None, "season": None,
                      "calendar": False, "window": config["window"], "horizon": 1,
                      "transform": {"difference": [False], "mean": [config["mean"]], "std": [config["std"]]}}
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
