"""`numrnn`: the one parser of every command, and the dispatch to the module that runs it.

    numrnn train count|mod3|sine|mult-series --out DIR [--preset tutorial] [--hidden N ...]    train.py
    numrnn train csv --data FILE --target COLUMN [--features COL ...] [--date COLUMN] --out DIR  train.py, forecast.py
    numrnn train text [--data FILE] [--out DIR] [--time-budget SECONDS] ...                    text.py
    numrnn evaluate MODEL --task TASK  |  numrnn evaluate MODEL --data FILE (text models,       models.py, text.py,
        forecasters)                                                                            forecast.py
    numrnn predict MODEL --input FILE [--output FILE]  |  numrnn info MODEL                     models.py
    numrnn forecast MODEL --data FILE --steps K [--from DATE] [--out DIR]                       forecast.py
    numrnn backtest MODEL --data FILE --from DATE [--horizon K] --out DIR [--json]              forecast.py
    numrnn sample MODEL [--length N] [--temperature T] [--prime TEXT] [--seed S]               text.py
    numrnn gradcheck [--cell rnn] [--nonlinearity tanh] [--layers 2] [--bptt-truncate K] ...   gradcheck.py

Every choice is listed from where it is defined (the task, optimizer and layer registries, the activations,
the character model's defaults). Bad input ends with `numrnn: error: <message>` and exit status 2; training that
diverges with status 1; training stopped by SIGINT/SIGTERM with 130/143 after writing DIR/last.npz (continue it
with --resume).
"""
import argparse
import sys

from .. import __version__
from ..apps import charlm
from ..apps.charlm import CELLS, DEFAULTS, INPUTS, READINGS
from ..apps.gradcheck import available_cells
from ..apps.tasks import PRESETS, TASKS
from ..apps.tasks.base import LR_SCHEDULES
from ..functional import ACTIVATIONS
from ..io.load import load
from ..optimizers import OPTIMIZERS
from ..schedules import NAMES as SCHEDULES
from . import forecast, gradcheck, models, text, train
from .common import (ERRORS, EXIT_INTERRUPTED, EXIT_USAGE, Interrupted, UsageError, interrupted, non_negative_float,
                     non_negative_int, positive_float, positive_int, report)

__all__ = ["main", "build_parser"]

def main(argv=None):
    """Run the command line on `argv` (sys.argv[1:] if None); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
        args.argv = argv
        return args.run(args)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2, message already printed)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    except Interrupted as error:  # SIGINT or SIGTERM during training: its state written first
        return interrupted(error)
    except KeyboardInterrupt:
        print("numrnn: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ERRORS as error:
        return report(error)


def _evaluate(args):
    """A model and a text file: a character model's loss; a forecaster's backtest table; otherwise the task's
    metrics. Without --task or --data, what the model was trained on: a character model's own corpus (Tiny
    Shakespeare by default), a forecaster its CSV file, a task's model its task."""
    if args.task is None and _is_forecaster(args.model):
        return forecast.evaluate(args)
    if args.start is not None:
        raise UsageError("--from is for forecasters (models written by numrnn train csv)")
    if args.task is None and args.data is None:
        extra = load(args.model).extra or {}
        if "text" in extra:
            args.data = extra["text"].get("data") or charlm.default_corpus()
        elif extra.get("task") in TASKS:
            args.task = extra["task"]
        else:
            raise UsageError("evaluate needs --task TASK (count, mod3, sine, mult-series), or --data FILE for a "
                             "text model: this model does not say what it was trained on")
    return text.evaluate_text(args) if args.task is None else models.evaluate(args)


def _predict(args):
    """A forecaster reads a CSV of its own columns; any other model, arrays of sequences."""
    return (forecast.predict if _is_forecaster(args.model) else models.predict)(args)


def _is_forecaster(path):
    """Whether the model file holds a forecaster; a file that cannot be read is left to the command that reads
    it, which names the problem."""
    try:
        return forecast.is_forecaster(load(path))
    except ERRORS:
        return False


def build_parser():
    parser = argparse.ArgumentParser(
        prog="numrnn", description="Recurrent neural networks from scratch on NumPy: train the tutorial tasks, "
                                   "forecast a CSV column, inspect models and check gradients.")
    parser.add_argument("--version", action="version", version=f"numrnn {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    trainer = commands.add_parser("train", help="train a task and write the model, history and plots to --out",
                                  description="Train a task; DIR receives model.npz (the best model by validation loss), "
                                              "last.npz (the whole training state, for --resume), history.json "
                                              "and PNG plots.")
    recipes = trainer.add_subparsers(dest="task", metavar="TASK", required=True)
    for name in TASKS.names():
        title = TASKS.get(name).title
        task = recipes.add_parser(name, help=title, description=title + ". Options left out keep the recipe's "
                                                                        "value (see --preset).")
        task.add_argument("--preset", choices=PRESETS, default="default",
                          help="default: our recipe, which reaches the task's target; tutorial: the tutorial's own "
                               "configuration (default: %(default)s)")
        _add_training_options(task)
        if "steps" in TASKS.get(name).settings():
            task.add_argument("--steps", type=positive_int, help="length of the training sequences")
        task.set_defaults(run=train.run)
    forecast.add_train_csv(recipes, _add_training_options).set_defaults(run=train.run)
    _add_train_text(recipes)

    evaluate = commands.add_parser("evaluate", help="metrics of a trained model on fresh test data",
                                   description="numrnn evaluate MODEL --task TASK: the task's metrics on newly "
                                               "generated test data. numrnn evaluate MODEL --data FILE: a text "
                                               "model on a text file, or a forecaster's backtest on a CSV file "
                                               "(from --from, default the rows it never saw in training).")
    evaluate.add_argument("model", metavar="MODEL", help="a model.npz written by numrnn train")
    evaluate.add_argument("--task", choices=TASKS.names(), help="the task to evaluate on")
    evaluate.add_argument("--data", metavar="FILE", help="a text file (text models) or a CSV file (forecasters)")
    evaluate.add_argument("--from", dest="start", metavar="DATE",
                          help="forecasters: the first date to predict (a row number without dates)")
    evaluate.add_argument("--seed", type=int, help="seed of the test data (default: the one used in training)")
    evaluate.add_argument("--json", action="store_true", help="print the metrics as JSON")
    evaluate.set_defaults(run=_evaluate)

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
    predict.set_defaults(run=_predict)

    forecast.add_commands(commands)

    info = commands.add_parser("info", help="architecture, parameter count and training record of a model")
    info.add_argument("model", metavar="MODEL")
    info.add_argument("--json", action="store_true", help="print the model's configuration and record as JSON")
    info.set_defaults(run=models.info)

    check = commands.add_parser("gradcheck", help="check hand-written gradients against central differences",
                                description="Build a small float64 recurrent layer with the chosen options and "
                                            "print, per tensor, the relative error between its backward pass and "
                                            "central differences. Exit status 1 if any exceeds --tolerance. With "
                                            "--bptt-truncate the reference is the brute-force truncated gradient "
                                            "(each output's gradient cut k steps back), not the exact one.")
    check.add_argument("--cell", choices=available_cells(), default="rnn")
    check.add_argument("--nonlinearity", choices=ACTIVATIONS, help="RNN only (default tanh)")
    check.add_argument("--layers", type=positive_int, default=1)
    check.add_argument("--hidden", type=positive_int, default=4)
    check.add_argument("--input-size", type=positive_int, default=3)
    check.add_argument("--steps", type=positive_int, default=6)
    check.add_argument("--batch", type=positive_int, default=2)
    check.add_argument("--bptt-truncate", type=positive_int, metavar="K", help="truncated BPTT, RNN only")
    check.add_argument("--bidirectional", action="store_true")
    check.add_argument("--no-bias", action="store_true")
    check.add_argument("--last-only", action="store_true", help="return_sequences=False (check the last output)")
    check.add_argument("--seed", type=int, default=0)
    check.add_argument("--tolerance", type=float, default=1e-6)
    check.set_defaults(run=gradcheck.run)

    sample = commands.add_parser("sample", help="generate text from a character model",
                                 description="Generate text from a character model written by `numrnn train text`.")
    sample.add_argument("model", metavar="MODEL", help="a model.npz written by numrnn train text")
    sample.add_argument("--length", type=int, default=500, metavar="N", help="characters to generate (default 500)")
    sample.add_argument("--temperature", type=float, default=1.0, metavar="T",
                        help="softmax temperature; 0 picks the most likely character (default 1.0)")
    sample.add_argument("--prime", default=None, metavar="TEXT", help="text the model reads first, printed first")
    sample.add_argument("--seed", type=int, default=None, help="seeds the draws: the same seed, the same text")
    sample.set_defaults(run=text.sample)
    return parser


def _add_training_options(parser, csv=False):
    group = parser.add_argument_group("training options (left out: the recipe's value)")
    group.add_argument("--out", required=True, metavar="DIR", help="output folder (created if needed)")
    group.add_argument("--hidden", type=positive_int, metavar="N", help="hidden units")
    if not csv:
        group.add_argument("--nonlinearity", choices=ACTIVATIONS)
    group.add_argument("--layers", type=positive_int, metavar="N", help="stacked recurrent layers")
    group.add_argument("--epochs", type=positive_int, metavar="N")
    group.add_argument("--batch-size", type=positive_int, metavar="N")
    if not csv:
        group.add_argument("--optimizer", choices=OPTIMIZERS.names())
    group.add_argument("--lr", type=positive_float, metavar="RATE", help="learning rate (Rprop: its first step)")
    if not csv:
        group.add_argument("--lr-schedule", choices=LR_SCHEDULES)
    group.add_argument("--clip-norm", type=positive_float, metavar="MAX", help="clip the global gradient norm")
    if not csv:
        group.add_argument("--clip-value", type=positive_float, metavar="MAX",
                           help="clip each gradient to [-MAX, MAX]")
        group.add_argument("--bptt-truncate", type=non_negative_int, metavar="K",
                           help="truncated BPTT: each output's gradient flows back at most K steps (0: full BPTT)")
    group.add_argument("--seed", type=int, help="seeds the weights, the data and the shuffling (default 0)")
    if not csv:
        group.add_argument("--init", choices=("torch", "tutorial"),
                           help="initial weights: torch's U(-1/sqrt(H), 1/sqrt(H)), or the tutorial's own")
        group.add_argument("--train-size", type=positive_int, metavar="N", help="training examples")
    group.add_argument("--no-plots", action="store_true", help="skip the PNG plots (no matplotlib needed)")
    group.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_run_options(group)


def _add_run_options(group):
    """The options of every training command about its folder and its training state (DIR/last.npz)."""
    group.add_argument("--checkpoint-every", type=non_negative_float, default=30.0, metavar="SECONDS",
                       help="write the whole training state to DIR/last.npz every SECONDS (also at each epoch's "
                            "end and on SIGINT/SIGTERM; default %(default)g)")
    group.add_argument("--resume", action="store_true",
                       help="continue the run in DIR from DIR/last.npz (refused if its options or data differ)")
    group.add_argument("--overwrite", action="store_true",
                       help="replace the run in DIR: its files are removed first")


def _add_train_text(recipes):
    d = DEFAULTS
    parser = recipes.add_parser(
        "text", help="character-level language model",
        description="Train a character-level language model (truncated BPTT over consecutive chunks, the state "
                    "carried between batches). Writes DIR/model.npz (the best model by validation loss), "
                    "DIR/history.json and DIR/last.npz (the whole training state, for --resume).")
    parser.add_argument("--data", metavar="FILE", default=None,
                        help="UTF-8 text to learn (default: Tiny Shakespeare, shipped with numrnn)")
    parser.add_argument("--out", metavar="DIR", default="runs/text", help="output folder (default: runs/text)")
    parser.add_argument("--cell", choices=CELLS, default=d["cell"], help=f"recurrent cell (default {d['cell']})")
    parser.add_argument("--input", choices=INPUTS, default=d["input"],
                        help="character input: a learned embedding or one-hot vectors (default embedding)")
    parser.add_argument("--embedding-size", type=positive_int, default=d["embedding_size"], metavar="E",
                        help=f"embedding size (default {d['embedding_size']})")
    parser.add_argument("--hidden", type=positive_int, default=d["hidden"], metavar="H",
                        help=f"hidden units per layer (default {d['hidden']})")
    parser.add_argument("--layers", type=positive_int, default=d["layers"], metavar="N",
                        help=f"stacked recurrent layers (default {d['layers']})")
    parser.add_argument("--dropout", type=non_negative_float, default=d["dropout"], metavar="P",
                        help=f"dropout between stacked layers (default {d['dropout']:g})")
    parser.add_argument("--output-dropout", type=non_negative_float, default=d["output_dropout"], metavar="P",
                        help="dropout on the last recurrent layer's output, before the dense layer "
                             f"(default {d['output_dropout']:g})")
    parser.add_argument("--batch", type=positive_int, default=d["batch"], metavar="B",
                        help=f"parallel streams (default {d['batch']})")
    parser.add_argument("--reading", choices=READINGS, default=d["reading"],
                        help="how training reads the text: the same streams each pass, each pass's streams from a "
                             "random offset, or random windows from a zero state each step "
                             f"(default {d['reading']})")
    parser.add_argument("--steps", type=positive_int, default=d["steps"], metavar="T",
                        help=f"characters per chunk, the BPTT length (default {d['steps']})")
    parser.add_argument("--lr", type=positive_float, default=d["lr"], help=f"Adam's learning rate (default {d['lr']})")
    parser.add_argument("--lr-schedule", choices=SCHEDULES, default=d["lr_schedule"],
                        help="decay over the time budget (or the epochs) down to --min-lr-fraction of --lr "
                             f"(default {d['lr_schedule']})")
    parser.add_argument("--min-lr-fraction", type=non_negative_float, default=d["min_lr_fraction"], metavar="F",
                        help=f"the learning rate at the end, as a fraction of --lr (default {d['min_lr_fraction']})")
    parser.add_argument("--clip", type=non_negative_float, default=d["clip"], metavar="MAX",
                        help=f"clip the global gradient norm to MAX, 0 for none (default {d['clip']})")
    parser.add_argument("--epochs", type=positive_int, default=d["epochs"], metavar="N",
                        help=f"at most N passes over the training text (default {d['epochs']})")
    parser.add_argument("--time-budget", type=positive_float, default=None, metavar="SECONDS",
                        help="stop training after SECONDS of wall-clock time (validation included), then evaluate")
    parser.add_argument("--max-steps", type=positive_int, default=d["max_steps"], metavar="N",
                        help="stop after N steps (the epochs still bound the run)")
    parser.add_argument("--val-every-steps", type=positive_int, default=d["val_every_steps"], metavar="N",
                        help="validate every N steps (default: once per pass over the text and at least 10 times "
                             "per run; under --time-budget, every --val-every seconds)")
    parser.add_argument("--val-every", type=positive_float, default=d["val_every"], metavar="SECONDS",
                        help=f"under --time-budget, validate every SECONDS of training (default {d['val_every']:g})")
    parser.add_argument("--val-streams", type=positive_int, default=d["val_streams"], metavar="S",
                        help="segments of the validation split read side by side, each checked against the one "
                             "before it (the figure of one stream, faster); 1 reads the split as one stream "
                             f"(default {d['val_streams']})")
    parser.add_argument("--threads", type=positive_int, default=d["threads"], metavar="N",
                        help=f"worker threads, each on a share of the streams (default {d['threads']})")
    parser.add_argument("--seed", type=int, default=d["seed"], help=f"seeds the weights (default {d['seed']})")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d["dtype"])
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    _add_run_options(parser)
    parser.set_defaults(run=text.train_text)
