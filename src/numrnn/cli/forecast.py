"""`numrnn forecast MODEL --data FILE --steps K [--column NAME] [--out DIR]`: the next K values of a CSV column.

MODEL comes from `numrnn train csv`; each prediction is fed back as the newest input. Prints one line per step
(step, tab, value); with --out also writes forecast.csv and forecast.png there, atomically.
"""
import os

from ..apps import forecast, plots
from ..io.atomic import atomic_write
from ..io.load import load
from .common import EXIT_OK, prepare_out

__all__ = ["run"]


def run(args):
    model = load(args.model)
    info = forecast.forecaster_info(model, source=args.model)
    column = args.column or info["column"]
    out = prepare_out(args.out) if args.out else None
    if out:
        plots.require()
    series = forecast.read_column(args.data, column)
    values = forecast.forecast(model, series, args.steps)
    for step, value in enumerate(values, start=1):
        print(f"{step}\t{value:.6g}")
    if out:
        with atomic_write(os.path.join(out, "forecast.csv"), "w") as stream:
            stream.write(f"step,{column}\n")
            stream.writelines(f"{step},{value!r}\n" for step, value in enumerate(values.tolist(), start=1))
        plots.forecast(series, values, os.path.join(out, "forecast.png"), label=column,
                       title=f"{column}: the last values and a {args.steps}-step forecast",
                       shown=max(10 * info["window"], 3 * args.steps))
        print(f"wrote forecast.csv, forecast.png to {out}")
    return EXIT_OK
