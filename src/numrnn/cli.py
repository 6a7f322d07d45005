"""The `numrnn` command line: train the tutorial tasks, evaluate, predict, forecast, inspect and check gradients.

    numrnn train count|mod3|sine|mult-series --out DIR [--preset tutorial] [--hidden N ...]
    numrnn train csv --data FILE --column NAME --window N --out DIR
    numrnn train text ...                  (character language models, numrnn.text)
    numrnn evaluate MODEL --task TASK      |  numrnn evaluate MODEL --data FILE  (text models)
    numrnn predict MODEL --input FILE [--output FILE]
    numrnn forecast MODEL --data FILE --steps K [--column NAME] [--out DIR]
    numrnn info MODEL
    numrnn gradcheck [--cell rnn] [--nonlinearity tanh] [--layers 2] [--bptt-truncate K] ...
    numrnn sample MODEL ...                (text models)

This module parses, calls numrnn.recipes and prints. Bad input (a missing file, a bad column, an unwritable
folder, an invalid option) ends with `numrnn: error: <message>` on stderr and exit status 2, never a traceback.
"""
import argparse
import importlib
import json
import os
import shlex
import sys
import tempfile

import numpy as np

from ._argtypes import non_negative_int as _non_negative_int
from ._argtypes import positive_float as _positive_float
from ._argtypes import positive_int as _positive_int
from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
TASK_NAMES = ("count", "mod3", "sine", "mult-series")
NONLINEARITIES = ("tanh", "relu", "sigmoid", "linear")
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "rprop")
TEXT_UNAVAILABLE = "text models are not available in this build"


class UsageError(Exception):
    """A problem with what the user asked for; main prints it and exits with status 2."""


# -- the parser ------------------------------------------------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog="numrnn", description="Recurrent neural networks from scratch on NumPy: train the tutorial tasks, "
                                   "forecast a CSV column, inspect models and check gradients.")
    parser.add_argument("--version", action="version", version=f"numrnn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser("train", help="train a task and write the model, history and plots to --out",
                                description="Train a task; DIR receives model.npz, history.json and PNG plots.")
    tasks = train.add_subparsers(dest="task", metavar="TASK", required=True)
    helps = {"count": "count the ones in a binary sequence (tutorial 003)",
             "mod3": "predict (x_t + 1) mod 3 at every step (tutorial 001)",
             "sine": "predict the next value of sin(x) from 50 (tutorial 002)",
             "mult-series": "predict the next element of s, 2s, ..., 10s and an end marker (tutorial 000)"}
    for name in TASK_NAMES:
        task = tasks.add_parser(name, help=helps[name], description=helps[name] + ". Options left out keep the "
                                "recipe's value (see --preset).")
        task.add_argument("--preset", choices=("default", "tutorial"), default="default",
                          help="default: our recipe, which reaches the task's target; tutorial: the tutorial's own "
                               "configuration (default: %(default)s)")
        _add_training_options(task)
        if name in ("count", "mod3"):
            task.add_argument("--steps", type=_positive_int, help="length of the training sequences")
    csv = tasks.add_parser("csv", help="forecast one numeric column of your CSV file",
                           description="Train a many-to-one forecaster on one numeric column of a CSV file "
                                       "(values scaled by the training part's mean and std; chronological split, "
                                       "last 20%% for validation).")
    csv.add_argument("--data", required=True, metavar="FILE", help="CSV file with a header row")
    csv.add_argument("--column", required=True, metavar="NAME", help="the numeric column to forecast")
    csv.add_argument("--window", required=True, type=_positive_int, metavar="N",
                     help="how many past values each prediction sees")
    _add_training_options(csv, csv=True)
    tasks.add_parser("text", help="character-level language model (numrnn.text)", add_help=False)

    evaluate = commands.add_parser("evaluate", help="metrics of a trained model on fresh test data",
                                   description="numrnn evaluate MODEL --task TASK: the task's metrics on newly "
                                               "generated test data. numrnn evaluate MODEL --data FILE: a text "
                                               "model on a text file.")
    evaluate.add_argument("model", metavar="MODEL", help="a model.npz written by numrnn train")
    evaluate.add_argument("--task", choices=TASK_NAMES, help="the task to evaluate on")
    evaluate.add_argument("--data", metavar="FILE", help="a text file (text models)")
    evaluate.add_argument("--seed", type=int, help="seed of the test data (default: the one used in training)")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")

    predict = commands.add_parser("predict", help="run a model on inputs from a file",
                                  description="Run MODEL on the sequences in --input. A .npy file holds an array "
                                              "(batch, time, features), (time, features) for one sequence, or "
                                              "(batch, time) for a model with one input feature; a .csv file "
                                              "holds one sequence per row (one input feature), numbers only, an "
                                              "optional header row. Prints one line per sequence: values, or "
                                              "class indices for classifiers.")
    predict.add_argument("model", metavar="MODEL")
    predict.add_argument("--input", required=True, metavar="FILE", help=".npy or .csv inputs")
    predict.add_argument("--output", metavar="FILE", help="write the predictions: .npy (raw outputs, "
                                                           "probabilities for classifiers) or .csv (the printed lines)")

    forecast = commands.add_parser("forecast", help="forecast the next K values of a CSV column",
                                   description="Forecast --steps values after the end of the column, feeding each "
                                               "prediction back as input. MODEL comes from numrnn train csv.")
    forecast.add_argument("model", metavar="MODEL")
    forecast.add_argument("--data", required=True, metavar="FILE", help="CSV file holding the history")
    forecast.add_argument("--column", metavar="NAME", help="column to read (default: the one trained on)")
    forecast.add_argument("--steps", required=True, type=_positive_int, metavar="K", help="values to forecast")
    forecast.add_argument("--out", metavar="DIR", help="also write forecast.csv and forecast.png to DIR")

    info = commands.add_parser("info", help="architecture, parameter count and training record of a model")
    info.add_argument("model", metavar="MODEL")
    info.add_argument("--json", action="store_true", help="print the model's configuration and record as JSON")

    from .apps.gradcheck import available_cells
    check = commands.add_parser("gradcheck", help="check hand-written gradients against central differences",
                                description="Build a small float64 recurrent layer with the chosen options and "
                                            "print, per tensor, the relative error between its backward pass and "
                                            "central differences. Exit status 1 if any exceeds --tolerance. With "
                                            "--bptt-truncate the reference is the brute-force truncated gradient "
                                            "(each output's gradient cut k steps back), not the exact one.")
    check.add_argument("--cell", choices=available_cells(), default="rnn")
    check.add_argument("--nonlinearity", choices=NONLINEARITIES, help="RNN only (default tanh)")
    check.add_argument("--layers", type=_positive_int, default=1)
    check.add_argument("--hidden", type=_positive_int, default=4)
    check.add_argument("--input-size", type=_positive_int, default=3)
    check.add_argument("--steps", type=_positive_int, default=6)
    check.add_argument("--batch", type=_positive_int, default=2)
    check.add_argument("--bptt-truncate", type=_positive_int, metavar="K", help="truncated BPTT, RNN only")
    check.add_argument("--bidirectional", action="store_true")
    check.add_argument("--no-bias", action="store_true")
    check.add_argument("--last-only", action="store_true", help="return_sequences=False (check the last output)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--tolerance", type=float, default=1e-6)

    commands.add_parser("sample", help="generate text from a character model (numrnn.text)", add_help=False)
    return parser


def _add_training_options(parser, csv=False):
    group = parser.add_argument_group("training options (left out: the recipe's value)")
    group.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    group.add_argument("--hidden", type=_positive_int, metavar="N", help="hidden units")
    group.add_argument("--nonlinearity", choices=NONLINEARITIES)
    group.add_argument("--layers", type=_positive_int, metavar="N", help="stacked recurrent layers")
    group.add_argument("--epochs", type=_positive_int, metavar="N")
    group.add_argument("--batch-size", type=_positive_int, metavar="N")
    group.add_argument("--optimizer", choices=OPTIMIZERS)
    group.add_argument("--lr", type=_positive_float, metavar="RATE", help="learning rate (Rprop: its first step)")
    group.add_argument("--lr-schedule", choices=("constant", "cosine"))
    group.add_argument("--clip-norm", type=_positive_float, metavar="MAX", help="clip the global gradient norm")
    group.add_argument("--clip-value", type=_positive_float, metavar="MAX", help="clip each gradient to [-MAX, MAX]")
    group.add_argument("--bptt-truncate", type=_non_negative_int, metavar="K",
                       help="truncated BPTT: each output's gradient flows back at most K steps (0: full BPTT)")
    group.add_argument("--seed", type=int, help="seeds the weights, the data and the shuffling (default 0)")
    if not csv:
        group.add_argument("--init", choices=("torch", "tutorial"),
                           help="initial weights: torch's U(-1/sqrt(H), 1/sqrt(H)), or the tutorial's own")
        group.add_argument("--train-size", type=_positive_int, metavar="N", help="training examples")
    group.add_argument("--no-plots", action="store_true", help="skip the PNG plots (no matplotlib needed)")
    group.add_argument("--quiet", action="store_true", help="no progress bar")


# -- entry point -----------------------------------------------------------------------------------------------------

def main(argv=None):
    """Run the command line on `argv` (sys.argv[1:] if None); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        text_command = _text_command(argv)
        if text_command is not None:
            return text_command()
        args = build_parser().parse_args(argv)
        args.argv = argv
        return COMMANDS[args.command](args)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2, message already printed)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        print("numrnn: interrupted", file=sys.stderr)
        return 130
    except (UsageError, FileNotFoundError, ValueError, TypeError, OSError, ImportError) as error:
        print(f"numrnn: error: {_message(error)}", file=sys.stderr)
        return EXIT_USAGE


def _message(error):
    if isinstance(error, FileNotFoundError) and error.filename and not error.args[1:]:
        return str(error)
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror or error}"
    return str(error)


# -- text models: numrnn.text, imported only when asked for --------------------------------------------------------

def _text_command(argv):
    """The text-model commands (train text, sample, evaluate --data) as a callable, or None for the others."""
    if argv[:2] == ["train", "text"]:
        return lambda: _run_text("train_text", "add_train_text_arguments", "numrnn train text", argv[2:])
    if argv[:1] == ["sample"]:
        return lambda: _run_text("sample", "add_sample_arguments", "numrnn sample", argv[1:], model=True)
    if argv[:1] == ["evaluate"] and "--task" not in argv and any(a == "--data" or a.startswith("--data=")
                                                                 for a in argv):
        return lambda: _run_text("evaluate_text", "add_evaluate_text_arguments", "numrnn evaluate", argv[1:],
                                 model=True, evaluate=True)
    return None


def _run_text(function, add_arguments, prog, argv, model=False, evaluate=False):
    try:
        text = importlib.import_module("numrnn.text")
    except ModuleNotFoundError as error:
        if error.name != "numrnn.text":
            raise  # numrnn.text exists but something it imports is missing: say what
        raise UsageError(TEXT_UNAVAILABLE) from None
    parser = argparse.ArgumentParser(prog=prog)
    if evaluate:
        parser.add_argument("model", metavar="MODEL")
        parser.add_argument("--data", required=True, metavar="FILE", help="text file to evaluate on")
        parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    adder = getattr(text, add_arguments, None)
    if adder is not None:
        adder(parser)
    if model and not any(action.dest == "model" for action in parser._actions):
        parser.add_argument("model", metavar="MODEL")
    handler = getattr(text, function, None)
    if handler is None:
        raise UsageError(TEXT_UNAVAILABLE)
    return int(handler(parser.parse_args(argv)))


# -- train -----------------------------------------------------------------------------------------------------------

def cmd_train(args):
    from .apps import forecast, runs, tasks

    out = _prepare_out(args.out)
    if not args.no_plots:
        from .apps.plots import INSTALL_HINT, require
        try:
            require()
        except ImportError:
            raise UsageError(f"{INSTALL_HINT}, or pass --no-plots") from None
    keys = ("hidden", "nonlinearity", "layers", "epochs", "batch_size", "optimizer", "lr", "lr_schedule",
            "clip_norm", "clip_value", "bptt_truncate", "seed", "train_size", "steps", "init")
    overrides = {key: getattr(args, key, None) for key in keys}
    progress = Progress(quiet=args.quiet)
    try:
        if args.task == "csv":
            run = forecast.train_csv(args.data, args.column, args.window, overrides, callbacks=[progress])
        else:
            run = tasks.train(args.task, args.preset, overrides, callbacks=[progress])
    finally:
        progress.close()
    command = "numrnn " + shlex.join(args.argv) if getattr(args, "argv", None) else None
    files = runs.save_run(run, out, plots=not args.no_plots, command=command)
    print(run.summary())
    print(f"wrote {', '.join(os.path.basename(f) for f in files)} to {out}")
    return EXIT_OK


def _prepare_out(folder):
    """Create the output folder if needed and check that a file can be written there, before any training."""
    folder = os.path.abspath(folder)
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageError(f"output folder {folder} is a file, not a folder")
    try:
        os.makedirs(folder, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".numrnn-probe-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise UsageError(f"cannot write to output folder {folder}: {error.strerror or error}") from None
    return folder


class Progress:
    """A fit callback: a tqdm bar over the training batches showing the epoch's running loss and the last
    validation loss; without tqdm, plain lines on stderr about ten times per run."""

    def __init__(self, quiet=False, stream=None):
        self.quiet, self.stream = quiet, stream or sys.stderr
        self.epochs, self.batches = None, None
        self.bar = None
        self._sum, self._count, self._shown = 0.0, 0, {}

    def set_params(self, params):
        """Called by numrnn.recipes before fit with {"epochs": ..., "batches": batches per epoch}."""
        self.epochs, self.batches = params.get("epochs"), params.get("steps")

    def on_epoch_begin(self, epoch, logs=None):
        self._sum, self._count = 0.0, 0
        self._epoch = epoch

    def on_batch_end(self, batch, logs):
        self._sum += logs["loss"]
        self._count += 1
        if self.quiet:
            return
        if self.bar is None:
            self.bar = self._make_bar()
        if self.bar:
            self.bar.set_postfix_str(self._postfix(), refresh=False)
            self.bar.update(1)

    def _postfix(self):
        text = f"epoch {self._epoch + 1}/{self.epochs or '?'} loss {self._sum / max(self._count, 1):.4g}"
        return text + "".join(f" {key} {value}" for key, value in self._shown.items())

    def on_epoch_end(self, epoch, logs):
        self._shown = {key: f"{logs[key]:.4g}" for key in ("val_loss", "val_accuracy") if logs.get(key) is not None}
        if self.quiet or self.bar:
            return
        total = self.epochs or 0
        every = max(1, total // 10) if total else 1
        if (epoch + 1) % every == 0 or epoch == 0 or epoch + 1 == total:
            text = " ".join(f"{k} {v}" for k, v in {"loss": f"{logs['loss']:.4g}", **self._shown}.items())
            print(f"epoch {epoch + 1}/{total or '?'}  {text}", file=self.stream, flush=True)

    def _make_bar(self):
        try:
            from tqdm import tqdm
        except ImportError:
            return False
        total = self.epochs * self.batches if self.epochs and self.batches else None
        return tqdm(total=total, unit="batch", file=self.stream, dynamic_ncols=True, leave=True, mininterval=0.2)

    def close(self):
        if self.bar:
            self.bar.set_postfix_str(self._postfix(), refresh=False)
            self.bar.close()
        self.bar = None


# -- evaluate, predict, forecast, info ------------------------------------------------------------------------------

def cmd_evaluate(args):
    from .apps import runs, tasks
    from .io.load import load

    if args.task is None:
        raise UsageError("evaluate needs --task TASK (count, mod3, sine, mult-series), or --data FILE for a text "
                         "model")
    model = load(args.model)
    extra = getattr(model, "extra", {}) or {}
    settings = extra.get("settings") if extra.get("task") == args.task else None
    task = tasks.get_task(args.task)
    task.check_model(model, source=args.model)
    metrics = tasks.evaluate(model, task, settings=settings, seed=args.seed)
    if args.json:
        print(json.dumps(runs.jsonable(metrics)))
    else:
        verdict = "target met" if task.target_met(metrics) else "target NOT met"
        print(f"{task.name}: {task.describe(metrics)} ({verdict}: {task.target})")
    return EXIT_OK


def cmd_predict(args):
    from .io.load import load

    model = load(args.model)
    inputs = _read_inputs(args.input, model)
    outputs = model.predict(inputs)
    classifier = model.loss is not None and model.loss.is_classification
    shown = outputs.argmax(axis=-1) if classifier else outputs
    rows = shown.reshape(shown.shape[0], -1)
    lines = [" ".join(str(int(v)) if classifier else f"{v:.6g}" for v in row) for row in rows]
    if args.output:
        if args.output.endswith(".npy"):
            np.save(args.output, outputs)
        else:
            with open(args.output, "w") as stream:
                stream.write("\n".join(line.replace(" ", ",") for line in lines) + "\n")
        print(f"wrote {len(lines)} predictions to {args.output}")
    else:
        print("\n".join(lines))
    return EXIT_OK


def _read_inputs(path, model):
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such input file: {path}")
    features = getattr(model.layers[0], "input_size", None)
    if path.endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"{path} is not a readable .npy array: {error}") from None
    elif path.endswith(".csv"):
        array = _read_csv_rows(path)
    else:
        raise UsageError(f"--input must be a .npy or .csv file, got {path}")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{path} must hold numbers, got an array of dtype {array.dtype}")
    if array.ndim == 2 and features == 1:
        array = array[:, :, None]  # (batch, time) -> (batch, time, 1)
    elif array.ndim == 2 and features is not None and array.shape[1] == features:
        array = array[None]  # one sequence (time, features)
    if features is not None and (array.ndim != 3 or array.shape[-1] != features):
        raise ValueError(f"{path} holds an array of shape {array.shape}; the model needs (batch, time, {features})"
                         + (" or (batch, time)" if features == 1 else f" or (time, {features})"))
    return array


def _read_csv_rows(path):
    import csv

    rows = []
    with open(path, newline="") as stream:
        for number, row in enumerate(csv.reader(stream), start=1):
            cells = [cell.strip() for cell in row if cell.strip()]
            if not cells:
                continue
            try:
                rows.append([float(cell) for cell in cells])
            except ValueError:
                if number == 1:
                    continue  # a header row
                raise ValueError(f"{path}: row {number} must hold numbers only, got {row!r}") from None
            if len(rows[-1]) != len(rows[0]):
                raise ValueError(f"{path}: every row must be a sequence of the same length; row {number} has "
                                 f"{len(rows[-1])} values, the first {len(rows[0])}")
    if not rows:
        raise ValueError(f"{path} holds no sequences")
    return np.array(rows)


def cmd_forecast(args):
    from .apps import forecast
    from .apps.forecast import read_column
    from .io.load import load

    model = load(args.model)
    info = forecast.forecaster_info(model)
    column = args.column or info["column"]
    out = _prepare_out(args.out) if args.out else None
    if out:
        from .apps.plots import require
        require()
    series = read_column(args.data, column)
    values = forecast.forecast(model, series, args.steps)
    for step, value in enumerate(values, start=1):
        print(f"{step}\t{value:.6g}")
    if out:
        from .apps import plots
        with open(os.path.join(out, "forecast.csv"), "w") as stream:
            stream.write(f"step,{column}\n")
            stream.writelines(f"{step},{value!r}\n" for step, value in enumerate(values.tolist(), start=1))
        plots.forecast(series, values, os.path.join(out, "forecast.png"), label=column,
                       title=f"{column}: the last values and a {args.steps}-step forecast",
                       shown=max(10 * info["window"], 3 * args.steps))
        print(f"wrote forecast.csv, forecast.png to {out}")
    return EXIT_OK


def cmd_info(args):
    from .io.load import load

    model = load(args.model)
    extra = getattr(model, "extra", {}) or {}
    if args.json:
        print(json.dumps({"config": model.config(), "parameters": model.num_parameters(), "extra": extra}, indent=1))
        return EXIT_OK
    print(f"{args.model}: {os.path.getsize(args.model):,} bytes")
    model.summary()
    if extra.get("task"):
        print(f"trained on: {extra['task']} ({extra.get('preset', 'default')} recipe)")
    settings = extra.get("settings") or {}
    if settings:
        shown = ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None and not isinstance(v, list))
        print(f"settings: {shown}")
    metrics = {k: v for k, v in (extra.get("metrics") or {}).items() if not isinstance(v, list)}
    if metrics:
        print("metrics: " + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in metrics.items()))
    if extra.get("forecaster"):
        f = extra["forecaster"]
        print(f"forecaster: column {f['column']!r}, window {f['window']}, scaled by mean {f['mean']:.6g} and "
              f"std {f['std']:.6g}")
    return EXIT_OK


# -- gradcheck -------------------------------------------------------------------------------------------------------

def cmd_gradcheck(args):
    from .apps.gradcheck import check_gradients

    errors = check_gradients(cell=args.cell, nonlinearity=args.nonlinearity, layers=args.layers, hidden=args.hidden,
                             input_size=args.input_size, steps=args.steps, batch=args.batch,
                             bptt_truncate=args.bptt_truncate, bidirectional=args.bidirectional,
                             bias=not args.no_bias, return_sequences=not args.last_only, seed=args.seed)
    mode = "full BPTT" if args.bptt_truncate is None else \
        f"BPTT truncated at {args.bptt_truncate} (against the brute-force truncated gradient)"
    what = f"{args.cell.upper()}" + (f" {args.nonlinearity or 'tanh'}" if args.cell == "rnn" else "")
    print(f"gradcheck: {what}, {args.layers} layer(s), hidden {args.hidden}, input {args.input_size}, "
          f"{args.steps} steps, batch {args.batch}, {mode}; float64, central differences")
    width = max(len(name) for name in errors)
    failed = []
    for name, error in errors.items():
        ok = error <= args.tolerance
        if not ok:
            failed.append(name)
        print(f"  {name.ljust(width)}  {error:.3e}  {'ok' if ok else 'FAIL'}")
    if failed:
        print(f"{len(failed)} of {len(errors)} tensors exceed the tolerance {args.tolerance:g}: {', '.join(failed)}")
        return EXIT_FAILED
    print(f"all {len(errors)} tensors within {args.tolerance:g}")
    return EXIT_OK


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "forecast": cmd_forecast,
            "info": cmd_info, "gradcheck": cmd_gradcheck}


if __name__ == "__main__":
    sys.exit(main())
