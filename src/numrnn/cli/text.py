"""The character-model commands: `numrnn train text`, `numrnn sample`, `numrnn evaluate MODEL --data FILE`.

    numrnn train text [--data FILE] [--out DIR] [--time-budget SECONDS] ...
    numrnn sample MODEL [--length N] [--temperature T] [--prime TEXT] [--seed S]
    numrnn evaluate MODEL --data FILE [--json]

The models, their training, evaluation and sampling are numrnn.apps.charlm; these parse nothing and print.
"""
import json
import os
import shlex
import sys
import time

from ..apps import charlm
from ..apps.durable import Checkpoints, StopFlag
from ..apps.folder import prepare_run_folder
from ..io.load import load
from .common import EXIT_OK, interrupted_after, stop_on_signals, warn
from .progress import TextProgress

__all__ = ["train_text", "sample", "evaluate_text", "OPTIONS"]

#: the options of `numrnn train text` that are the trainer's (charlm.DEFAULTS)
OPTIONS = ("cell", "input", "embedding_size", "hidden", "layers", "dropout", "output_dropout", "batch", "reading",
           "steps", "lr",
           "lr_schedule", "min_lr_fraction", "clip", "epochs", "max_steps", "time_budget", "val_every",
           "val_every_steps", "val_streams", "threads", "seed", "dtype")


def _options(args):
    options = {key: getattr(args, key) for key in OPTIONS if getattr(args, key, None) is not None}
    if options.get("clip") == 0:
        options["clip"] = None
    for key in ("dropout", "output_dropout"):
        if key in options and not options[key] < 1:
            raise ValueError(f"--{key.replace('_', '-')} must be in [0, 1), got {options[key]}")
    return options


def train_text(args):
    """Train on args.data (default: Tiny Shakespeare) into args.out: model.npz (the best), history.json and
    last.npz (the training state; --resume continues from it)."""
    path = args.data or charlm.default_corpus()
    text = charlm.read_text(path)
    options = _options(args)
    command = "numrnn " + shlex.join(args.argv) if getattr(args, "argv", None) else None
    folder = prepare_run_folder(args.out, resume=args.resume, overwrite=args.overwrite, command=command)
    if args.resume and not folder.resuming:
        warn(f"numrnn: nothing to resume in {folder.path}: starting a new run")
    stop = StopFlag()
    checkpoints = Checkpoints(folder.path, every=args.checkpoint_every, resume=folder.resuming, stop=stop, warn=warn)
    progress = None if args.quiet else TextProgress(enabled=sys.stderr.isatty())
    log = progress.write if progress else None
    if log:
        log(f"numrnn train text: {path} ({len(text):,} characters) -> {folder.path}")
    with stop_on_signals(stop):
        charlm.train(text, out=folder.path, log=log, callbacks=[progress] if progress else [],
                     checkpoints=checkpoints, run_id=folder.run_id, **options)
    if not args.quiet:
        print(f"wrote {os.path.join(args.out, 'model.npz')}, {os.path.join(args.out, 'history.json')} and "
              f"{os.path.join(args.out, 'last.npz')}")
    return interrupted_after(stop, EXIT_OK)


def _load_text_model(path):
    model = load(path)
    charlm.text_vocab(model, source=path)
    return model


def sample(args):
    """Print the prime (when given) and the generated text."""
    if args.length is None or args.length <= 0:
        raise ValueError(f"--length must be a positive integer, got {args.length}")
    temperature = charlm.check_temperature(args.temperature)
    model = _load_text_model(args.model)
    generated = charlm.generate(model, args.length, temperature=temperature, prime=args.prime, seed=args.seed)
    sys.stdout.write((args.prime or "") + generated + "\n")
    sys.stdout.flush()
    return EXIT_OK


def evaluate_text(args):
    """The loss on the last 10% of args.data as one stream reads it (computed from segments side by side, on the
    character model's worker threads: charlm.evaluate_ids), in nats and bits per character."""
    model = _load_text_model(args.model)
    text = charlm.read_text(args.data)
    ids = charlm.encode(text, model.vocab)
    _, val_ids = charlm.split_ids(ids)
    if len(val_ids) < 2:
        raise ValueError(f"{args.data} has {len(ids)} characters: its last 10% needs at least 2 (give at least 20)")
    began = time.perf_counter()
    loss = charlm.evaluate_ids(model, val_ids, threads=charlm.DEFAULTS["threads"])
    seconds = time.perf_counter() - began
    result = {"val_loss": loss, "bits_per_char": loss / charlm.LN2, "characters": int(len(val_ids)),
              "model": os.fspath(args.model), "data": os.fspath(args.data), "seconds": round(seconds, 3)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"val_loss {loss:.4f} nats/char  {loss / charlm.LN2:.4f} bits/char  on the last {len(val_ids):,} "
              f"characters of {args.data} ({seconds:.1f}s)")
    return EXIT_OK
