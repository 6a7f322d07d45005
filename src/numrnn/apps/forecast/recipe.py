"""The forecaster's recipe: from a CSV file to a trained network and an honest backtest of it.

    run = train_csv("co2.csv", "co2", date="month")       # a numrnn.apps.runs.Run
    run.extra["backtest"]                                 # the test tail's table: numrnn against the baselines

The rows are split in time: training (the first 70%), validation (the next 15%: early stopping and the learning
rate's plateaus) and test (the last 15%, never seen by training or any choice). The defaults were chosen by
measurement on five real series (benchmarks/forecast_baselines.py), not for one:

- the target (and each feature) is differenced and scaled on the training rows; with a season, the calendar's
  phase is an input (numrnn.apps.forecast.features). Differencing was better than levels on all five series,
  stationary ones included; seasonal differencing and a level input were worse.
- an LSTM of 32 units reads a window of two seasons (24 months, 8 quarters, 14 days, 48 hours; at most 52 rows, a
  year of weeks), 20 rows without a season, at most a fifth of the training rows; a Dense layer predicts the
  horizon's K values at once (direct).
- Adam at 0.005, batches of 32, gradient norm clipped at 1; the rate halves after 5 epochs without a better
  validation loss, and training stops after 30 (at most 300 epochs), keeping the best epoch's weights. A long
  series gets larger batches (at most 64 an epoch) and fewer epochs (windows x window x epochs at most 12
  million), which keeps 10,000 rows under a minute on two cores.
- --refit then trains a fresh network on training + validation rows for the epochs early stopping chose, with
  the same rates (off by default: it helped the yearly series and hurt three others).
"""
import math
import time

import numpy as np

from ...callbacks import EarlyStopping, LearningRateScheduler
from ...layers import GRU, LSTM, RNN, Dense
from ...model import Sequential
from ...optimizers import get_optimizer
from ...random import seed as seed_numrnn
from ...callbacks import ReduceLROnPlateau
from ..durable import digest
from ..runs import Run, jsonable
from ..tasks.base import fit
from .backtest import compare, spread, table_steps
from .features import Transform
from .forecaster import PROBABILITIES, Forecaster, error_quantiles
from .series import read_series
from .task import CSV_TASK

__all__ = ["DEFAULTS", "CELLS", "train_csv", "train_series", "plan_split", "default_window"]

DEFAULTS = {"cell": "lstm", "hidden": 32, "layers": 1, "window": None, "horizon": 1, "difference": True,
            "lr": 0.005, "lr_schedule": "constant", "batch_size": None, "epochs": None, "patience": 30,
            "lr_patience": 5, "clip_norm": 1.0, "validation_fraction": 0.15, "test_fraction": 0.15, "refit": False,
            "seed": 0, "dtype": "float32"}
CELLS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
#: the least a split may hold: training windows, validation windows, test values
MIN_TRAIN, MIN_VALIDATION, MIN_TEST, MIN_WINDOW = 20, 10, 10, 3
#: the default batches: 32 windows, more for long series (at most 64 batches an epoch); the default epochs: at
#: most 300, and at most EPOCH_BUDGET window rows (windows x window) in all, which bounds a long series' time
MAX_BATCHES, MAX_EPOCHS, EPOCH_BUDGET = 64, 300, 12_000_000


def train_csv(path, target, features=(), date=None, fill=None, date_format=None, season=None, overrides=None,
              callbacks=(), checkpoints=None, run_id=None):
    """Read the CSV (numrnn.apps.forecast.series.read_series) and train a forecaster of `target` on it."""
    series = read_series(path, target, features, date=date, fill=fill, date_format=date_format, season=season)
    return train_series(series, overrides, callbacks, checkpoints=checkpoints, run_id=run_id)


def default_window(season):
    """Two seasons (at most 52 rows: the calendar input says where in a long season a row lies), or 20 rows
    without a season."""
    return min(2 * season, 52) if season else 20


def plan_split(rows, settings, season=None, lost=1):
    """(n_train, n_validation, n_test, window) for `rows` rows; a ValueError saying how many rows are needed.
    lost: rows the differencing takes from the first window (0 or 1)."""
    K, vf, tf = settings["horizon"], settings["validation_fraction"], settings["test_fraction"]

    def parts(n):
        n_test = int(round(tf * n))
        n_val = int(round(vf * n))
        return n - n_val - n_test, n_val, n_test

    def fits(n, w):
        n_train, n_val, n_test = parts(n)
        return (n_train - (w - 1 + lost) - K >= MIN_TRAIN and n_val - K + 1 >= MIN_VALIDATION
                and (tf == 0 or n_test >= MIN_TEST))

    window = settings["window"]
    if window is None:
        window = max(MIN_WINDOW, min(default_window(season), parts(rows)[0] // 5))
    if not fits(rows, window):
        needed = next(n for n in range(rows + 1, 100 * rows + 10_000) if fits(n, window))
        split = f"{1 - vf - tf:.0%} training, {vf:.0%} validation" + (f", {tf:.0%} test" if tf else "")
        raise ValueError(f"too little data: {rows} rows, and a window of {window}, a horizon of {K} and the split "
                         f"({split}) need at least {needed} rows ({MIN_TRAIN} training windows, {MIN_VALIDATION} "
                         f"validation" + (f" and {MIN_TEST} test values)" if tf else " values)")
                         + "; use a shorter --window or --horizon, or more rows")
    return (*parts(rows), int(window))


def check_settings(overrides):
    settings = dict(DEFAULTS)
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if settings["cell"] not in CELLS:
        raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {settings['cell']!r}")
    for key in ("hidden", "layers", "horizon", "window", "batch_size", "epochs"):
        value = settings[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{key.replace('_', '-')} must be a positive integer, got {value!r}")
    if not 0 < settings["validation_fraction"] < 0.5 or not 0 <= settings["test_fraction"] < 0.5:
        raise ValueError("the validation fraction must lie in (0, 0.5) and the test fraction in [0, 0.5), got "
                         f"{settings['validation_fraction']} and {settings['test_fraction']}")
    return settings


def build(settings, inputs):
    """The network: the cell's recurrent layer over the window, then Dense to the horizon's K values."""
    recurrent = CELLS[settings["cell"]](inputs, settings["hidden"], num_layers=settings["layers"],
                                        return_sequences=False, dtype=settings["dtype"])
    head = Dense(settings["hidden"], settings["horizon"], dtype=settings["dtype"])
    return Sequential([recurrent, head], loss="mse", optimizer=get_optimizer("adam", lr=settings["lr"]),
                      clip_norm=settings["clip_norm"])


def train_series(series, overrides=None, callbacks=(), checkpoints=None, run_id=None):
    """Train a forecaster of series.values[:, 0] (numrnn.apps.forecast.series.Series); returns a Run whose
    model.extra["forecaster"] holds what Forecaster.of needs and extra["backtest"] the test tail's table.

    callbacks: more fit callbacks (a progress bar); checkpoints, run_id: DIR/model.npz (the best model, a forecaster
    already) and DIR/last.npz written during training, and exact resume (numrnn.apps.tasks.base.fit)."""
    settings = check_settings(overrides)
    columns, K, season = series.values.shape[1], settings["horizon"], series.season
    n_train, n_val, n_test, window = plan_split(len(series), settings, season, lost=int(settings["difference"]))
    n_seen = n_train + n_val
    settings.update(window=window, data=series.source, target=series.target, features=list(series.features),
                    train_rows=n_train, validation_rows=n_val, test_rows=n_test)
    transform = Transform.fit(series.values, n_train, [settings["difference"]] * columns)
    config = {"version": 2, "target": series.target, "features": list(series.features), "date": series.date_column,
              "freq": series.freq, "season": season, "calendar": bool(season), "cell": settings["cell"],
              "window": window, "horizon": K, "transform": transform.config(), "rows": len(series),
              "test_from": series.label(n_seen) if n_test else None, "seen_until": series.label(n_seen - 1)}
    forecaster = Forecaster(None, config)
    first = forecaster.first_origin()
    if not np.all(np.isfinite(transform.scaled(series.values)[first - window + 1:])):
        raise ValueError("the data hold values too large to difference and scale in float64")
    phase = forecaster.phase(series)
    dtype = settings["dtype"]

    def examples(origins):
        X, Y = forecaster.framing.examples(series.values, phase, origins)
        return X.astype(dtype), Y.astype(dtype)

    train_set = examples(np.arange(first, n_train - K))
    validation_set = examples(np.arange(n_train - 1, n_seen - K))
    windows = len(train_set[0])
    if settings["batch_size"] is None:
        settings["batch_size"] = max(32, math.ceil(windows / MAX_BATCHES))
    if settings["epochs"] is None:
        settings["epochs"] = int(min(MAX_EPOCHS, max(10, EPOCH_BUDGET // (windows * window))))
    steps = table_steps(K, season) if not series.features else K
    config["table_steps"] = steps
    seed_numrnn(settings["seed"])
    model = build(settings, forecaster.framing.inputs_size(columns))
    model.extra = {"forecaster": config}
    plateau = ReduceLROnPlateau(factor=0.5, patience=settings["lr_patience"])
    stopper = EarlyStopping(patience=settings["patience"], restore_best_weights=True)
    start = time.perf_counter()
    fingerprint = {**jsonable(settings), "data": digest(*train_set, *validation_set)}
    extra = jsonable({"task": CSV_TASK.name, "preset": "default", "settings": settings, "forecaster": config})
    fitted = fit(model, settings, train_set, validation_set, callbacks, recorders=[plateau, stopper],
                 checkpoints=checkpoints, run={"id": run_id, "fingerprint": fingerprint}, extra=extra)
    best_epoch = (stopper.best_epoch or 0) + 1
    forecaster.model = model
    errors = validation_errors(forecaster, series, n_train, n_seen, steps)
    config["intervals"] = {"probabilities": list(PROBABILITIES), "quantiles": error_quantiles(errors)}
    validation_rmse = float(np.sqrt(np.nanmean(errors[:, 0] ** 2)))
    if settings["refit"] and not fitted.diverged:
        model = forecaster.model = refit(settings, forecaster.framing.inputs_size(columns),
                                         examples(np.arange(first, n_seen - K)), best_epoch, plateau.rates, callbacks)
    seconds = time.perf_counter() - start
    model.extra = {"forecaster": config}
    with np.errstate(all="ignore"):
        table = compare(forecaster, series, n_seen if n_test else n_train, steps=steps)
    best = table.best_baseline
    metrics = {"part": "test" if n_test else "validation", "rmse": table.numrnn["one_step"]["rmse"],
               "mae": table.numrnn["one_step"]["mae"], "best_baseline": best["model"],
               "best_baseline_rmse": best["one_step"]["rmse"], "beats_baselines": bool(table.beaten),
               "validation_rmse": validation_rmse, "epochs_run": len(fitted.history.epoch), "best_epoch": best_epoch,
               "fit_seconds": seconds}
    if "multi_step" in table.numrnn:
        metrics.update(steps=steps, multi_step_rmse=table.numrnn["multi_step"]["rmse"])
    data = {"series": series, "n_train": n_train, "n_seen": n_seen, "table": table}
    return Run(CSV_TASK, "default", settings, model, fitted.history, metrics, seconds, fitted.step_gradients,
               data=data, extra=dict({"forecaster": config, "backtest": table.json()},
                                     **({"run_id": run_id} if run_id else {})),
               diverged=fitted.diverged, best_epoch=fitted.best_epoch)


def validation_errors(forecaster, series, n_train, n_seen, steps):
    """actual - forecast (origins, steps) of 1 .. steps-step forecasts from the validation part's origins (at most
    300), NaN where the actual value lies beyond it: the errors the intervals are made of."""
    origins = spread(np.arange(n_train - 1, n_seen - 1))
    ahead = origins[:, None] + np.arange(1, steps + 1)[None, :]
    actual = np.where(ahead < n_seen, series.y[np.minimum(ahead, n_seen - 1)], np.nan)
    with np.errstate(all="ignore"):  # a diverged model may overflow
        return actual - forecaster.paths(series, origins, steps)


def refit(settings, inputs, examples, epochs, rates, callbacks=()):
    """A fresh network (the same seed, so the same initial weights) trained on training + validation examples
    for the epochs early stopping chose, each at the learning rate that epoch had."""
    seed_numrnn(settings["seed"])
    model = build(settings, inputs)
    model.fit(*examples, epochs=epochs, batch_size=settings["batch_size"], seed=settings["seed"],
              callbacks=[LearningRateScheduler(lambda epoch, lr: rates[epoch]), *callbacks])
    return model
