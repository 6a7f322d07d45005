"""`numrnn train TASK` (count, mod3, sine, mult-series) and `numrnn train csv`: train a recipe, write its folder.

    numrnn train sine --out runs/sine [--preset tutorial] [--hidden 64 ...] [--resume | --overwrite]
    numrnn train csv --data co2.csv --target co2 --out runs/co2        (the recipe's options: forecast.py)

The folder receives model.npz (the best model by validation loss, written whenever it improves), last.npz (the
whole training state: every --checkpoint-every seconds, at each epoch's end, and on SIGINT/SIGTERM, which end the
command with status 130/143), history.json and the task's PNG plots; the summary line and the files written are
printed. The folder is checked (and matplotlib found) before any training: one that holds another run is refused
without --resume or --overwrite. Training that diverges stops at the bad step, writes the summary and the plots
(the best model stays as it was) and ends with status 1.
"""
import os
import shlex
import sys

from ..apps import runs, tasks
from ..apps.durable import Checkpoints, StopFlag
from ..apps.folder import prepare_run_folder
from ..apps.plots import INSTALL_HINT, require
from . import forecast
from .common import EXIT_FAILED, EXIT_OK, UsageError, interrupted_after, stop_on_signals, warn
from .progress import Progress

__all__ = ["run", "OVERRIDES"]

#: the options that override a recipe's setting of the same name (left out: the recipe's value)
OVERRIDES = ("hidden", "nonlinearity", "layers", "epochs", "batch_size", "optimizer", "lr", "lr_schedule",
             "clip_norm", "clip_value", "bptt_truncate", "seed", "train_size", "steps", "init")


def run(args):
    """Train args.task ("csv": args.data's column args.target) into args.out; returns the exit status."""
    if not args.no_plots:
        try:
            require()
        except ImportError:
            raise UsageError(f"{INSTALL_HINT}, or pass --no-plots") from None
    command = "numrnn " + shlex.join(args.argv) if getattr(args, "argv", None) else None
    folder = prepare_run_folder(args.out, resume=args.resume, overwrite=args.overwrite, command=command)
    if args.resume and not folder.resuming:
        warn(f"numrnn: nothing to resume in {folder.path}: starting a new run")
    out = folder.path
    stop = StopFlag()
    checkpoints = Checkpoints(out, every=args.checkpoint_every, resume=folder.resuming, stop=stop, warn=warn)
    overrides = {key: getattr(args, key, None) for key in OVERRIDES}
    progress = Progress(quiet=args.quiet)
    try:
        with stop_on_signals(stop):
            if args.task == "csv":
                result = forecast.train(args, callbacks=[progress], checkpoints=checkpoints, run_id=folder.run_id)
            else:
                result = tasks.train(args.task, args.preset, overrides, callbacks=[progress],
                                     checkpoints=checkpoints, run_id=folder.run_id)
    finally:
        progress.close()
    files = runs.save_run(result, out, plots=not args.no_plots, command=command)
    folder.record(files)
    print(result.summary())
    print(f"wrote {', '.join(os.path.basename(f) for f in files)} to {out}")
    if result.diverged:
        kept = (f"the best model (epoch {result.best_epoch + 1}) is in {os.path.join(out, 'model.npz')}"
                if result.best_epoch is not None else "no epoch ended, so no model.npz was written")
        print(f"numrnn: error: {result.diverged}; {kept}", file=sys.stderr)
        return EXIT_FAILED
    return interrupted_after(stop, EXIT_OK)
