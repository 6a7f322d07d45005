"""Training a character model: truncated BPTT over consecutive chunks of parallel streams, as char-rnn does.

    model, history = train(text, out="runs/text", time_budget=600)

The recurrent layers run `stateful`: each chunk starts from the final state of the chunk before (cut from the
graph, so the gradient never reaches the earlier chunk), and every pass starts from zeros. A step is the model's
own two halves, compute_gradients (on `threads` workers, each on its share of the streams: workers.py) and
apply_gradients (clipping to `clip`, then Adam), at the learning rate lr x Schedule(lr_schedule, floor=
min_lr_fraction)(progress), progress being the larger of the characters seen and the time spent, as fractions of
the epochs and of the time budget.

Validation loss, in nats per character, is measured every `val_every` seconds on `val_streams` parallel slices of
the validation split, each warmed up on the `val_warmup` characters before it (evaluate.py); the model kept is the
best by that figure, and the one-stream figure of the kept model is measured at the end (history["final"]).
"""
import json
import math
import os
import time

from ... import __version__, threads
from ..._validate import check_positive_float, check_positive_int
from ...callbacks import call
from ...io.atomic import atomic_write
from ...random import seed as seed_numrnn
from ...schedules import NAMES as SCHEDULES
from ...schedules import Schedule
from .corpus import build_vocab, encode, make_streams, split_ids
from .evaluate import LN2, evaluate_ids
from .model import CELLS, INPUTS, build_model
from .workers import Workers

__all__ = ["DEFAULTS", "train", "Trainer"]

#: the defaults of `numrnn train text`, chosen to reach 1.50 nats per character on Tiny Shakespeare in 600 s.
#: Dropout 0.2 between the two layers: at ~21k characters/s the model sees 13M characters in 600 s and without it
#: overfits (train 1.12, validation 1.490 nats at the end; with it 1.21 and 1.475).
DEFAULTS = {
    "cell": "lstm", "input": "embedding", "embedding_size": 64, "hidden": 256, "layers": 2, "dropout": 0.2,
    "batch": 64, "steps": 50, "lr": 3e-3, "lr_schedule": "linear", "min_lr_fraction": 0.1, "clip": 5.0,
    "epochs": 50, "time_budget": None, "val_every": 75.0, "val_streams": 256, "val_warmup": 100,
    "threads": min(2, os.cpu_count() or 1), "seed": 0, "dtype": "float32",
}


def train(text, out=None, log=print, callbacks=(), **options):
    """Train a character model on `text`; returns (model, history). `options` override DEFAULTS.

    With `out`, writes out/model.npz (the best model by validation loss, atomically, after each improvement) and
    out/history.json (after each validation). `time_budget` (seconds) stops training when that much wall-clock time
    has passed since training began, validation included; then the kept model's one-stream validation loss is
    measured (history["final"]). log: where the progress lines go (None: nowhere). callbacks: Callback objects
    (a progress bar) called with set_params({"epochs", "steps", "time_budget"}), on_train_begin, on_batch_end
    (step, {"loss", "smoothed_loss", "seconds"}) and on_train_end.
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
                        dropout=config["dropout"], lr=config["lr"], clip=config["clip"], dtype=config["dtype"])
    model.vocab = list(vocab)
    for layer in model.layers:
        if hasattr(layer, "stateful"):
            layer.stateful = True  # saved so: the model keeps reading as it was trained, chunk after chunk
    if out is not None:
        os.makedirs(out, exist_ok=True)
    history = {"config": config, "vocab_size": len(vocab), "train_characters": int(train_ids.size),
               "val_characters": int(val_ids.size), "parameters": model.num_parameters(), "validation": [],
               "numrnn": __version__}
    inputs, targets, _ = model.check_data(inputs, targets)  # once: every chunk then goes in as checked
    workers = Workers(model, inputs, targets, config["threads"], seed=config["seed"])
    try:
        with threads.for_model(model, inputs.shape[0], workers=workers.count):
            trainer = Trainer(model, config, workers, val_ids, out, history, log, callbacks)
            trainer.run()
            trainer.finish()
    finally:
        workers.close()
    return model, history


class Trainer:
    """The loop of `train`: chunks, schedule, validation, keeping the best model."""

    def __init__(self, model, config, workers, val_ids, out, history, log, callbacks=()):
        self.model, self.config, self.workers, self.val_ids, self.out = model, config, workers, val_ids, out
        self.history, self.log = history, log or (lambda *args, **kwargs: None)
        self.callbacks = list(callbacks)
        self.schedule = Schedule(config["lr_schedule"], floor=config["min_lr_fraction"])
        self.batch = sum(x.shape[0] for x, _ in workers.parts)
        self.columns = workers.parts[0][0].shape[1]
        self.chars_per_pass = self.batch * self.columns
        self.best = math.inf
        self.best_state = None
        self.chars = self.step = self.epoch = 0
        self.train_loss = None
        self.start = self.train_seconds = None

    def progress(self, elapsed):
        """How far training has gone, in [0, 1]: by characters over the epochs, or by time over the budget."""
        fractions = [self.chars / (self.config["epochs"] * self.chars_per_pass)]
        if self.config["time_budget"]:
            fractions.append(elapsed / self.config["time_budget"])
        return max(fractions)

    def run(self):
        config, model, workers = self.config, self.model, self.workers
        budget = config["time_budget"]
        call(self.callbacks, "set_model", model)
        call(self.callbacks, "set_params", {"epochs": config["epochs"], "steps": -(-self.columns // config["steps"]),
                                            "time_budget": budget})
        self.start = time.perf_counter()
        last_validation = self.start
        call(self.callbacks, "on_train_begin", {})
        try:
            stop = False
            while self.epoch < config["epochs"] and not stop:
                workers.reset_states()
                for chunk in workers.chunks(config["steps"]):
                    now = time.perf_counter()
                    elapsed = now - self.start
                    if budget is not None and elapsed >= budget:
                        stop = True
                        break
                    ending = budget is not None and budget - elapsed < 0.5 * config["val_every"]
                    if now - last_validation >= config["val_every"] and not ending:  # the last comes at the end
                        self.validate()
                        last_validation = time.perf_counter()
                    model.optimizer.lr = config["lr"] * self.schedule(self.progress(elapsed))
                    loss = workers.compute_gradients(chunk)
                    if not math.isfinite(loss):
                        raise FloatingPointError(f"the training loss became {loss} at step {self.step}; try a smaller "
                                                 f"--lr or --clip")
                    model.apply_gradients()
                    workers.sync()
                    self.train_loss = loss if self.train_loss is None else 0.95 * self.train_loss + 0.05 * loss
                    self.chars += chunk[0][0].shape[1] * self.batch
                    self.step += 1
                    call(self.callbacks, "on_batch_end", self.step - 1,
                         {"loss": loss, "smoothed_loss": self.train_loss, "seconds": time.perf_counter() - self.start})
                else:
                    self.epoch += 1
        finally:
            call(self.callbacks, "on_train_end", {})
        self.train_seconds = time.perf_counter() - self.start
        self.validate()

    def validate(self):
        """The interval validation: record it, keep the model if it is the best so far, write both files."""
        config = self.config
        began = time.perf_counter()
        loss = evaluate_ids(self.model, self.val_ids, streams=config["val_streams"], warmup=config["val_warmup"],
                            replicas=self.workers.models, pool=self.workers.pool)
        spent = time.perf_counter() - began
        seconds = began - self.start
        record = {"seconds": round(seconds, 2), "step": self.step, "epoch": self.epoch, "characters": self.chars,
                  "train_loss": None if self.train_loss is None else round(self.train_loss, 5),
                  "val_loss": round(loss, 5), "bits_per_char": round(loss / LN2, 5),
                  "lr": float(f"{self.model.optimizer.lr:.6g}"),
                  "chars_per_second": round(self.chars / max(seconds, 1e-9), 1), "validation_seconds": round(spent, 2)}
        self.history["validation"].append(record)
        improved = loss < self.best
        if improved:
            self.best = loss
            self.best_state = self.model.state_dict()
            self.save(record)
        self.write_history()
        self.log(f"{seconds:7.1f}s  epoch {self.epoch + 1}  step {self.step}  {self.chars / 1e6:.2f}M chars  "
                 f"train {record['train_loss'] if record['train_loss'] is not None else float('nan'):.4f}  "
                 f"val {loss:.4f} nats  {loss / LN2:.4f} bits/char  {record['chars_per_second'] / 1e3:.1f}k chars/s"
                 + ("  (kept)" if improved else ""))

    def save(self, record, final=None):
        if self.out is None:
            return
        extra = {"text": {"config": self.config, "validation": record, "final": final}}
        self.model.save(os.path.join(self.out, "model.npz"), extra=extra)

    def write_history(self):
        if self.out is None:
            return
        with atomic_write(os.path.join(self.out, "history.json"), "w") as stream:
            json.dump(self.history, stream, indent=1)

    def finish(self):
        """Put the best weights back, measure their one-stream validation loss, record it and save again."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        began = time.perf_counter()
        loss = evaluate_ids(self.model, self.val_ids, streams=1)
        final = {"val_loss": round(loss, 5), "bits_per_char": round(loss / LN2, 5),
                 "train_seconds": round(self.train_seconds, 2), "characters": self.chars, "steps": self.step,
                 "chars_per_second": round(self.chars / max(self.train_seconds, 1e-9), 1),
                 "evaluation_seconds": round(time.perf_counter() - began, 2)}
        self.history["final"] = final
        best_record = min(self.history["validation"], key=lambda r: r["val_loss"])
        self.save(best_record, final)
        self.write_history()
        self.log(f"kept model (val {best_record['val_loss']:.4f} at {best_record['seconds']:.0f}s): "
                 f"{loss:.4f} nats/char, {loss / LN2:.4f} bits/char on the whole validation split in one stream "
                 f"({final['evaluation_seconds']:.1f}s); trained {self.train_seconds:.0f}s, {self.chars:,} chars, "
                 f"{final['chars_per_second'] / 1e3:.1f}k chars/s")


def check_config(config):
    """Every option checked before any work, with a message naming it."""
    if config["cell"] not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {config['cell']!r}")
    if config["input"] not in INPUTS:
        raise ValueError(f"input must be 'embedding' or 'onehot', got {config['input']!r}")
    if config["lr_schedule"] not in SCHEDULES:
        raise ValueError(f"lr_schedule must be 'constant', 'linear' or 'cosine', got {config['lr_schedule']!r}")
    for key in ("embedding_size", "hidden", "layers", "batch", "steps", "epochs", "val_streams", "threads"):
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
