"""Honest backtests: a forecaster against the baselines on a tail of a series it has not trained on.

    table = compare(forecaster, series, start)      one-step and multi-step RMSE and MAE of numrnn and baselines
    print(table.text());  table.json()
    rows = backtest(forecaster, series, start, horizon=3)   every date from `start` on, forecast from the rows
                                                            before it: {"date", "actual", "forecast", "horizon"}

The tail is rows start .. n - 1. One step ahead: each of its values forecast from the rows before it. Multi-step:
forecasts of 1 .. S steps from every origin whose S values all lie in the tail (S: the horizon, else the season,
else 10; at most 300 origins, evenly spaced, which bounds a long tail's time), the errors of all steps pooled. Baselines see the same rows: naive, seasonal naive (with a season), ETS
(statsmodels, fitted on the rows before the tail). The model is never retrained.
"""
import math

import numpy as np

from .baselines import ETS, naive, seasonal_naive, statsmodels_available

__all__ = ["compare", "backtest", "Table", "table_steps", "spread"]

MAX_ORIGINS = 300


def table_steps(horizon, season):
    """The multi-step column's S: the horizon when above 1, else the season, else 10."""
    return int(horizon) if horizon > 1 else int(season) if season else 10


def compare(forecaster, series, start, steps=None, level=0.9, ets=True):
    """The Table of the tail start .. n - 1 (start: a row index, the first value predicted)."""
    y, n = series.y, len(series)
    start = max(int(start), forecaster.first_origin() + 1)
    if start >= n:
        raise ValueError(f"nothing to backtest: the first forecast needs {forecaster.first_origin() + 1} rows "
                         f"before it and the file has {n}")
    steps = steps or table_steps(forecaster.horizon, forecaster.framing.season or series.season)
    if forecaster.features and steps > forecaster.horizon:
        steps = forecaster.horizon
    season = series.season
    one = np.arange(start - 1, n - 1)
    multi = spread(np.arange(start - 1, n - steps)) if steps > 1 else np.arange(0)
    predictors = {f"numrnn ({forecaster.config.get('cell', 'rnn')}, window {forecaster.window})":
                  lambda origins, k: forecaster.paths(series, origins, k),
                  "naive": lambda origins, k: naive(y, origins, k)}
    if season and start - 1 >= season:
        predictors[f"seasonal naive ({season})"] = lambda origins, k: seasonal_naive(y, origins, k, season)
    note = None
    if ets and statsmodels_available():
        model = ETS.fit(y[:start], season)
        if model is not None:
            predictors[model.name] = lambda origins, k: model.paths(y, origins, k)
    elif ets:
        note = "ETS left out: statsmodels is not installed (pip install 'numrnn[forecast]')"
    rows, coverage = [], None
    for name, predict in predictors.items():
        first = predict(one, 1)[:, 0]
        row = {"model": name, "one_step": scores(first, y[one + 1])}
        if multi.size:
            ahead = multi[:, None] + np.arange(1, steps + 1)[None, :]
            row["multi_step"] = scores(predict(multi, steps), y[ahead])
        rows.append(row)
        if len(rows) == 1:
            lower, upper = forecaster.interval(1, level)
            covered = (y[one + 1] >= first + lower[0]) & (y[one + 1] <= first + upper[0])
            coverage = float(covered.mean()) if np.isfinite(lower[0]) else None
            one_step = first
    table = Table(series.label(start), series.label(n - 1), n - start, steps if multi.size else None, rows,
                  coverage=coverage, level=level, note=note)
    table.start, table.forecasts = start, one_step  # numrnn's one-step forecasts of rows start .. n - 1
    return table


def spread(origins, most=MAX_ORIGINS):
    """At most `most` of the origins, evenly spaced, the first and last kept."""
    origins = np.asarray(origins, dtype=np.int64)
    if origins.size <= most:
        return origins
    return origins[np.unique(np.round(np.linspace(0, origins.size - 1, most)).astype(np.int64))]


def scores(predicted, actual):
    error = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return {"rmse": float(np.sqrt(np.mean(error ** 2))), "mae": float(np.mean(np.abs(error)))}


def backtest(forecaster, series, start, horizon=1):
    """Every value from row `start` on, forecast 1 .. horizon steps ahead from the rows before it."""
    n = len(series)
    start = max(int(start), forecaster.first_origin() + 1)
    origins = np.arange(start - horizon, n - 1)
    origins = origins[origins >= forecaster.first_origin()]
    if origins.size == 0:
        raise ValueError(f"nothing to backtest: the first forecast needs {forecaster.first_origin() + 1} rows "
                         f"before it and the file has {n}")
    paths = forecaster.paths(series, origins, horizon)
    rows = {"date": [], "actual": [], "forecast": [], "horizon": []}
    for k in range(1, horizon + 1):
        keep = (origins + k >= start) & (origins + k < n)
        for origin, value in zip(origins[keep], paths[keep, k - 1]):
            rows["date"].append(series.label(origin + k))
            rows["actual"].append(float(series.y[origin + k]))
            rows["forecast"].append(float(value))
            rows["horizon"].append(k)
    order = sorted(range(len(rows["date"])), key=lambda i: (rows["date"][i], rows["horizon"][i]))
    return {key: [column[i] for i in order] for key, column in rows.items()}


class Table:
    """The backtest's numbers, as text (text()) or JSON-able (json())."""

    def __init__(self, first, last, count, steps, rows, coverage=None, level=0.9, note=None):
        self.first, self.last, self.count, self.steps = first, last, count, steps
        self.rows, self.coverage, self.level, self.note = rows, coverage, level, note

    @property
    def numrnn(self):
        return self.rows[0]

    @property
    def best_baseline(self):
        """The baseline row with the lowest one-step RMSE."""
        return min(self.rows[1:], key=lambda row: row["one_step"]["rmse"])

    @property
    def beaten(self):
        """Whether numrnn's one-step RMSE is below every baseline's."""
        return self.numrnn["one_step"]["rmse"] < self.best_baseline["one_step"]["rmse"]

    def verdict(self):
        mine, best = self.numrnn["one_step"]["rmse"], self.best_baseline
        theirs = best["one_step"]["rmse"]
        if self.beaten:
            return (f"result: numrnn beats every baseline one step ahead (RMSE {mine:.4g}; the best baseline, "
                    f"{best['model']}, {theirs:.4g})")
        ratio = mine / theirs if theirs > 0 else math.inf
        return (f"result: numrnn does NOT beat {best['model']} one step ahead (RMSE {mine:.4g} against {theirs:.4g}, "
                f"{ratio:.2f}x): prefer {best['model']} for this series, or try another --window, --cell or "
                f"--hidden")

    def text(self, title="test tail"):
        lines = [f"{title}: {self.first} .. {self.last} ({self.count} values, never seen in training or model "
                 f"selection)" if title == "test tail" else f"{title}: {self.first} .. {self.last} ({self.count} "
                                                                f"values)"]
        width = max(len(row["model"]) for row in self.rows) + 2
        head = f"{'':{width}}{'one step ahead':>20}"
        if self.steps:
            head += f"{f'1 to {self.steps} steps ahead':>24}"
        lines.append(head)
        lines.append(f"{'model':{width}}{'RMSE':>10}{'MAE':>10}" + (f"{'RMSE':>12}{'MAE':>12}" if self.steps else ""))
        for row in self.rows:
            line = f"{row['model']:{width}}{row['one_step']['rmse']:>10.4g}{row['one_step']['mae']:>10.4g}"
            if self.steps:
                line += f"{row['multi_step']['rmse']:>12.4g}{row['multi_step']['mae']:>12.4g}"
            lines.append(line)
        if self.coverage is not None:
            lines.append(f"numrnn's {self.level:.0%} interval held {self.coverage:.0%} of the one-step values")
        if self.note:
            lines.append(self.note)
        lines.append(self.verdict())
        return "\n".join(lines)

    def json(self):
        return {"first": self.first, "last": self.last, "values": self.count, "steps": self.steps,
                "rows": self.rows, "interval_level": self.level, "interval_coverage": self.coverage,
                "beats_baselines": bool(self.beaten), "best_baseline": self.best_baseline["model"],
                "verdict": self.verdict(), "note": self.note}
