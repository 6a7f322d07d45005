"""The one training loop: fit, over mini-batches of a model's compute_gradients and apply_gradients.

    for epoch in range(epochs):
        order = generator.permutation(N) if shuffle else 0..N-1
        for each batch of `batch_size` indices of order:
            logs = model.train_on_batch(X[batch], y[batch], checked=True)   compute_gradients + apply_gradients
        logs of the epoch: each batch's mean weighted by its number of target positions (so the mean over all
        positions, whatever the batching); then the validation data's, prefixed "val_"

The data are checked once, before the first step. The loop needs no model class: anything with check_ready,
check_data, train_on_batch, evaluate, target_positions, accumulate and average (numrnn.Sequential) trains here.
"""
import numpy as np

from . import threads
from ._validate import check_positive_int
from .callbacks import call
from .random import get_rng


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


def fit(model, X, y, *, epochs=1, batch_size=32, validation_data=None, shuffle=True, seed=None, lengths=None,
        callbacks=None, verbose=False):
    """Train `model` for `epochs` passes over (X, y) in mini-batches; returns a History.

    validation_data: (X_val, y_val) or (X_val, y_val, lengths_val), evaluated after each epoch.
    seed: seeds the shuffling (numrnn's generator if None). callbacks: numrnn.callbacks.Callback objects (or any
    object with some of its methods). verbose: print one line per epoch.
    """
    model.check_ready(training=True)
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    X, y, lengths = model.check_data(X, y, lengths)
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise TypeError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, lengths_val)")
        validation = model.check_data(*validation_data, names=("validation_data[0]", "validation_data[1]",
                                                                "validation_data[2]"))
    generator = np.random.default_rng(seed) if seed is not None else get_rng()
    callbacks = list(callbacks or [])
    count = X.shape[0]
    steps = -(-count // batch_size)
    call(callbacks, "set_model", model)
    call(callbacks, "set_params", {"epochs": epochs, "steps": steps, "batch_size": batch_size, "samples": count,
                                   "verbose": verbose})
    history = History()
    model.stop_training = False
    with threads.for_model(model, min(batch_size, count)):
        call(callbacks, "on_train_begin", {})
        for epoch in range(epochs):
            call(callbacks, "on_epoch_begin", epoch, {})
            order = generator.permutation(count) if shuffle else np.arange(count)
            totals, weight = {}, 0
            for batch, start in enumerate(range(0, count, batch_size)):
                index = order[start:start + batch_size]
                batch_lengths = None if lengths is None else lengths[index]
                call(callbacks, "on_batch_begin", batch, {"size": index.size})
                logs = model.train_on_batch(X[index], y[index], batch_lengths, checked=True)
                weight += model.accumulate(totals, logs, model.target_positions(X[index], batch_lengths))
                call(callbacks, "on_batch_end", batch, logs)
                if model.stop_training:
                    break
            epoch_logs = model.average(totals, weight)
            if validation_data is not None:
                X_val, y_val, lengths_val = validation
                val_logs = model.evaluate(X_val, y_val, batch_size=batch_size, lengths=lengths_val, checked=True)
                epoch_logs.update({f"val_{key}": value for key, value in val_logs.items()})
            history.append(epoch, epoch_logs)
            call(callbacks, "on_epoch_end", epoch, epoch_logs)
            if verbose:
                print(f"epoch {epoch + 1}/{epochs} " + " ".join(f"{k}={v:.6g}" for k, v in epoch_logs.items()))
            if model.stop_training:
                break
        call(callbacks, "on_train_end", history.history)
    return history
