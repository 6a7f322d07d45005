"""What a run records and keeps while it trains: numrnn.callbacks.Callback subclasses of the applications.

    StepGradientRecorder(layer)        per epoch, the norm of the gradient reaching each time step (the heatmap)
    ParameterPath(params, names)       two scalar parameters after every batch (the count task's loss surface)
    BestModel(checkpoints, extra)      DIR/model.npz: the best model by val_loss, written when it improves
    RunState(checkpoints, state, ...)  DIR/last.npz: the fit's whole state, every few seconds, at epochs' ends and
                                       on a stop; a saved state put back into the fit (exact resume)
    ReduceLROnPlateau(patience=5)      halve the learning rate when the validation loss stalls (Keras's)

Each keeps its own state in state_dict(), which the fit's state holds, so a resumed run's history and plots are
those of a run never stopped.
"""
import math

import numpy as np

from ..callbacks import Callback
from .runs import jsonable

__all__ = ["StepGradientRecorder", "ParameterPath", "BestModel", "RunState"]


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

    def state_dict(self):
        return {"rows": list(self.rows), "total": self.total, "batches": self.batches}

    def load_state_dict(self, state):
        self.rows = [np.asarray(row) for row in state["rows"]]
        self.total = None if state["total"] is None else np.array(state["total"], dtype=np.float64)
        self.batches = int(state["batches"])


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

    def state_dict(self):
        return {"points": np.array(self.points, dtype=np.float64)}

    def load_state_dict(self, state):
        self.points = [tuple(point) for point in np.asarray(state["points"]).tolist()]


class BestModel(Callback):
    """DIR/model.npz: the model of the epoch whose val_loss is the lowest so far (finite), so the file is never
    replaced by a worse model. Its weights are kept (best_weights, also in the fit's state) and written through
    checkpoints.save_best when it improves, at most once a second (checkpoints.best_due: the count task's
    3,000 short epochs would otherwise spend their time writing); an improvement not yet written is at a later
    epoch's end, on a stop, and by the run's end (which writes model.npz with the best weights)."""

    def __init__(self, checkpoints, extra):
        self.checkpoints, self.extra = checkpoints, extra
        self.best = self.best_epoch = self.best_weights = self.best_logs = None
        self.pending = False

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get("val_loss")
        if value is not None and math.isfinite(value) and (self.best is None or value < self.best):
            self.best, self.best_epoch, self.best_weights = float(value), epoch, self.model.state_dict()
            self.best_logs, self.pending = jsonable({"epoch": epoch + 1, **logs}), True
        if self.pending and self.checkpoints is not None and (self.checkpoints.best_due()
                                                              or self.checkpoints.stop.requested):
            self.write()

    def on_batch_end(self, batch, logs=None):
        if self.pending and self.checkpoints is not None and self.checkpoints.stop.requested:
            self.write()  # before RunState writes last.npz and stops

    def write(self):
        """Write the best weights to model.npz (the model's own weights are put back afterwards)."""
        current = self.model.state_dict()
        self.model.load_state_dict(self.best_weights)
        try:
            self.pending = not self.checkpoints.save_best(self.model, jsonable(dict(self.extra,
                                                                                   best=self.best_logs)))
        finally:
            self.model.load_state_dict(current)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "best_weights": self.best_weights,
                "best_logs": self.best_logs, "pending": self.pending}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.best_weights = state["best"], state["best_epoch"], state["best_weights"]
        self.best_logs, self.pending = state["best_logs"], state["pending"]


class RunState(Callback):
    """The fit's whole state in DIR/last.npz (a numrnn.apps.durable.Checkpoints): written when training begins,
    every checkpoints.every seconds, at epochs' ends (at most once a second), at the last epoch's end and when a
    stop is asked for (then Interrupted is raised);
    `state`, read from last.npz by the caller (with the weights), is put back into the fit before its first step.
    It runs after the other callbacks, so their state is up to date when it writes. `loop` is the fit's FitLoop
    (its history, also when training diverged)."""

    runs_last = True

    def __init__(self, checkpoints=None, state=None, extra=None, source=None):
        self.checkpoints, self.state, self.extra, self.source = checkpoints, state, extra, source
        self.loop = None

    def restore(self, loop):
        self.loop = loop
        if self.state is not None:
            loop.load_state_dict(self.state, source=self.source or "the checkpoint")
            self.state = None
        elif self.checkpoints is not None and loop.step == 0:
            self.save()  # a folder with a model.npz always has a last.npz to resume

    def on_batch_end(self, batch, logs=None):
        if self.checkpoints is None:
            return
        self.checkpoints.check_stop(self.model, self.loop.state_dict, self.extra)
        if self.checkpoints.due():
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        if self.checkpoints is not None:
            self.checkpoints.check_stop(self.model, self.loop.state_dict, self.extra)
            if self.checkpoints.due(epoch_end=True):
                self.save()

    def on_train_end(self, logs=None):
        if self.checkpoints is not None:
            self.save()  # the end of training, whatever the throttle skipped

    def save(self):
        self.checkpoints.save(self.model, self.loop.state_dict(), self.extra)
