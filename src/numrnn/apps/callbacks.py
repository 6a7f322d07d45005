"""Callbacks of the applications (numrnn.callbacks.Callback subclasses): what a run records for its history and
plots, and how the forecaster steers its learning rate.

    StepGradientRecorder(layer)        per epoch, the norm of the gradient reaching each time step (the heatmap)
    ParameterPath(params, names)       two scalar parameters after every batch (the count task's loss surface)
    ReduceLROnPlateau(patience=5)      halve the learning rate when the validation loss stalls (Keras's)
"""
import numpy as np

from ..callbacks import Callback

__all__ = ["StepGradientRecorder", "ParameterPath", "ReduceLROnPlateau"]


class StepGradientRecorder(Callback):
    """For each epoch, the mean over its batches of `layer.step_gradient_norms`: the norm of dL/dz_t, the
    gradient reaching the pre-activations of step t of the first recurrent layer. `matrix` is (epochs, T)."""

    def __init__(self, layer):
        layer.record_step_gradients = True
        self.layer = layer
        self.rows = []
        self.total, self.batches = None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.total, self.batches = None, 0

    def on_batch_end(self, batch, logs=None):
        norms = self.layer.step_gradient_norms
        if norms is None:
            return
        if self.total is None or self.total.shape != norms.shape:
            self.total, self.batches = np.zeros(norms.shape), 0
        self.total += norms
        self.batches += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.batches:
            self.rows.append(self.total / self.batches)

    @property
    def matrix(self):
        return np.array(self.rows) if self.rows else np.zeros((0, 0))


class ParameterPath(Callback):
    """The values of two scalar parameters before the first batch and after every batch: an optimizer's path.
    params: a layer's params dict (its own arrays, which the optimizer updates in place); kept as `arrays`, since
    a Callback's `params` are fit's (epochs, steps, ...)."""

    def __init__(self, params, names):
        self.arrays, self.names = params, tuple(names)
        self.points = [self.point()]

    def point(self):
        return tuple(float(self.arrays[name].reshape(-1)[0]) for name in self.names)

    def on_batch_end(self, batch, logs=None):
        self.points.append(self.point())


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` when `monitor` has not improved for `patience` epochs (Keras's
    ReduceLROnPlateau, mode "min"); `rates` keeps the rate each epoch began with, so a later fit can replay it."""

    def __init__(self, monitor="val_loss", factor=0.5, patience=5, min_lr=0.0):
        if not 0 < factor < 1:
            raise ValueError(f"factor must lie between 0 and 1, got {factor!r}")
        self.monitor, self.factor, self.patience, self.min_lr = monitor, float(factor), int(patience), float(min_lr)
        self.best, self.wait, self.rates = None, 0, []

    def on_epoch_begin(self, epoch, logs=None):
        self.rates.append(float(self.model.optimizer.lr))

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        if self.best is None or value < self.best:
            self.best, self.wait = float(value), 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.optimizer.lr = max(self.min_lr, self.model.optimizer.lr * self.factor)
            self.wait = 0

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "rates": list(self.rates)}

    def load_state_dict(self, state):
        self.best, self.wait, self.rates = state["best"], state["wait"], list(state["rates"])
