"""Training a character model: truncated BPTT over consecutive chunks of parallel streams, as char-rnn does.

    model, history = train(text, out="runs/text", time_budget=600)

The recurrent layers run `stateful`: each chunk starts from the final state of the chunk before (cut from the
graph, so the gradient never reaches the earlier chunk), and every pass starts from zeros. A step is the model's
own two halves, compute_gradients (on `threads` workers, each on its share of the streams and with its own dropout
generator: workers.py) and apply_gradients (clipping to `clip`, then Adam), at the learning rate
lr x Schedule(lr_schedule, floor=min_lr_fraction)(progress), progress being the largest of the characters seen,
the steps taken and the time spent, as fractions of the epochs, of max_steps and of the time budget.

Validation loss, in nats per character, is the figure of the validation split read as one stream, computed from
`val_streams` segments read side by side, each warmed up on the `val_warmup` characters before it and checked
(evaluate.py): every `val_every_steps` steps (by default about ten times a run and at least once a pass over the
text) when the run is bounded by epochs or max_steps, so that the whole run, best model included, is a function of
the seed and the options; every `val_every` seconds under a time budget (unless val_every_steps is given). The model
kept is the best by that figure, and measured once more at the end (history["final"]). The loop and its exact
resume: trainer.py.
"""
import os

from ... import __version__, threads
from ..._validate import check_positive_float, check_positive_int
from ...random import seed as seed_numrnn
from ...schedules import NAMES as SCHEDULES
from ..durable import digest
from .corpus import READINGS, build_vocab, encode, make_streams, split_ids
from .model import CELLS, INPUTS, build_model
from .trainer import Trainer
from .workers import Workers

__all__ = ["DEFAULTS", "train", "Trainer", "fingerprint"]

#: the defaults of `numrnn train text`, chosen by 600-second runs on Tiny Shakespeare (the README's table): two GRU
#: layers of 384 units, dropout 0.2 between them and 0.2 on the output, Adam 2e-3 cosine-decayed to 2e-4, clipping
#: at 1, 64 streams of 100 characters: 1.442 nats/char after 600 s at ~17k characters/s (training loss 1.27).
#: One wider layer (GRU 1x512, torch's best 600-second RNN) learns faster but overfits sooner: 1.467-1.473 with
#: every dropout and reading tried; the former default, an LSTM of 2x256, 1.475.
DEFAULTS = {
    "cell": "gru", "input": "embedding", "embedding_size": 64, "hidden": 384, "layers": 2, "dropout": 0.2,
    "output_dropout": 0.2, "batch": 64, "reading": "streams", "steps": 100, "lr": 2e-3, "lr_schedule": "cosine",
    "min_lr_fraction": 0.1, "clip": 1.0,
    "epochs": 50, "max_steps": None, "time_budget": None, "val_every": 75.0, "val_every_steps": None,
    "val_streams": 64, "val_warmup": 200, "threads": min(2, os.cpu_count() or 1), "seed": 0, "dtype": "float32",
}


def train(text, out=None, log=print, callbacks=(), checkpoints=None, run_id=None, **options):
    """Train a character model on `text`; returns (model, history). `options` override DEFAULTS.

    With `out`, writes out/model.npz (the best model by validation loss, atomically, after each improvement) and
    out/history.json (after each validation). `time_budget` (seconds) stops training when that much wall-clock time
    has passed since training began, validation included; then the kept model's one-stream validation loss is
    measured (history["final"]). log: where the progress lines go (None: nowhere). callbacks: Callback objects
    (a progress bar) called with set_params({"epochs", "steps", "time_budget", "initial_step"}),
    on_train_begin, on_batch_end (step, {"loss", "smoothed_loss", "seconds"}) and on_train_end.
    checkpoints: a numrnn.apps.durable.Checkpoints (out/last.npz: the whole training state, written every few
    seconds, at each pass's end and on a stop; with resume=True, training continues from it exactly).
    A step whose loss or gradient is not finite raises FloatingPointError naming the step, after history.json
    records it; the best model on disk is left as it was.
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown options: {unknown}")
    config = {**DEFAULTS, **options}
    check_config(config)
    seed_numrnn(config["seed"])
    vocab = build_vocab(text)
    ids = encode(text, vocab)
    train_ids, val_ids = split_ids(ids)
    if len(val_ids) < 2:
        raise ValueError(f"the text has {len(ids)} characters: too few for a validation split of 10% with at least "
                         f"2 characters (give at least 20)")
    inputs, targets = make_streams(train_ids, config["batch"])
    model = build_model(len(vocab), cell=config["cell"], input=config["input"],
                        embedding_size=config["embedding_size"], hidden=config["hidden"], layers=config["layers"],
                        dropout=config["dropout"], output_dropout=config["output_dropout"], lr=config["lr"],
                        clip=config["clip"], dtype=config["dtype"])
    model.vocab = list(vocab)
    for layer in model.layers:
        if hasattr(layer, "stateful"):
            layer.stateful = True  # saved so: the model keeps reading as it was trained, chunk after chunk
    if out is not None:
        os.makedirs(out, exist_ok=True)
    history = {"config": config, "vocab_size": len(vocab), "train_characters": int(train_ids.size),
               "val_characters": int(val_ids.size), "parameters": model.num_parameters(), "validation": [],
               "numrnn": __version__, "run_id": run_id}
    inputs, targets, _ = model.check_data(inputs, targets)  # once: every chunk then goes in as checked
    workers = Workers(model, inputs, targets, config["threads"], seed=config["seed"])
    try:
        with threads.for_model(model, inputs.shape[0], workers=workers.count):
            trainer = Trainer(model, config, workers, val_ids, out, history, log, callbacks, checkpoints,
                              run={"id": run_id, "fingerprint": fingerprint(config, text)}, train_ids=train_ids)
            state = checkpoints.read(model, trainer.run["fingerprint"], NAMES) if checkpoints else None
            if state is not None:
                trainer.load_state_dict(state)
                log and log(f"resumed from {checkpoints.path} at step {trainer.step} (epoch {trainer.epoch + 1})")
            trainer.run_training()
            trainer.finish()
    finally:
        workers.close()
    return model, history


#: how a changed fingerprint entry that is not an option is named
NAMES = {"data": "the training text"}


def fingerprint(config, text):
    """What identifies a run: every option and a SHA-256 of the text."""
    return {**config, "data": digest(text)}


def check_config(config):
    """Every option checked before any work, with a message naming it."""
    if config["cell"] not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {config['cell']!r}")
    if config["input"] not in INPUTS:
        raise ValueError(f"input must be 'embedding' or 'onehot', got {config['input']!r}")
    if config["reading"] not in READINGS:
        raise ValueError(f"reading must be one of {list(READINGS)}, got {config['reading']!r}")
    if config["lr_schedule"] not in SCHEDULES:
        raise ValueError(f"lr_schedule must be 'constant', 'linear' or 'cosine', got {config['lr_schedule']!r}")
    for key in ("embedding_size", "hidden", "layers", "batch", "steps", "epochs", "val_streams", "threads"):
        check_positive_int(key, config[key])
    for key in ("max_steps", "val_every_steps"):
        if config[key] is not None:
            check_positive_int(key, config[key])
    for key in ("lr", "val_every"):
        check_positive_float(key, config[key])
    if config["time_budget"] is not None:
        check_positive_float("time_budget", config["time_budget"])
    if config["clip"] is not None:
        check_positive_float("clip", config["clip"], allow_zero=True)
    if not 0.0 <= config["min_lr_fraction"] <= 1.0:
        raise ValueError(f"min_lr_fraction must be in [0, 1], got {config['min_lr_fraction']}")
    if not isinstance(config["val_warmup"], int) or config["val_warmup"] < 0:
        raise ValueError(f"val_warmup must be a non-negative integer, got {config['val_warmup']!r}")
    if not (isinstance(config["seed"], int) and 0 <= config["seed"] < 2 ** 63):
        raise ValueError(f"seed must be an integer in [0, 2**63), got {config['seed']!r}")
    for key in ("dropout", "output_dropout"):
        if not 0.0 <= config[key] < 1.0:
            raise ValueError(f"{key} must be in [0, 1), got {config[key]}")

