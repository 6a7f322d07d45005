"""`numrnn train TASK` (count, mod3, sine, mult-series) and `numrnn train csv`: train a recipe, write its folder.

    numrnn train sine --out runs/sine [--preset tutorial] [--hidden 64 ...]
    numrnn train csv --data co2.csv --target co2 --out runs/co2        (the recipe's options: forecast.py)

The folder receives model.npz, history.json and the task's PNG plots; the summary line and the files written are
printed. The folder is checked (and matplotlib found) before any training.
"""
import os
import shlex

from ..apps import runs, tasks
from ..apps.plots import INSTALL_HINT, require
from . import forecast
from .common import EXIT_OK, UsageError, prepare_out
from .progress import Progress

__all__ = ["run", "OVERRIDES"]

#: the options that override a recipe's setting of the same name (left out: the recipe's value)
OVERRIDES = ("hidden", "nonlinearity", "layers", "epochs", "batch_size", "optimizer", "lr", "lr_schedule",
             "clip_norm", "clip_value", "bptt_truncate", "seed", "train_size", "steps", "init")


def run(args):
    """Train args.task ("csv": args.data's column args.target) into args.out; returns the exit status."""
    out = prepare_out(args.out)
    if not args.no_plots:
        try:
            require()
        except ImportError:
            raise UsageError(f"{INSTALL_HINT}, or pass --no-plots") from None
    overrides = {key: getattr(args, key, None) for key in OVERRIDES}
    progress = Progress(quiet=args.quiet)
    try:
        if args.task == "csv":
            result = forecast.train(args, callbacks=[progress])
        else:
            result = tasks.train(args.task, args.preset, overrides, callbacks=[progress])
    finally:
        progress.close()
    command = "numrnn " + shlex.join(args.argv) if getattr(args, "argv", None) else None
    files = runs.save_run(result, out, plots=not args.no_plots, command=command)
    print(result.summary())
    print(f"wrote {', '.join(os.path.basename(f) for f in files)} to {out}")
    return EXIT_OK
