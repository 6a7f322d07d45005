"""What a run records while it trains, for its history and plots: two numrnn.callbacks.Callback subclasses.

    StepGradientRecorder(layer)        per epoch, the norm of the gradient reaching each time step (the heatmap)
    ParameterPath(params, names)       two scalar parameters after every batch (the count task's loss surface)
"""
import numpy as np

from ..callbacks import Callback

__all__ = ["StepGradientRecorder", "ParameterPath"]


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
