"""The text-model commands: `numrnn train text`, `numrnn sample`, `numrnn evaluate MODEL --data FILE`.

The models, their training, evaluation and sampling live in numrnn.apps.charlm; this module parses and prints.
"""
import json
import os
import sys
import time

from ._argtypes import non_negative_float as _non_negative_float
from ._argtypes import positive_float as _positive_float
from ._argtypes import positive_int as _positive_int
from .apps.charlm import (CELLS, DEFAULTS, LN2, check_temperature, default_corpus, encode, evaluate_ids, generate,
                          read_text, split_ids, text_vocab, train)
from .callbacks import Callback
from .io.load import load as load_model


class _TextProgress(Callback):
    """A tqdm bar over the training steps (or the seconds of a time budget) showing the smoothed loss."""

    def __init__(self):
        self.bar = None

    def set_params(self, params):
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.budget = params["time_budget"]
        if self.budget:
            self.bar = tqdm(total=self.budget, unit="s", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}s {postfix}",
                            file=sys.stderr, leave=False)
        else:
            self.bar = tqdm(total=params["epochs"] * params["steps"], unit="step", file=sys.stderr, leave=False)

    def on_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(min(logs["seconds"], self.budget) - self.bar.n if self.budget else 1)
            self.bar.set_postfix_str(f"loss {logs['smoothed_loss']:.3f}", refresh=False)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def log(self, line):
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line, flush=True)


# -- the command line ------------------------------------------------------------------------------------------------


def _has_option(parser, option):
    return option in parser._option_string_actions or any(action.dest == option for action in parser._actions)


def add_train_text_arguments(parser):
    """The options of `numrnn train text`."""
    d = DEFAULTS
    parser.description = ("Train a character-level language model (truncated BPTT over consecutive chunks, the "
                          "state carried between batches). Writes DIR/model.npz (the best model by validation loss) "
                          "and DIR/history.json.")
    parser.add_argument("--data", metavar="FILE", default=None,
                        help="UTF-8 text to learn (default: Tiny Shakespeare, shipped with numrnn)")
    parser.add_argument("--out", metavar="DIR", default="runs/text", help="output folder (default: runs/text)")
    parser.add_argument("--cell", choices=CELLS, default=d["cell"], help=f"recurrent cell (default {d['cell']})")
    parser.add_argument("--input", choices=("embedding", "onehot"), default=d["input"],
                        help="character input: a learned embedding or one-hot vectors (default embedding)")
    parser.add_argument("--embedding-size", type=_positive_int, default=d["embedding_size"], metavar="E",
                        help=f"embedding size (default {d['embedding_size']})")
    parser.add_argument("--hidden", type=_positive_int, default=d["hidden"], metavar="H",
                        help=f"hidden units per layer (default {d['hidden']})")
    parser.add_argument("--layers", type=_positive_int, default=d["layers"], metavar="N",
                        help=f"stacked recurrent layers (default {d['layers']})")
    parser.add_argument("--dropout", type=_non_negative_float, default=d["dropout"], metavar="P",
                        help=f"dropout between stacked layers (default {d['dropout']:g})")
    parser.add_argument("--batch", type=_positive_int, default=d["batch"], metavar="B",
                        help=f"parallel streams (default {d['batch']})")
    parser.add_argument("--steps", type=_positive_int, default=d["steps"], metavar="T",
                        help=f"characters per chunk, the BPTT length (default {d['steps']})")
    parser.add_argument("--lr", type=_positive_float, default=d["lr"], help=f"Adam's learning rate (default {d['lr']})")
    parser.add_argument("--lr-schedule", choices=("constant", "linear", "cosine"), default=d["lr_schedule"],
                        help="decay over the time budget (or the epochs) down to --min-lr-fraction of --lr "
                             f"(default {d['lr_schedule']})")
    parser.add_argument("--min-lr-fraction", type=_non_negative_float, default=d["min_lr_fraction"], metavar="F",
                        help=f"the learning rate at the end, as a fraction of --lr (default {d['min_lr_fraction']})")
    parser.add_argument("--clip", type=_non_negative_float, default=d["clip"], metavar="MAX",
                        help=f"clip the global gradient norm to MAX, 0 for none (default {d['clip']})")
    parser.add_argument("--epochs", type=_positive_int, default=d["epochs"], metavar="N",
                        help=f"at most N passes over the training text (default {d['epochs']})")
    parser.add_argument("--time-budget", type=_positive_float, default=None, metavar="SECONDS",
                        help="stop training after SECONDS of wall-clock time (validation included), then evaluate")
    parser.add_argument("--val-every", type=_positive_float, default=d["val_every"], metavar="SECONDS",
                        help=f"validate every SECONDS of training (default {d['val_every']:g})")
    parser.add_argument("--val-streams", type=_positive_int, default=d["val_streams"], metavar="S",
                        help="parallel slices for the interval validation; 1 reads the split as one stream "
                             f"(default {d['val_streams']})")
    parser.add_argument("--threads", type=_positive_int, default=d["threads"], metavar="N",
                        help=f"worker threads, each on a share of the streams (default {d['threads']})")
    parser.add_argument("--seed", type=int, default=d["seed"], help=f"seeds the weights (default {d['seed']})")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d["dtype"])
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no log lines")
    return parser


def add_sample_arguments(parser):
    """The options of `numrnn sample MODEL`."""
    parser.description = "Generate text from a character model written by `numrnn train text`."
    if not _has_option(parser, "model"):
        parser.add_argument("model", metavar="MODEL", help="a model.npz written by numrnn train text")
    parser.add_argument("--length", type=int, default=500, metavar="N", help="characters to generate (default 500)")
    parser.add_argument("--temperature", type=float, default=1.0, metavar="T",
                        help="softmax temperature; 0 picks the most likely character (default 1.0)")
    parser.add_argument("--prime", default=None, metavar="TEXT", help="text the model reads first, printed first")
    parser.add_argument("--seed", type=int, default=None, help="seeds the draws: the same seed, the same text")
    return parser


def add_evaluate_text_arguments(parser):
    """The options of `numrnn evaluate MODEL --data FILE` (those the caller has not added already)."""
    if not _has_option(parser, "model"):
        parser.add_argument("model", metavar="MODEL", help="a model.npz written by numrnn train text")
    if not _has_option(parser, "--data"):
        parser.add_argument("--data", required=True, metavar="FILE", help="text file: its last 10%% is evaluated")
    if not _has_option(parser, "--json"):
        parser.add_argument("--json", action="store_true", help="print the result as a JSON object")
    return parser


def _fail(error):
    message = str(error)
    if isinstance(error, OSError) and getattr(error, "filename", None) and error.strerror:
        message = f"{error.filename}: {error.strerror}"
    print(f"numrnn: error: {message}", file=sys.stderr)
    return 2


def _options_from_args(args):
    options = {}
    for key in ("cell", "input", "embedding_size", "hidden", "layers", "dropout", "batch", "steps", "lr",
                "lr_schedule", "min_lr_fraction", "clip", "epochs", "time_budget", "val_every", "val_streams",
                "threads", "seed", "dtype"):
        value = getattr(args, key, None)
        if value is not None:
            options[key] = value
    if options.get("clip") == 0:
        options["clip"] = None
    if "dropout" in options and not options["dropout"] < 1:
        raise ValueError(f"--dropout must be in [0, 1), got {options['dropout']}")
    return options


def train_text(args):
    """`numrnn train text`: returns the exit status (0, or 2 with a message for bad input)."""
    try:
        path = args.data or default_corpus()
        text = read_text(path)
        options = _options_from_args(args)
        quiet = getattr(args, "quiet", False)
        progress = _TextProgress() if not quiet and sys.stderr.isatty() else None
        log = (lambda *a, **k: None) if quiet else (progress.log if progress else (lambda line: print(line, flush=True)))
        out = args.out
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"--out {out} exists and is not a folder")
        os.makedirs(out, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise ValueError(f"--out {out} is not writable")
        log(f"numrnn train text: {path} ({len(text):,} characters) -> {out}")
        model, history = train(text, out=out, log=log, callbacks=[progress] if progress else [], **options)
    except (ValueError, TypeError, OSError, FloatingPointError) as error:
        return _fail(error)
    except KeyboardInterrupt:
        print("numrnn: interrupted", file=sys.stderr)
        return 130
    if not quiet:
        print(f"wrote {os.path.join(out, 'model.npz')} and {os.path.join(out, 'history.json')}")
    return 0


def _load_text_model(path):
    model = load_model(path)
    text_vocab(model)
    return model


def sample(args):
    """`numrnn sample MODEL`: prints the prime (when given) and the generated text; returns the exit status."""
    try:
        if args.length is None or args.length <= 0:
            raise ValueError(f"--length must be a positive integer, got {args.length}")
        temperature = check_temperature(args.temperature)
        model = _load_text_model(args.model)
        generated = generate(model, args.length, temperature=temperature, prime=args.prime, seed=args.seed)
    except (ValueError, TypeError, OSError) as error:
        return _fail(error)
    sys.stdout.write((args.prime or "") + generated + "\n")
    sys.stdout.flush()
    return 0


def evaluate_text(args):
    """`numrnn evaluate MODEL --data FILE [--json]`: the loss on the file's last 10%; returns the exit status."""
    try:
        model = _load_text_model(args.model)
        text = read_text(args.data)
        ids = encode(text, model.vocab)
        _, val_ids = split_ids(ids)
        if len(val_ids) < 2:
            raise ValueError(f"{args.data} has {len(ids)} characters: its last 10% needs at least 2 (give at least "
                             f"20)")
        began = time.perf_counter()
        loss = evaluate_ids(model, val_ids, streams=1)
        seconds = time.perf_counter() - began
    except (ValueError, TypeError, OSError) as error:
        return _fail(error)
    result = {"val_loss": loss, "bits_per_char": loss / LN2, "characters": int(len(val_ids)),
              "model": os.fspath(args.model), "data": os.fspath(args.data), "seconds": round(seconds, 3)}
    if getattr(args, "json", False):
        print(json.dumps(result))
    else:
        print(f"val_loss {loss:.4f} nats/char  {loss / LN2:.4f} bits/char  on the last {len(val_ids):,} characters "
              f"of {args.data} ({seconds:.1f}s)")
    return 0
