"""The one training loop: fit, over mini-batches of a model's compute_gradients and apply_gradients.

    for epoch in range(epochs):
        order = generator.permutation(N) if shuffle else 0..N-1
        for each batch of `batch_size` indices of order:
            logs = model.train_on_batch(X[batch], y[batch], mask=mask[batch], checked=True)
        logs of the epoch: each batch's mean weighted by its number of target positions (so the mean over all
        positions, whatever the batching); then the validation data's, prefixed "val_"

The data are checked once, before the first step. A batch whose sequences are all empty (lengths 0, masks all
False) has no target: the loop passes over it without a step. The loop needs no model class: anything with check_ready,
check_data, train_on_batch, evaluate, target_positions and batch_mean (numrnn.Sequential) trains here.

Everything the loop depends on lives in a FitLoop: the position (epoch, batch, step), this epoch's order and
running sums, the history, every random generator's state, the learning rate, each callback's own state, and a
fingerprint of the run (model, data, arguments). Its state_dict() is what numrnn.callbacks.BackupAndRestore
writes, and load_state_dict() puts it back, so a fit killed at any moment and started again continues exactly:
same batches, same dropout masks, bit-identical weights at the end.

A non-finite loss or gradient stops training with a FloatingPointError that names the step (the weights are those
from before it; see Sequential.apply_gradients); a callback may stop quietly instead (TerminateOnNaN).
"""
import hashlib
import json
import time

import numpy as np

from . import random as numrnn_random
from . import threads
from ._validate import check_positive_int
from .callbacks import call


class History:
    """What fit returns: `history` maps "loss", "accuracy", "val_loss", "val_accuracy" to per-epoch lists."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def append(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


class FitLoop:
    """The state of one fit in progress (see the module docstring)."""

    def __init__(self, model, data, validation, *, epochs, batch_size, shuffle, seed, callbacks):
        self.model, self.data, self.validation = model, data, validation
        self.epochs, self.batch_size, self.shuffle = epochs, batch_size, shuffle
        self.callbacks = callbacks
        self.samples = data[0].shape[0]
        self.steps = -(-self.samples // batch_size)
        self.generator = np.random.default_rng(seed) if seed is not None else numrnn_random.get_rng()
        self.fingerprint = _fingerprint(model, data, validation, epochs=epochs, batch_size=batch_size,
                                        shuffle=shuffle, seed=seed)
        self.epoch = self.batch = self.step = 0
        self.order, self.mean = None, model.batch_mean()
        self.history = History()
        self.elapsed = 0.0

    def begin_epoch(self):
        self.order = self.generator.permutation(self.samples) if self.shuffle else np.arange(self.samples)
        self.mean = self.model.batch_mean()

    def state_dict(self):
        """Everything needed to continue this fit exactly (JSON-able values and arrays; the model's weights and
        optimizer state are saved beside it)."""
        model = self.model
        return {"epoch": self.epoch, "batch": self.batch, "step": self.step, "order": self.order,
                "mean": self.mean.state_dict(),
                "history": {"epoch": list(self.history.epoch), "history": self.history.history},
                "elapsed": self.elapsed, "lr": model.optimizer.lr, "stop_training": bool(model.stop_training),
                "generators": {"shuffle": self.generator.bit_generator.state, "numrnn": numrnn_random.get_state(),
                               "layers": {str(i): layer.generator.bit_generator.state
                                          for i, layer in enumerate(model.layers)
                                          if getattr(layer, "generator", None) is not None}},
                "callbacks": [callback.state_dict() if hasattr(callback, "state_dict") else None
                              for callback in self.callbacks],
                "fingerprint": self.fingerprint}

    def load_state_dict(self, state, source="the backup"):
        """Continue from a state_dict(); a ValueError if it was written by a different run (saying what differs)."""
        difference = _difference(state.get("fingerprint"), self.fingerprint)
        if difference:
            raise ValueError(f"{source} was written by a different run, refusing to resume it: {difference}")
        self.epoch, self.batch, self.step = int(state["epoch"]), int(state["batch"]), int(state["step"])
        self.order = None if state["order"] is None else np.asarray(state["order"], dtype=np.int64)
        self.mean.load_state_dict(state["mean"])
        self.history = History()
        self.history.epoch, self.history.history = list(state["history"]["epoch"]), state["history"]["history"]
        self.elapsed = float(state["elapsed"])
        self.model.optimizer.lr = state["lr"]
        self.model.stop_training = bool(state["stop_training"])
        generators = state["generators"]
        self.generator.bit_generator.state = generators["shuffle"]
        numrnn_random.set_state(generators["numrnn"])
        for index, layer_state in generators["layers"].items():
            self.model.layers[int(index)].generator.bit_generator.state = layer_state
        for callback, callback_state in zip(self.callbacks, state["callbacks"]):
            if callback_state is not None and hasattr(callback, "load_state_dict"):
                callback.load_state_dict(callback_state)


def fit(model, X, y, *, epochs=1, batch_size=32, validation_data=None, shuffle=True, seed=None, lengths=None,
        mask=None, callbacks=None, verbose=False, validation_split=None, sample_weight=None, class_weight=None):
    """Train `model` for `epochs` passes over (X, y) in mini-batches; returns a History.

    lengths (N,) or mask (N, time) booleans: the real steps of each sequence (not both; see Sequential.check_data).
    validation_data: (X_val, y_val), (X_val, y_val, lengths_val) or (X_val, y_val, mask_val), evaluated after each
    epoch; a third entry of two dimensions is a mask. validation_split: instead, the last fraction of the data
    (before any shuffling, as Keras's) is held out and evaluated after each epoch.
    sample_weight, class_weight: Keras's (numrnn.weights): each target position's loss term weighs that much.
    seed: seeds the shuffling (numrnn's generator if None). callbacks: numrnn.callbacks.Callback objects (or any
    object with some of its methods). verbose: print one line per epoch.
    """
    model.check_ready(training=True)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    X, y, mask = model.check_data(X, y, lengths, mask)
    data = (X, y, mask, model.check_weights(y, sample_weight, class_weight))
    validation = None
    if validation_split is not None:
        if validation_data is not None:
            raise ValueError("give validation_data or validation_split, not both")
        data, validation = _split(data, validation_split)
    if model.target_positions(data[0], mask=data[2]) == 0:
        raise ValueError("nothing to train on: every sequence is empty (its lengths are 0 or its mask all False)")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be a tuple (X_val, y_val), (X_val, y_val, lengths_val) or "
                            "(X_val, y_val, mask_val)")
        X_val, y_val, padding = (*validation_data, None)[:3]
        is_mask = np.ndim(padding) == 2
        validation = model.check_data(X_val, y_val, None if is_mask else padding, padding if is_mask else None,
                                      names=("validation_data[0]", "validation_data[1]", "validation_data[2]",
                                             "validation_data[2]")) + (None,)
    # a backup is written once every other callback has updated its state for the step
    callbacks = sorted(callbacks or [], key=lambda callback: bool(getattr(callback, "runs_last", False)))
    loop = FitLoop(model, data, validation, epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed,
                   callbacks=callbacks)
    model.stop_training = False
    call(callbacks, "set_model", model)
    call(callbacks, "set_params", {"epochs": epochs, "steps": loop.steps, "batch_size": batch_size,
                                   "samples": loop.samples, "verbose": verbose})
    with threads.for_model(model, min(batch_size, loop.samples)):
        call(callbacks, "on_train_begin", {})
        call(callbacks, "restore", loop)  # BackupAndRestore puts a saved state back
        _run(loop, verbose)
        call(callbacks, "on_train_end", loop.history.history)
    return loop.history


def _run(loop, verbose):
    model, callbacks, (X, y, mask, weights) = loop.model, loop.callbacks, loop.data
    started = time.perf_counter() - loop.elapsed
    while loop.epoch < loop.epochs and not model.stop_training:
        if loop.batch == 0:
            call(callbacks, "on_epoch_begin", loop.epoch, {})
            loop.begin_epoch()
        while loop.batch < loop.steps and not model.stop_training:
            index = loop.order[loop.batch * loop.batch_size:(loop.batch + 1) * loop.batch_size]
            batch_mask = None if mask is None else mask[index]
            positions = model.target_positions(X[index], mask=batch_mask)
            if positions == 0:  # every sequence of the batch is empty: no target, nothing to step on
                loop.batch += 1
                continue
            call(callbacks, "on_batch_begin", loop.batch, {"size": index.size})
            try:
                logs = model.train_on_batch(X[index], y[index], mask=batch_mask, checked=True,
                                            sample_weight=None if weights is None else weights[index])
            except FloatingPointError as error:
                call(callbacks, "on_divergence", error)
                if model.stop_training:
                    break
                raise FloatingPointError(
                    f"training diverged at epoch {loop.epoch + 1}, batch {loop.batch + 1} (step {loop.step + 1}): "
                    f"{error}. Try a smaller learning rate (lr is {model.optimizer.lr:.4g}), gradient clipping "
                    f"(clip_norm=1.0), or a float64 model") from None
            loop.mean.add(logs, positions)
            loop.batch += 1
            loop.step += 1
            loop.elapsed = time.perf_counter() - started
            call(callbacks, "on_batch_end", loop.batch - 1, logs)
        if loop.mean.weight == 0:  # stopped before this epoch trained on anything
            return
        epoch_logs = loop.mean.result()
        if loop.validation is not None:
            X_val, y_val, mask_val, weights_val = loop.validation
            val_logs = model.evaluate(X_val, y_val, batch_size=loop.batch_size, mask=mask_val, checked=True,
                                      sample_weight=weights_val)
            epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
        loop.history.append(loop.epoch, epoch_logs)
        loop.epoch, loop.batch, loop.order = loop.epoch + 1, 0, None  # a backup written now resumes at the next
        call(callbacks, "on_epoch_end", loop.epoch - 1, epoch_logs)
        if verbose:
            print(f"epoch {loop.epoch}/{loop.epochs} " + " ".join(f"{k}={v:.6g}" for k, v in epoch_logs.items()))


def _split(data, fraction):
    """(training part, validation part) of checked data: the validation part is the last `fraction` of the rows."""
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError(f"validation_split must be a number in (0, 1), got {fraction!r}")
    count = data[0].shape[0]
    split = int(count * (1 - fraction))
    if not 0 < split < count:
        raise ValueError(f"validation_split={fraction} leaves {split} of {count} samples for training and "
                         f"{count - split} for validation: both need at least one")
    part = lambda rows: tuple(None if array is None else array[rows] for array in data)  # noqa: E731
    return part(slice(None, split)), part(slice(split, None))


def _fingerprint(model, data, validation, **arguments):
    """What identifies a run: the architecture, loss, optimizer (as built) and clipping, the arguments of fit, and
    a SHA-256 of the training and validation data."""
    def digest(arrays):
        if arrays is None:
            return None
        hasher = hashlib.sha256()
        for array in arrays:
            if array is not None:
                hasher.update(repr((array.dtype.str, array.shape)).encode())
                hasher.update(np.ascontiguousarray(array).tobytes())
        return hasher.hexdigest()

    config = json.loads(json.dumps(model.config()))
    return {"model": config, "fit": json.loads(json.dumps(arguments)), "data": digest(data),
            "validation_data": digest(validation)}


def _difference(saved, current):
    """'' if the fingerprints agree, else what differs, in words."""
    if not isinstance(saved, dict):
        return "it has no fingerprint"
    differences = []
    names = {"model": "the model (architecture, loss, optimizer or clipping)", "data": "the training data",
             "validation_data": "the validation data"}
    for key in ("model", "data", "validation_data"):
        if saved.get(key) != current.get(key):
            differences.append(f"{names[key]} changed")
    for key, value in current["fit"].items():
        if saved.get("fit", {}).get(key) != value:
            differences.append(f"fit's {key} was {saved.get('fit', {}).get(key)!r}, now {value!r}")
    return "; ".join(differences)
