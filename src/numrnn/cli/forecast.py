"""The forecaster's commands: `numrnn train csv` (its recipe's options), `forecast`, `backtest`, and `evaluate` and
`predict` on a forecaster.

    numrnn train csv --data FILE --target COLUMN [--features COL ...] [--date COLUMN] --out DIR
    numrnn forecast MODEL --data FILE --steps K [--from DATE] [--level 0.9] [--out DIR]
    numrnn backtest MODEL --data FILE --from DATE [--horizon K] --out DIR [--json]
    numrnn evaluate MODEL [--data FILE] [--from DATE] [--json]         (default: the file it was trained on)
    numrnn predict MODEL --input FILE.csv [--output FILE.csv]          one-step forecasts of every row

A forecaster reads a CSV with its own columns (the target, its features, its date column) and differences and
scales them itself; raw windows are refused, saying how to call it. Files are written atomically.
"""
import csv
import json
import os

import numpy as np

from ..apps import forecast, plots
from ..io.atomic import atomic_write
from ..io.load import load
from .common import EXIT_OK, UsageError, fraction, non_negative_int, positive_int, prepare_out

__all__ = ["run", "backtest", "evaluate", "predict", "train", "is_forecaster", "add_train_csv", "add_commands",
           "OVERRIDES"]

#: the `train csv` options that override the recipe's setting of the same name (left out: the recipe's value)
OVERRIDES = ("cell", "hidden", "layers", "window", "horizon", "lr", "batch_size", "epochs", "patience",
             "clip_norm", "validation_fraction", "test_fraction", "seed")


def train(args, callbacks=(), checkpoints=None, run_id=None):
    """`numrnn train csv`: the Run of the forecaster of args.target; prints the backtest's table. checkpoints,
    run_id: the run folder's (numrnn.apps.durable), for the best model, last.npz and --resume."""
    overrides = {key: getattr(args, key, None) for key in OVERRIDES}
    if getattr(args, "difference", None):
        overrides["difference"] = args.difference == "yes"
    if getattr(args, "refit", False):
        overrides["refit"] = True
    result = forecast.train_csv(args.data, args.target, args.features or (), date=args.date, fill=args.fill,
                                date_format=args.date_format, season=args.season, overrides=overrides,
                                callbacks=callbacks, checkpoints=checkpoints, run_id=run_id)
    series = result.data["series"]
    if series.reordered:
        print(f"rows sorted by {series.date_column!r}: the file was not in time order")
    if series.filled:
        print(f"filled {len(series.filled)} missing values by interpolation: {', '.join(series.filled[:5])}"
              + (" ..." if len(series.filled) > 5 else ""))
    print(f"{forecast.Forecaster.of(result.model).describe()}; {result.settings['train_rows']} training, "
          f"{result.settings['validation_rows']} validation, {result.settings['test_rows']} test rows")
    print(result.data["table"].text("test tail" if result.metrics["part"] == "test" else
                                    "validation part (early stopping's: not an honest test)"))
    return result


def is_forecaster(model):
    return bool((getattr(model, "extra", None) or {}).get("forecaster"))


def _forecaster(path):
    return forecast.Forecaster.of(load(path), source=path)


def _reading(forecaster, path, read):
    """read(), with an error about the data naming the model too (`evaluate` and `predict` take any model)."""
    try:
        return read()
    except ValueError as error:
        raise ValueError(f"{path} is a forecaster of {forecaster.target!r}: {error}") from None


def run(args):
    """`numrnn forecast`: the next --steps values after the file's end (or before --from), dated, with an
    interval; --out also writes forecast.csv and forecast.png."""
    forecaster = _forecaster(args.model)
    out = prepare_out(args.out) if args.out else None
    if out:
        plots.require()
    series = forecaster.read(args.data, fill=args.fill, target=args.column)
    origin = len(series) - 1 if args.start is None else series.position(args.start) - 1
    if origin < forecaster.first_origin():
        raise UsageError(f"a forecast needs {forecaster.first_origin() + 1} rows before it; --from {args.start} "
                         f"leaves {origin + 1}")
    result = forecaster.forecast(series, args.steps, origin=origin, level=args.level)
    rows = list(zip(result["date"], result["forecast"], result["lower"], result["upper"]))
    key = "date" if series.dates is not None else "row"
    print(f"{key}\tforecast\t{args.level:.0%} interval")
    for date, value, low, high in rows:
        print(f"{date}\t{value:.6g}\t{_number(low)} .. {_number(high)}")
    if out:
        with atomic_write(os.path.join(out, "forecast.csv"), "w") as stream:
            stream.write(f"{key},forecast,lower,upper\n")
            stream.writelines(f"{date},{value!r},{_cell(low)},{_cell(high)}\n" for date, value, low, high in rows)
        x, future_x = _axes(series, origin, args.steps)
        plots.forecast(series.y[:origin + 1], result["forecast"], os.path.join(out, "forecast.png"),
                       label=forecaster.target, x=x, future_x=future_x, lower=result["lower"], upper=result["upper"],
                       band=f"{args.level:.0%} interval", shown=max(4 * forecaster.window, 5 * args.steps),
                       title=f"{forecaster.target}: a {args.steps}-step forecast from {series.label(origin)}")
        print(f"wrote forecast.csv, forecast.png to {out}")
    return EXIT_OK


def _axes(series, origin, steps):
    if series.dates is None:
        return np.arange(origin + 1), np.arange(origin + 1, origin + 1 + steps)
    from ..apps.forecast.series import require_pandas
    future = require_pandas().date_range(series.dates[origin], periods=steps + 1, freq=series.freq)[1:]
    return series.dates[:origin + 1].to_numpy(), future.to_numpy()


def _number(value):
    return "?" if not np.isfinite(value) else f"{value:.6g}"


def _cell(value):
    return "" if not np.isfinite(value) else repr(float(value))


def backtest(args):
    """`numrnn backtest`: every value from --from on, forecast from the rows before it; DIR/backtest.csv and the
    table."""
    forecaster = _forecaster(args.model)
    out = prepare_out(args.out)
    series = forecaster.read(args.data, fill=args.fill)
    start = series.position(args.start)
    horizon = args.horizon or 1
    rows = forecast.backtest(forecaster, series, start, horizon=horizon)
    columns = ["date", "actual", "forecast"] + (["horizon"] if horizon > 1 else [])
    with atomic_write(os.path.join(out, "backtest.csv"), "w") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        for i in range(len(rows["date"])):
            writer.writerow([rows["date"][i], repr(rows["actual"][i]), repr(rows["forecast"][i])]
                            + ([rows["horizon"][i]] if horizon > 1 else []))
    table = forecast.compare(forecaster, series, start, steps=horizon if horizon > 1 else None)
    _print_table(table, args.json, "backtest")
    if not args.json:
        print(f"wrote backtest.csv ({len(rows['date'])} forecasts) to {out}")
    return EXIT_OK


def evaluate(args):
    """`numrnn evaluate` on a forecaster: the table from --from (default: the first row after the rows it trained
    and chose its epochs on, when the file reaches it) to the end of --data (default: its training file)."""
    forecaster = _forecaster(args.model)
    settings = forecaster.model.extra.get("settings")
    data = args.data or (settings.get("data") if isinstance(settings, dict) else None)
    if not isinstance(data, str) or not data:
        raise UsageError(f"{args.model}: evaluate needs --data FILE: this forecaster does not say which file it was "
                         f"trained on")
    series = _reading(forecaster, args.model, lambda: forecaster.read(data))
    if getattr(args, "start", None) is not None:
        index = series.position(args.start)
    else:
        index = _after_seen(forecaster, series, args.model)
    _print_table(forecast.compare(forecaster, series, index), args.json, "evaluated")
    return EXIT_OK


def _after_seen(forecaster, series, model_path):
    """The first row after the last one the forecaster saw in training or in choosing its epochs."""
    seen = forecaster.config.get("seen_until")
    if not isinstance(seen, str):  # a model from before seen_until was kept
        return forecaster.first_origin() + 1
    try:
        index = series.position(seen)
    except ValueError:  # the file ends with rows it saw
        index = len(series)
    else:
        index += int(series.label(index) == seen)
    if index >= len(series):
        raise UsageError(f"{model_path} saw every row of this file up to {seen} in training; evaluate needs rows "
                         f"after that, or --from DATE for rows it saw (not an honest test)")
    return index


def _print_table(table, as_json, title):
    print(json.dumps(table.json()) if as_json else table.text(title))


def predict(args):
    """`numrnn predict` on a forecaster: one-step forecasts of every row that has a window before it, and of the
    row after the last."""
    forecaster = _forecaster(args.model)
    columns = [forecaster.target, *forecaster.features]
    how = (f"give --input a CSV with the columns {', '.join(repr(c) for c in columns)}"
           + (f" and the dates in {forecaster.config['date']!r}" if forecaster.config.get("date") else "")
           + " (the model differences and scales them itself), or use `numrnn forecast MODEL --data FILE "
             "--steps K`")
    if not str(args.input).endswith(".csv"):
        raise UsageError(f"{args.model} is a forecaster: it does not take raw windows; {how}")
    series = _reading(forecaster, args.model, lambda: forecaster.read(args.input))
    origins = np.arange(forecaster.first_origin(), len(series))
    if origins.size == 0:
        raise UsageError(f"{args.input} has {len(series)} rows; a forecast needs {forecaster.first_origin() + 1}")
    values = forecaster.paths(series, origins, 1)[:, 0]
    labels = [series.label(o + 1) if o + 1 < len(series) else series.future_labels(o, 1)[0] for o in origins]
    key = "date" if series.dates is not None else "row"
    if args.output:
        with atomic_write(args.output, "w") as stream:
            stream.write(f"{key},forecast\n")
            stream.writelines(f"{label},{value!r}\n" for label, value in zip(labels, values.tolist()))
        print(f"wrote {len(labels)} predictions to {args.output}")
    else:
        print(f"{key}\tforecast")
        print("\n".join(f"{label}\t{value:.6g}" for label, value in zip(labels, values)))
    return EXIT_OK


def add_train_csv(recipes, training_options):
    """`numrnn train csv`'s parser, returned for main.py to set what runs it; training_options(parser, csv=True)
    adds the options every training command shares (main.py's)."""
    d = forecast.DEFAULTS
    csv = recipes.add_parser(
        "csv", help="forecast a column of your CSV file (dates, features, a backtest against baselines)",
        description="Train a forecaster of a column of a CSV file: the rows sorted by their dates, split in time "
                    "(70%% training, 15%% validation for early stopping, the last 15%% a test tail never used in "
                    "training), differenced and scaled on the training rows; ends with a table of the test tail: "
                    "numrnn against naive, seasonal naive and ETS. Writes model.npz, history.json and the plots.")
    csv.add_argument("--data", required=True, metavar="FILE", help="CSV file with a header row")
    csv.add_argument("--target", "--column", dest="target", required=True, metavar="COLUMN",
                     help="the numeric column to forecast (--column: the same)")
    csv.add_argument("--features", nargs="+", metavar="COLUMN", help="more numeric columns the network reads")
    csv.add_argument("--date", metavar="COLUMN",
                     help="the dates (default: the first text column that holds dates; rows sorted by them)")
    csv.add_argument("--date-format", metavar="FORMAT", help="how the dates are written, e.g. %%d/%%m/%%Y "
                                                             "(default: recognised)")
    csv.add_argument("--fill", choices=("interpolate",), help="fill missing values and dates by linear "
                                                              "interpolation (default: refuse them, naming them)")
    csv.add_argument("--season", type=non_negative_int, metavar="N",
                     help="steps per season (default: from the dates' frequency, 12 for monthly; 0 for none)")
    csv.add_argument("--cell", choices=tuple(forecast.CELLS), help=f"recurrent cell (default {d['cell']})")
    csv.add_argument("--window", type=positive_int, metavar="N",
                     help="rows each forecast reads (default: two seasons, 20 without one, at most a fifth of the "
                          "training rows)")
    csv.add_argument("--horizon", type=positive_int, metavar="K",
                     help="values predicted at once (direct multi-step; default 1, longer forecasts recursive)")
    csv.add_argument("--difference", choices=("yes", "no"),
                     help="difference the columns before scaling (default yes: a trend is removed)")
    csv.add_argument("--validation-fraction", type=fraction, metavar="F", help="default 0.15")
    csv.add_argument("--test-fraction", type=fraction, metavar="F",
                     help="the test tail's share (default 0.15; 0: no test, train on the rest)")
    csv.add_argument("--patience", type=positive_int, metavar="N",
                     help=f"epochs without a better validation loss before training stops (default {d['patience']})")
    csv.add_argument("--refit", action="store_true",
                     help="then train again on training + validation rows for the epochs early stopping chose")
    training_options(csv, csv=True)
    return csv


def add_commands(commands):
    """The parsers of `numrnn forecast` and `numrnn backtest`."""
    forecaster = commands.add_parser("forecast", help="forecast the next K values of a CSV column, with dates "
                                                      "and an interval",
                                     description="Forecast --steps values after the end of the file (or from "
                                                 "--from), each from the rows before it (predictions fed back "
                                                 "past the model's horizon), with a prediction interval from the "
                                                 "validation errors. MODEL comes from numrnn train csv.")
    forecaster.add_argument("model", metavar="MODEL")
    forecaster.add_argument("--data", required=True, metavar="FILE", help="CSV file holding the history")
    forecaster.add_argument("--steps", required=True, type=positive_int, metavar="K", help="values to forecast")
    forecaster.add_argument("--from", dest="start", metavar="DATE",
                            help="the first date to forecast, using only the rows before it (default: after the "
                                 "last row)")
    forecaster.add_argument("--level", type=float, default=0.9, choices=forecast.LEVELS,
                            help="the prediction interval's level (default %(default)s)")
    forecaster.add_argument("--column", "--target", dest="column", metavar="NAME",
                            help="the file's column holding the target (default: the one trained on)")
    forecaster.add_argument("--fill", choices=("interpolate",), help="fill missing values and dates")
    forecaster.add_argument("--out", metavar="DIR", help="also write forecast.csv and forecast.png to DIR")
    forecaster.set_defaults(run=run)

    checker = commands.add_parser("backtest", help="a forecaster's forecasts of every date from --from on, "
                                                    "against baselines",
                                   description="Predict every date from --from to the end of --data using only the "
                                               "rows before each prediction (the model is not retrained); write "
                                               "DIR/backtest.csv (date, actual, forecast, and horizon when K > 1) "
                                               "and print the table: one-step and multi-step RMSE and MAE of "
                                               "numrnn, naive, seasonal naive and ETS.")
    checker.add_argument("model", metavar="MODEL")
    checker.add_argument("--data", required=True, metavar="FILE", help="CSV file with the model's columns")
    checker.add_argument("--from", dest="start", required=True, metavar="DATE",
                          help="the first date to predict (a row number without dates)")
    checker.add_argument("--horizon", type=positive_int, metavar="K", help="forecast 1 to K steps ahead (default 1)")
    checker.add_argument("--fill", choices=("interpolate",), help="fill missing values and dates")
    checker.add_argument("--out", required=True, metavar="DIR", help="output folder for backtest.csv")
    checker.add_argument("--json", action="store_true", help="print the table as JSON")
    checker.set_defaults(run=backtest)
