"""Character-level language models: corpus, vocabulary, truncated BPTT over consecutive chunks, training, sampling.

    numrnn train text [--data FILE] [--out DIR] [--time-budget SECONDS] ...
    numrnn sample MODEL [--length N] [--temperature T] [--prime TEXT] [--seed S]
    numrnn evaluate MODEL --data FILE [--json]

The model reads character ids and predicts the next character at every step:

    Embedding(V, E) -> LSTM(E, H, num_layers) -> Dense(H, V), softmax cross-entropy   (--input embedding)
    OneHot(V)       -> RNN / LSTM / GRU(V, H, num_layers) -> Dense(H, V)                (--input onehot)

Data, as char-rnn does it. The vocabulary is the text's distinct characters, sorted, so the same text always gives
the same ids. The first 90% of the ids train, the last 10% validate. The training ids t_0 .. t_{N-1} are cut into
B parallel streams of n = (N - 1) // B characters each, targets shifted by one,

    inputs  X[b, j] = t_{b n + j}        targets  Y[b, j] = t_{b n + j + 1}        b < B, j < n

and one pass walks the streams in consecutive chunks of `steps` columns. Chunk k + 1 of a stream continues chunk
k, so the recurrent layers run `stateful`: each chunk starts from the final state of the chunk before (cut from the
graph, so the gradient never reaches the earlier chunk: truncated BPTT), and model.reset_states() starts every pass
from zeros.

Validation loss, in nats per character (bits = nats / ln 2), is the mean of -log p(next character) over the whole
validation split, read as one stream in one pass as model.predict(ids[None]) would. During training it is measured
at intervals on `val_streams` parallel slices of the split instead, each warmed up on the `val_warmup` characters
before it (whose predictions are not counted), which costs a fraction of the one-stream pass; the model kept is the
best by that figure, and the one-stream figure of the kept model is reported at the end.

Speed. Two things make the NumPy loop fast on a small machine: BLAS runs single-threaded (a threaded BLAS on the
many small per-step products loses more to synchronisation than it gains, badly so on a loaded machine), and
`threads` worker threads (default 2, 1 on a one-core machine) each run forward and backward on their share of the
B streams, with a copy of the weights; their gradients are averaged (weighted by their number of streams, so the
result is the gradient of the whole batch), clipped and applied once, and the copies are refreshed.
"""
import json
import math
import os
import sys
import time

import numpy as np

from ._argtypes import non_negative_float as _non_negative_float
from ._argtypes import positive_float as _positive_float
from ._argtypes import positive_int as _positive_int
from . import __version__
from .threads import blas_threads
from ._validate import check_positive_float, check_positive_int
from .clipping import clip_grad_norm
from .io.load import load as load_model
from .layers.dense import Dense
from .layers.embedding import Embedding, OneHot
from .model import Sequential
from .optimizers import Adam
from .random import seed as seed_numrnn

__all__ = ["DEFAULTS", "default_corpus", "read_text", "build_vocab", "encode", "decode", "split_ids", "make_streams",
           "iterate_chunks", "build_model", "evaluate_ids", "train", "generate", "train_text", "sample",
           "evaluate_text", "add_train_text_arguments", "add_sample_arguments", "add_evaluate_text_arguments"]

LN2 = math.log(2.0)
VALIDATION_FRACTION = 0.1

#: the defaults of `numrnn train text`, chosen to reach 1.50 nats per character on Tiny Shakespeare in 600 s.
#: Dropout 0.2 between the two layers: at ~21k characters/s the model sees 13M characters in 600 s and without it
#: overfits (train 1.12, validation 1.490 nats at the end; with it 1.21 and 1.475).
DEFAULTS = {
    "cell": "lstm", "input": "embedding", "embedding_size": 64, "hidden": 256, "layers": 2, "dropout": 0.2,
    "batch": 64, "steps": 50, "lr": 3e-3, "lr_schedule": "linear", "min_lr_fraction": 0.1, "clip": 5.0,
    "epochs": 50, "time_budget": None, "val_every": 75.0, "val_streams": 256, "val_warmup": 100,
    "threads": min(2, os.cpu_count() or 1), "seed": 0, "dtype": "float32",
}
CELLS = ("lstm", "gru", "rnn")


# -- the corpus ------------------------------------------------------------------------------------------------------

def default_corpus():
    """The path of the Tiny Shakespeare text shipped with numrnn (1,115,394 characters)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tinyshakespeare.txt")


def read_text(path):
    """The whole file as a str (UTF-8); ValueError if it is empty or not UTF-8 text, OSError if unreadable."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder, not a text file")
    try:
        with open(path, encoding="utf-8", newline="") as stream:  # every character as it is, "\r" included
            text = stream.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"no such text file: {path}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not text:
        raise ValueError(f"{path} is empty: a text model needs characters to learn from")
    return text


def build_vocab(text):
    """The distinct characters of `text`, sorted: the same text always gives the same ids."""
    if not isinstance(text, str) or not text:
        raise ValueError("the text must be a non-empty str")
    return sorted(set(text))


def _code_points(text):
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def encode(text, vocab):
    """Character ids (int64) of `text` under `vocab`; ValueError naming the characters the vocabulary lacks."""
    points = _code_points(text)
    table = _code_points("".join(vocab))
    order = np.argsort(table, kind="stable")
    position = np.searchsorted(table, points, sorter=order)
    position = np.minimum(position, len(table) - 1)
    ids = order[position]
    unknown = table[ids] != points
    if unknown.any():
        missing = sorted(set(chr(c) for c in points[unknown]))
        shown = ", ".join(repr(c) for c in missing[:10]) + (", ..." if len(missing) > 10 else "")
        raise ValueError(f"{len(missing)} distinct character{'s' if len(missing) > 1 else ''} not in the model's "
                         f"vocabulary of {len(vocab)}: {shown}")
    return ids.astype(np.int64)


def decode(ids, vocab):
    return "".join(vocab[int(i)] for i in np.asarray(ids).reshape(-1))


def split_ids(ids, fraction=VALIDATION_FRACTION):
    """(train, validation): the first 90% of the ids and the last 10% (validation gets the odd character)."""
    count = len(ids)
    split = count - int(math.ceil(count * fraction - 1e-9))
    return ids[:split], ids[split:]


def make_streams(ids, batch):
    """(X, Y), each (batch, n): `batch` consecutive slices of the ids, n = (len(ids) - 1) // batch, Y shifted by 1."""
    batch = check_positive_int("batch", batch)
    length = (len(ids) - 1) // batch
    if length < 1:
        raise ValueError(f"the training text has {len(ids)} characters, too few for {batch} streams "
                         f"(--batch {batch} needs at least {batch + 1}); use a smaller --batch or a longer text")
    inputs = np.ascontiguousarray(ids[:length * batch].reshape(batch, length))
    targets = np.ascontiguousarray(ids[1:length * batch + 1].reshape(batch, length))
    return inputs, targets


def iterate_chunks(inputs, targets, steps):
    """Consecutive (x, y) chunks of `steps` columns of the streams, in order; the last may be shorter."""
    steps = check_positive_int("steps", steps)
    for start in range(0, inputs.shape[1], steps):
        yield inputs[:, start:start + steps], targets[:, start:start + steps]


# -- the model -------------------------------------------------------------------------------------------------------

def _cell_class(cell):
    if cell == "lstm":
        from .layers.lstm import LSTM
        return LSTM
    if cell == "gru":
        from .layers.gru import GRU
        return GRU
    if cell == "rnn":
        from .layers.rnn import RNN
        return RNN
    raise ValueError(f"cell must be one of {list(CELLS)}, got {cell!r}")


def build_model(vocab_size, cell="lstm", input="embedding", embedding_size=64, hidden=256, layers=2, dropout=0.0,
                lr=3e-3, clip=5.0, dtype="float32"):
    """Embedding(V, E) or OneHot(V) -> cell(., hidden, layers) -> Dense(hidden, V), cross-entropy, Adam."""
    if input not in ("embedding", "onehot"):
        raise ValueError(f"input must be 'embedding' or 'onehot', got {input!r}")
    recurrent = _cell_class(cell)
    if input == "embedding":
        first, features = Embedding(vocab_size, embedding_size, dtype=dtype), embedding_size
    else:
        first, features = OneHot(vocab_size, dtype=dtype), vocab_size
    model = Sequential([first, recurrent(features, hidden, num_layers=layers, dropout=dropout, dtype=dtype),
                        Dense(hidden, vocab_size, dtype=dtype)],
                       loss="cross_entropy", optimizer=Adam(lr=lr), clip_norm=clip or None)
    return model


def _recurrent_layers(model):
    return [layer for layer in model.layers if hasattr(layer, "reset_states")]


def _nll_sum(logits, targets, counted=None):
    """Sum of -log softmax(logits)[target] (float64) over positions; logits (T, B, V), targets (T, B)."""
    logits = logits.astype(np.float64)
    top = logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(logits - top).sum(axis=-1)) + top[..., 0]
    picked = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    losses = log_norm - picked
    return float(losses.sum() if counted is None else losses[counted].sum())


def evaluate_ids(model, ids, streams=1, warmup=100, chunk_size=None, _workers=None):
    """Mean -log p(ids[t + 1] | ids[:t + 1]) over t, in nats per character.

    streams=1: the exact figure, the ids read as one sequence in one pass (what model.predict(ids[None]) gives),
    in chunks with the state carried, so memory stays bounded whatever the length. streams=S > 1: the positions
    are cut into S consecutive slices read in parallel, each starting `warmup` characters early (those steps only
    set up its state and are not counted): a close estimate at a fraction of the time.
    """
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    if ids.size < 2:
        raise ValueError(f"evaluation needs at least 2 characters, got {ids.size}")
    streams = check_positive_int("streams", streams)
    count = ids.size - 1  # positions with a target
    streams = min(streams, count)
    length = -(-count // streams)
    starts = np.arange(streams) * length
    first = np.maximum(starts - (warmup if streams > 1 else 0), 0)  # where each row starts reading
    stops = np.minimum(starts + length, count)
    width = int((stops - first).max())
    columns = first[:, None] + np.arange(width)[None, :]
    counted = (columns >= starts[:, None]) & (columns < stops[:, None])
    columns = np.minimum(columns, count - 1)  # past its stop a row reads padding, never counted
    inputs, targets = ids[columns], ids[columns + 1]
    if _workers is None:
        return _nll_rows(model, inputs, targets, counted, chunk_size) / count
    workers, pool = _workers  # (models with the same weights, a thread pool): each reads a share of the rows
    shares = [rows for rows in np.array_split(np.arange(streams), len(workers)) if rows.size]
    futures = [pool.submit(_nll_rows, worker, inputs[rows], targets[rows], counted[rows], chunk_size)
               for worker, rows in zip(workers, shares)]
    return sum(future.result() for future in futures) / count


def _nll_rows(model, inputs, targets, counted, chunk_size=None):
    """Sum of -log p over the counted positions of rows read in parallel, in chunks with the state carried."""
    rows, width = inputs.shape
    chunk_size = chunk_size or max(32, min(2048, 8192 // rows))
    total = 0.0
    model.eval()
    with model.streaming(), model.inference():
        for begin in range(0, width, chunk_size):
            window = slice(begin, begin + chunk_size)
            logits = model.forward(inputs[:, window])  # (T, B, V): a batch with a time axis runs time-major
            total += _nll_sum(logits, targets[:, window].T, counted[:, window].T)
    return total


# -- training --------------------------------------------------------------------------------------------------------

def _forward_backward(model, x, y):
    """Loss of one chunk and the gradients of every parameter in model.grads (no update)."""
    model.train()
    output = model.forward(x)  # time-major (T, B, V)
    loss = model.loss.forward(output, y.T)
    model.backward(model.loss.backward())
    return loss


def _lr_factor(schedule, progress, floor):
    progress = min(max(progress, 0.0), 1.0)
    if schedule == "constant":
        return 1.0
    if schedule == "linear":
        return 1.0 - (1.0 - floor) * progress
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))  # cosine


def train(text, out=None, log=print, progress=False, **options):
    """Train a character model on `text`; returns (model, history). `options` override DEFAULTS.

    With `out`, writes out/model.npz (the best model by validation loss, atomically, after each improvement) and
    out/history.json (after each validation). `time_budget` (seconds) stops training when that much wall-clock time
    has passed since training began, validation included; then the kept model's one-stream validation loss is
    measured (history["final"]).
    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown options: {unknown}")
    config = {**DEFAULTS, **options}
    _check_config(config)
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
    if out is not None:
        os.makedirs(out, exist_ok=True)
    history = {"config": config, "vocab_size": len(vocab), "train_characters": int(train_ids.size),
               "val_characters": int(val_ids.size), "parameters": model.num_parameters(), "validation": [],
               "numrnn": __version__}
    with blas_threads(1):
        trainer = _Trainer(model, config, inputs, targets, val_ids, out, history, log, progress)
        try:
            trainer.run()
            trainer.finish()
        finally:
            trainer.close()
    return model, history


class _Trainer:
    """The training loop of `train`: chunks, workers, schedule, validation, keeping the best model."""

    def __init__(self, model, config, inputs, targets, val_ids, out, history, log, progress):
        self.model, self.config, self.val_ids, self.out = model, config, val_ids, out
        self.history, self.log = history, log or (lambda *args, **kwargs: None)
        self.show_progress = progress
        count = min(config["threads"], inputs.shape[0])
        rows = np.array_split(np.arange(inputs.shape[0]), count)
        self.shares = [len(r) / inputs.shape[0] for r in rows]
        self.parts = [(np.ascontiguousarray(inputs[r]), np.ascontiguousarray(targets[r])) for r in rows]
        self.workers = [model] + [self._replica() for _ in range(count - 1)]
        self.pool = None
        if count > 1:
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(count, thread_name_prefix="numrnn-text")
        for worker in self.workers:
            for layer in _recurrent_layers(worker):
                layer.stateful = True
        self.batch, self.columns = inputs.shape
        self.chars_per_pass = inputs.size
        self.best = math.inf
        self.best_state = None
        self.chars = self.step = 0
        self.epoch = 0
        self.train_loss = None

    def _replica(self):
        replica = Sequential([_clone_layer(layer) for layer in self.model.layers], loss=self.model.loss.config())
        replica.load_state_dict(self.model.state_dict())
        return replica

    def _sync(self):
        main = self.model.params
        for worker in self.workers[1:]:
            for name, value in worker.params.items():
                np.copyto(value, main[name])

    def _step(self, start, pool):
        steps = self.config["steps"]
        if pool is None:
            x, y = self.parts[0]
            loss = _forward_backward(self.model, x[:, start:start + steps], y[:, start:start + steps])
        else:
            futures = [pool.submit(_forward_backward, worker, x[:, start:start + steps], y[:, start:start + steps])
                       for worker, (x, y) in zip(self.workers, self.parts)]
            losses = [future.result() for future in futures]
            loss = sum(share * value for share, value in zip(self.shares, losses))
            grads = self.model.grads
            for name, grad in grads.items():  # the batch's gradient: the workers' means weighted by their shares
                grad *= self.shares[0]
                for worker, share in zip(self.workers[1:], self.shares[1:]):
                    grad += share * worker.grads[name]
        if self.model.clip_norm is not None:
            clip_grad_norm(self.model.grads, self.model.clip_norm)
        self.model.optimizer.step(self.model.params, self.model.grads)
        if pool is not None:
            self._sync()
        return loss

    def _progress_fraction(self, elapsed):
        fractions = [self.chars / (self.config["epochs"] * self.chars_per_pass)]
        if self.config["time_budget"]:
            fractions.append(elapsed / self.config["time_budget"])
        return max(fractions)

    def run(self):
        config = self.config
        budget = config["time_budget"]
        bar = _progress_bar(self.show_progress, budget, config["epochs"] * -(-self.columns // config["steps"]))
        pool = self.pool
        self.start = time.perf_counter()
        last_validation = self.start
        smoothed = None
        try:
            stop = False
            while self.epoch < config["epochs"] and not stop:
                for worker in self.workers:
                    worker.reset_states()
                for start in range(0, self.columns, config["steps"]):
                    now = time.perf_counter()
                    elapsed = now - self.start
                    if budget is not None and elapsed >= budget:
                        stop = True
                        break
                    ending = budget is not None and budget - elapsed < 0.5 * config["val_every"]
                    if now - last_validation >= config["val_every"] and not ending:  # the last comes at the end
                        self.validate(bar)
                        last_validation = time.perf_counter()
                    factor = _lr_factor(config["lr_schedule"], self._progress_fraction(elapsed),
                                        config["min_lr_fraction"])
                    self.model.optimizer.lr = config["lr"] * factor
                    loss = self._step(start, pool)
                    if not math.isfinite(loss):
                        raise FloatingPointError(f"the training loss became {loss} at step {self.step}; try a smaller "
                                                 f"--lr or --clip")
                    smoothed = loss if smoothed is None else 0.95 * smoothed + 0.05 * loss
                    self.train_loss = smoothed
                    self.chars += min(config["steps"], self.columns - start) * self.batch
                    self.step += 1
                    if bar is not None:
                        bar.update(min(time.perf_counter() - self.start, budget) - bar.n if budget else 1)
                        bar.set_postfix_str(f"loss {smoothed:.3f}", refresh=False)
                else:
                    self.epoch += 1
        finally:
            if bar is not None:
                bar.close()
        self.train_seconds = time.perf_counter() - self.start
        self.validate(None)

    def validate(self, bar):
        config = self.config
        began = time.perf_counter()
        workers = (self.workers, self.pool) if self.pool is not None else None
        loss = evaluate_ids(self.model, self.val_ids, streams=config["val_streams"], warmup=config["val_warmup"],
                            _workers=workers)
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
            self._save(self.model, record)
        self._write_history()
        line = (f"{seconds:7.1f}s  epoch {self.epoch + 1}  step {self.step}  {self.chars / 1e6:.2f}M chars  "
                f"train {record['train_loss'] if record['train_loss'] is not None else float('nan'):.4f}  "
                f"val {loss:.4f} nats  {loss / LN2:.4f} bits/char  {record['chars_per_second'] / 1e3:.1f}k chars/s"
                + ("  (kept)" if improved else ""))
        if bar is not None:
            bar.write(line)
        else:
            self.log(line)

    def _save(self, model, record, final=None):
        if self.out is None:
            return
        extra = {"text": {"config": self.config, "validation": record, "final": final}}
        model.save(os.path.join(self.out, "model.npz"), extra=extra)

    def _write_history(self):
        if self.out is None:
            return
        path = os.path.join(self.out, "history.json")
        temporary = path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(self.history, stream, indent=1)
        os.replace(temporary, path)

    def close(self):
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

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
        self._save(self.model, best_record, final)
        self._write_history()
        self.log(f"kept model (val {best_record['val_loss']:.4f} at {best_record['seconds']:.0f}s): "
                 f"{loss:.4f} nats/char, {loss / LN2:.4f} bits/char on the whole validation split in one stream "
                 f"({final['evaluation_seconds']:.1f}s); trained {self.train_seconds:.0f}s, {self.chars:,} chars, "
                 f"{final['chars_per_second'] / 1e3:.1f}k chars/s")


def _clone_layer(layer):
    clone = type(layer)(**layer.config())
    clone.load_state_dict(layer.state_dict())
    return clone


def _progress_bar(enabled, budget, total_steps):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    if budget:
        return tqdm(total=budget, unit="s", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f}s {postfix}",
                    file=sys.stderr, leave=False)
    return tqdm(total=total_steps, unit="step", file=sys.stderr, leave=False)


def _check_config(config):
    if config["cell"] not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {config['cell']!r}")
    if config["input"] not in ("embedding", "onehot"):
        raise ValueError(f"input must be 'embedding' or 'onehot', got {config['input']!r}")
    if config["lr_schedule"] not in ("constant", "linear", "cosine"):
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


# -- sampling --------------------------------------------------------------------------------------------------------

def generate(model, length, temperature=1.0, prime=None, seed=None):
    """`length` characters continuing `prime`, drawn from softmax(logits / temperature); 0 takes the argmax.

    prime: the text the model reads first (default: a newline, or the first character of the vocabulary).
    seed: seeds the draws (the same seed gives the same text). Returns the generated characters only.
    """
    vocab = _model_vocab(model)
    length = check_positive_int("length", length)
    temperature = _check_temperature(temperature)
    if prime is None or prime == "":
        prime = "\n" if "\n" in vocab else vocab[0]
    try:
        prime_ids = encode(prime, vocab)
    except ValueError as error:
        raise ValueError(f"the prime text has characters outside the vocabulary: {error}") from None
    rng = np.random.default_rng(seed)
    generated = []
    model.eval()
    with model.streaming(), model.inference():
        logits = model.forward(prime_ids[None, :])[-1, 0]  # time-major (T, 1, V): the last step's logits
        for _ in range(length):
            next_id = _draw(logits, temperature, rng)
            generated.append(next_id)
            logits = model.forward(np.array([[next_id]]))[-1, 0]
    return "".join(vocab[i] for i in generated)


def _draw(logits, temperature, rng):
    logits = logits.astype(np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    scaled = logits / temperature
    scaled -= scaled.max()
    probabilities = np.exp(scaled)
    cumulative = np.cumsum(probabilities)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(logits) - 1))


def _check_temperature(temperature):
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating, np.integer)):
        raise TypeError(f"temperature must be a number, got {type(temperature).__name__}")
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0 is greedy), got {temperature}")
    return temperature


def _model_vocab(model):
    vocab = getattr(model, "vocab", None)
    if not vocab:
        raise ValueError("the model has no vocabulary: it was not trained by `numrnn train text`")
    first = model.layers[0]
    if not isinstance(first, (Embedding, OneHot)):
        raise ValueError(f"the model does not read character ids (its first layer is {type(first).__name__})")
    return list(vocab)


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
        log = (lambda *a, **k: None) if quiet else (lambda line: print(line, flush=True))
        out = args.out
        if os.path.exists(out) and not os.path.isdir(out):
            raise ValueError(f"--out {out} exists and is not a folder")
        os.makedirs(out, exist_ok=True)
        if not os.access(out, os.W_OK):
            raise ValueError(f"--out {out} is not writable")
        log(f"numrnn train text: {path} ({len(text):,} characters) -> {out}")
        model, history = train(text, out=out, log=log, progress=not quiet and sys.stderr.isatty(), **options)
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
    _model_vocab(model)
    return model


def sample(args):
    """`numrnn sample MODEL`: prints the prime (when given) and the generated text; returns the exit status."""
    try:
        if args.length is None or args.length <= 0:
            raise ValueError(f"--length must be a positive integer, got {args.length}")
        temperature = _check_temperature(args.temperature)
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
