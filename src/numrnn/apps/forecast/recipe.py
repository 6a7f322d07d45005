"""The CSV forecaster: a many-to-one RNN on one numeric column, and the forecast it makes by feeding itself.

    run = train_csv("prices.csv", "close", window=30)    # RNN(1, H) + Dense(H, 1), MSE, on scaled values
    forecast(run.model, series, steps=5)                  # the next 5 values, in the column's units

The values are scaled by the mean and standard deviation of the training part (the first 80%); validation windows
predict the last 20%. The scaling, the window and the column travel with the model (model.extra["forecaster"],
saved in model.npz), so a loaded model forecasts as the trained one does.
"""
import math
import os

import numpy as np

from ...random import seed as seed_numrnn
from .. import plots
from ..durable import digest
from ..runs import Run, jsonable
from ..tasks.base import Task, fit, rmse
from .series import read_column, split_series, windows

__all__ = ["CSV_DEFAULTS", "CsvTask", "CSV_TASK", "train_csv", "forecast", "forecaster_info"]

#: the longest window a forecaster file may declare (a longer one is refused unread)
MAX_WINDOW = 100_000

CSV_DEFAULTS = {"hidden": 32, "nonlinearity": "tanh", "layers": 1, "bias": True, "epochs": None, "batch_size": 32,
                "optimizer": "adam", "lr": 0.005, "lr_schedule": "cosine", "clip_norm": 1.0, "clip_value": None,
                "bptt_truncate": None, "seed": 0, "validation_fraction": 0.2, "dtype": "float32"}


class CsvTask(Task):
    """The CSV forecaster as a task: the model it builds, its summary line and its plots."""

    name = "csv"
    target = "validation RMSE below the naive forecast (next = last)"
    input_size, output_size = 1, 1

    def target_met(self, metrics):
        return metrics["validation_rmse"] < metrics["naive_validation_rmse"]

    def describe(self, metrics):
        return (f"validation RMSE {metrics['validation_rmse']:.4g} (naive next = last: "
                f"{metrics['naive_validation_rmse']:.4g}; training {metrics['train_rmse']:.4g})")

    def label(self, run):
        return f"column {run.settings['column']!r}"

    def plots(self, run, out):
        files = super().plots(run, out)
        n_train, window = run.data["n_train"], run.settings["window"]
        actual, predicted = run.data["actual"], run.data["predictions"]
        panels = {"training part": (window + np.arange(len(actual["train"])), actual["train"], predicted["train"]),
                  "validation part (last 20%)": (n_train + np.arange(len(actual["validation"])),
                                                 actual["validation"], predicted["validation"])}
        files.append(plots.predictions(panels, os.path.join(out, "predictions.png"),
                                       title=f"One step ahead: column {run.settings['column']!r}, window {window}",
                                       xlabel="row of the predicted value"))
        return files


CSV_TASK = CsvTask()


def train_csv(path, column, window, overrides=None, callbacks=(), checkpoints=None, run_id=None):
    """Train a forecaster of `column` of the CSV at `path` from the last `window` values; returns a Run.

    overrides: settings to change (None values are ignored); callbacks: more fit callbacks (a progress bar).
    run.model.extra["forecaster"] holds the scaling, the window and the column, which save_run writes into
    model.npz and forecast() reads. checkpoints, run_id: the best model and the training state written during
    training, and exact resume (numrnn.apps.tasks.base.fit).
    """
    series = read_column(path, column)
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    settings = dict(CSV_DEFAULTS)
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if settings.get("bptt_truncate") == 0:
        settings["bptt_truncate"] = None
    n_train, n_val = split_series(series, window, settings["validation_fraction"])
    mean = float(series[:n_train].mean())
    std = float(series[:n_train].std())
    if not std > 0:
        std = 1.0  # a constant column: nothing to scale
    scaled = (series - mean) / std
    X_all, y_all = windows(scaled, window)  # target of row i is value i + window
    split = n_train - window  # rows whose target lies in the training part
    train_set = (X_all[:split], y_all[:split])
    validation_set = (X_all[split:], y_all[split:])
    if settings["epochs"] is None:
        batches = math.ceil(split / settings["batch_size"])
        settings["epochs"] = int(min(100, max(5, round(3000 / batches))))
    settings.update(window=window, column=str(column), data=str(path), train_rows=int(n_train),
                    validation_rows=int(n_val))
    seed_numrnn(settings["seed"])
    model = CSV_TASK.build(settings)
    forecaster = {"window": window, "column": str(column), "mean": mean, "std": std, "rows": int(len(series))}
    model.extra = {"forecaster": forecaster}  # as numrnn.load gives it back: forecast() works before saving too
    fingerprint = {**jsonable(settings), "data": digest(*train_set, *validation_set)}
    extra = jsonable({"task": CSV_TASK.name, "preset": "default", "settings": settings, "forecaster": forecaster})
    fitted = fit(model, settings, train_set, validation_set, callbacks, checkpoints=checkpoints,
                 run={"id": run_id, "fingerprint": fingerprint}, extra=extra)

    def unscale(values):
        return np.asarray(values, dtype=np.float64) * std + mean

    with np.errstate(all="ignore"):  # a diverged model may overflow
        predictions = {name: unscale(model.predict(X)) for name, (X, _) in
                       (("train", train_set), ("validation", validation_set))}
    actual = {"train": unscale(train_set[1]), "validation": unscale(validation_set[1])}
    naive = series[n_train - 1:-1]  # "tomorrow = today" on the validation targets
    metrics = {"validation_rmse": rmse(predictions["validation"], actual["validation"]),
               "train_rmse": rmse(predictions["train"], actual["train"]),
               "naive_validation_rmse": rmse(naive[:, None], actual["validation"])}
    return Run(CSV_TASK, "default", settings, model, fitted.history, metrics, fitted.seconds, fitted.step_gradients,
               data={"series": series, "n_train": n_train, "predictions": predictions, "actual": actual},
               extra=dict({"forecaster": forecaster}, **({"run_id": run_id} if run_id else {})),
               diverged=fitted.diverged, best_epoch=fitted.best_epoch)


def forecast(model, series, steps):
    """Predict `steps` values after the end of `series`, feeding each prediction back as the newest input.

    The model must come from train_csv (its model.extra["forecaster"] holds the window and the scaling).
    Returns float64 (steps,) in the series' units.
    """
    info = forecaster_info(model)
    window, mean, std = info["window"], float(info["mean"]), float(info["std"])
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    series = np.asarray(series, dtype=np.float64).reshape(-1)
    if series.size < window:
        raise ValueError(f"forecasting needs the last {window} values (the model's window), the column has "
                         f"{series.size}")
    context = list((series[-window:] - mean) / std)
    out = []
    for _ in range(int(steps)):
        x = np.array(context[-window:], dtype=np.float64)[None, :, None]
        value = float(model.predict(x)[0, 0])
        out.append(value)
        context.append(value)
    return np.array(out) * std + mean


def forecaster_info(model, source=None):
    """The forecaster's facts kept with the model (window, column, mean, std), checked; a ValueError naming
    `source` (the model's file) for another model or facts that cannot be right (nothing in a file is trusted:
    a window of 10**12 would have the forecast read that many values)."""
    where = f"{source}: " if source else ""
    info = (getattr(model, "extra", None) or {}).get("forecaster")
    if not info:
        raise ValueError(f"{where}this model is not a forecaster: train one with `numrnn train csv --data FILE "
                         f"--column NAME --window N --out DIR`")
    problems = []
    if not isinstance(info, dict):
        problems.append(f"its forecaster facts must be a dict, got {type(info).__name__}")
    else:
        window = info.get("window")
        if isinstance(window, bool) or not isinstance(window, int) or not 1 <= window <= MAX_WINDOW:
            problems.append(f"window must be an integer in [1, {MAX_WINDOW:,}], got {window!r}")
        if not isinstance(info.get("column"), str):
            problems.append(f"column must be a name, got {info.get('column')!r}")
        for key in ("mean", "std"):
            value = info.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                problems.append(f"{key} must be a finite number, got {value!r}")
        if not problems and not info["std"] > 0:
            problems.append(f"std must be positive, got {info['std']!r}")
    if problems:
        raise ValueError(f"{where}not a usable forecaster: {'; '.join(problems)}")
    return info
