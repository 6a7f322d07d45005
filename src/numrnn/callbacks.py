"""Callbacks: code that fit runs at fixed points of training, under Keras's names and signatures.

    set_model(model)                       before training: the model being trained
    set_params(params)                     before training: {"epochs": E, "steps": batches per epoch, ...}
    on_train_begin(logs)                   on_train_end(logs)
    on_epoch_begin(epoch, logs)            on_epoch_end(epoch, logs)     logs: the epoch's metrics, val_ included
    on_batch_begin(batch, logs)            on_batch_end(batch, logs)     logs: the batch's loss, accuracy, grad_norm
    on_divergence(error)                   a step's loss or gradient was not finite (no weight moved); set
                                           model.stop_training to stop quietly, else fit raises the error
    restore(loop)                          once, after on_train_begin: the fit's numrnn.training.FitLoop
    state_dict() / load_state_dict(state)  a callback's own state, saved in a backup so a resumed fit continues it

Subclass Callback and override what you need (any object with some of these methods works too). A callback ends
training by setting model.stop_training = True; fit stops after the current batch. Here: ModelCheckpoint,
BackupAndRestore, EarlyStopping, TerminateOnNaN, LearningRateScheduler, ReduceLROnPlateau.
"""
import math
import os
import sys
import warnings

from .io.format import write_model
from .io.schema import restore_checkpoint
from .schedules import Schedule

__all__ = ["Callback", "ModelCheckpoint", "BackupAndRestore", "EarlyStopping", "TerminateOnNaN",
           "LearningRateScheduler", "ReduceLROnPlateau", "call"]


class Callback:
    """The protocol, every method a no-op; `model` and `params` are set before training begins."""

    model = None
    params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


class _Monitor(Callback):
    """A callback that watches one metric and knows which way is better."""

    def __init__(self, monitor, mode, min_delta=0.0):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.min_delta = monitor, abs(float(min_delta))
        self.higher_is_better = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.best = None
        self._warned = False

    def value(self, logs):
        """The monitored value in logs, or None (with one warning) if it is absent or not finite."""
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(value):
            if not self._warned:
                warnings.warn(f"{type(self).__name__} monitors {self.monitor!r}, which the logs "
                              f"{'lack' if value is None else f'give as {value}'}; available: "
                              f"{sorted(logs or {})}", stacklevel=3)
                self._warned = True
            return None
        return float(value)

    def improved(self, value):
        if self.best is None:
            return True
        if self.higher_is_better:
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def state_dict(self):
        return {"best": self.best}

    def load_state_dict(self, state):
        self.best = state["best"]


class ModelCheckpoint(_Monitor):
    """Save the model (numrnn's .npz, atomically) during training.

    filepath may hold "{epoch}" or a metric ("model-{epoch:03d}-{val_loss:.3f}.npz"). save_best_only=True writes
    only when `monitor` improved, so the file on disk is never replaced by a worse model; save_every=N saves every
    N batches instead of every epoch (then monitor a batch metric such as "loss"). Weights that are not finite are
    never written.
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=True, save_every=None, mode="auto", verbose=0):
        super().__init__(monitor, mode)
        self.filepath, self.save_best_only, self.verbose = os.fspath(filepath), bool(save_best_only), verbose
        if save_every is not None and (isinstance(save_every, bool) or not isinstance(save_every, int)
                                       or save_every < 1):
            raise ValueError(f"save_every must be None (every epoch) or a positive number of batches, "
                             f"got {save_every!r}")
        self.save_every = save_every
        self.epoch = 0
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_batch_end(self, batch, logs=None):
        self._batches += 1
        if self.save_every is not None and self._batches % self.save_every == 0:
            self._save(self.epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_every is None:
            self._save(epoch, logs)

    def _save(self, epoch, logs):
        if self.save_best_only:
            value = self.value(logs)
            if value is None or not self.improved(value):
                return
            self.best = value
        path = self.filepath.format(epoch=epoch + 1, **(logs or {}))
        extra = dict(self.model.extra, checkpoint={"epoch": epoch + 1, **(logs or {})})
        self.model.save(path, extra=extra)
        if self.verbose:
            print(f"epoch {epoch + 1}: saved {path}" + (f" ({self.monitor} {self.best:.6g})"
                                                        if self.save_best_only else ""))

    def state_dict(self):
        return {"best": self.best, "batches": self._batches}

    def load_state_dict(self, state):
        self.best, self._batches = state["best"], state["batches"]


class BackupAndRestore(Callback):
    """Keep the whole training state in backup_dir/backup.npz, so that a fit killed at any moment (a crash, a
    kill -9, a preempted machine) and started again with the same script continues where the last backup was taken,
    exactly: same batches, same dropout masks, bit-identical weights at the end.

    save_every: "epoch" (at each epoch's end) or N (every N batches). The backup holds the weights, the optimizer's
    state, every random generator's state, the position in the data, the history and the other callbacks' state;
    a backup written by a different run (model, data or fit arguments) is refused, saying what changed. A
    successful fit deletes it (delete_checkpoint=False keeps it). It runs after the other callbacks.
    """

    runs_last = True

    def __init__(self, backup_dir, save_every="epoch", delete_checkpoint=True):
        if save_every != "epoch" and (isinstance(save_every, bool) or not isinstance(save_every, int)
                                      or save_every < 1):
            raise ValueError(f"save_every must be 'epoch' or a positive number of batches, got {save_every!r}")
        self.backup_dir, self.save_every = os.fspath(backup_dir), save_every
        self.delete_checkpoint = bool(delete_checkpoint)
        self.path = os.path.join(self.backup_dir, "backup.npz")
        self.loop = None

    def restore(self, loop):
        self.loop = loop
        if os.path.exists(self.path):
            loop.load_state_dict(restore_checkpoint(self.model, self.path), source=self.path)

    def on_batch_end(self, batch, logs=None):
        if self.save_every != "epoch" and self.loop.step % self.save_every == 0:
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if self.save_every == "epoch":
            self.save()

    def save(self):
        """Write the training state now."""
        os.makedirs(self.backup_dir, exist_ok=True)
        write_model(self.path, self.model, self.model.extra, training=self.loop.state_dict())

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.unlink(self.path)


class EarlyStopping(_Monitor):
    """Stop when `monitor` has not improved by more than min_delta for `patience` epochs; with
    restore_best_weights, end with the weights of the best epoch (Keras's EarlyStopping)."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, restore_best_weights=False, mode="auto"):
        super().__init__(monitor, mode, min_delta)
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got {patience!r}")
        self.patience, self.restore_best_weights = patience, bool(restore_best_weights)
        self.wait, self.stopped_epoch, self.best_epoch, self.best_weights = 0, None, None, None

    def on_epoch_end(self, epoch, logs=None):
        value = self.value(logs)
        if value is None:
            return
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_epoch": self.best_epoch, "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.wait, self.stopped_epoch = state["best"], state["wait"], state["stopped_epoch"]
        self.best_epoch, self.best_weights = state["best_epoch"], state["best_weights"]


class TerminateOnNaN(Callback):
    """Stop training quietly when a step's loss or gradient is not finite (fit would raise FloatingPointError);
    the weights are those from before that step."""

    def __init__(self, stream=None):
        self.stream = stream
        self.error = None

    def on_divergence(self, error):
        self.error = error
        self.model.stop_training = True
        print(f"TerminateOnNaN: stopping: {error}", file=self.stream or sys.stderr)


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at the start of every epoch.

    schedule: a numrnn.schedules.Schedule (lr = the rate at the start of training x schedule(epoch / epochs)), or, as
    Keras's, a function schedule(epoch, lr) -> the new lr.
    """

    def __init__(self, schedule, verbose=0):
        if not callable(schedule):
            raise TypeError(f"schedule must be a numrnn Schedule or a function (epoch, lr) -> lr, "
                            f"got {type(schedule).__name__}")
        self.schedule, self.verbose = schedule, verbose
        self.base_lr = None

    def on_train_begin(self, logs=None):
        self.base_lr = self.model.optimizer.lr

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if isinstance(self.schedule, Schedule):
            optimizer.lr = self.base_lr * self.schedule(epoch / self.params["epochs"])
        else:
            optimizer.lr = float(self.schedule(epoch, optimizer.lr))
        if self.verbose:
            print(f"epoch {epoch + 1}: learning rate {optimizer.lr:.6g}")

    def state_dict(self):
        return {"base_lr": self.base_lr}

    def load_state_dict(self, state):
        self.base_lr = state["base_lr"]


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by `factor` when `monitor` has not improved by more than min_delta for
    `patience` epochs, never below min_lr (Keras's ReduceLROnPlateau); `rates` keeps the rate each epoch began
    with, so a later fit can replay them."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_delta=0.0, min_lr=0.0, mode="auto"):
        super().__init__(monitor, mode, min_delta)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < 1:
            raise ValueError(f"factor must lie between 0 and 1, got {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"patience must be a non-negative integer, got {patience!r}")
        self.factor, self.patience, self.min_lr = float(factor), patience, float(min_lr)
        self.wait, self.rates = 0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append(float(self.model.optimizer.lr))

    def on_epoch_end(self, epoch, logs=None):
        value = self.value(logs)
        if value is None:
            return
        if self.improved(value):
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.optimizer.lr = max(self.min_lr, self.model.optimizer.lr * self.factor)
            self.wait = 0

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "rates": list(self.rates)}

    def load_state_dict(self, state):
        self.best, self.wait, self.rates = state["best"], state["wait"], list(state["rates"])


def call(callbacks, method, *args):
    """Call `method` with args on every callback that has it."""
    for callback in callbacks:
        function = getattr(callback, method, None)
        if function is not None:
            function(*args)
