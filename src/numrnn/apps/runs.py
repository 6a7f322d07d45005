"""A finished training run, and its folder: model.npz, history.json and the task's plots.

    run = numrnn.apps.tasks.train("sine")
    run.metrics["test_rmse"], run.model, run.history     what it reached, the trained Sequential, numrnn's History
    save_run(run, "runs/sine")                           model.npz, history.json, loss.png, ... (returns the paths)

Every file is written atomically (numrnn.io.atomic): a crash leaves the old file or none, never half of one. This
module names no task: a run's task says how it is described (`describe`, `target_met`, `label`) and which plots it
makes (`plots(run, out)`).
"""
import json
import math
import os

import numpy as np

from ..io.atomic import atomic_write

__all__ = ["Run", "save_run", "write_json", "jsonable", "rounded"]


class Run:
    """A finished training run: the model, its History, the task's metrics and what the plots need.

    step_gradients: (epochs, T), the mean norm of the gradient reaching step t (StepGradientRecorder.matrix).
    path: the ParameterPath of the count task's two weights, or None. data: the datasets (and whatever else the
    task's plots read). extra: more facts for history.json and model.npz (the forecaster's scaling, the run id).
    diverged: the message of a training that diverged, or None. best_epoch: the epoch (0-based) whose weights the
    model holds when it is the best by val_loss (a run with checkpoints), or None.
    """

    def __init__(self, task, preset, settings, model, history, metrics, seconds, step_gradients, path=None,
                 data=None, extra=None, diverged=None, best_epoch=None):
        self.task, self.preset, self.settings = task, preset, settings
        self.diverged, self.best_epoch = diverged, best_epoch
        self.model, self.history, self.metrics, self.seconds = model, history, metrics, seconds
        self.step_gradients = step_gradients
        self.path = path
        self.data = data or {}
        self.extra = extra or {}

    @property
    def target_met(self):
        return self.task.target_met(self.metrics)

    def summary(self):
        """One line: the task's metrics, whether its target is met, and the time taken."""
        try:
            verdict = "target met" if self.target_met else "target NOT met"
        except (TypeError, ValueError):
            verdict = "target NOT met"
        which = "" if self.best_epoch is None else f", best epoch {self.best_epoch + 1}"
        return f"{self.task.name}: {self.task.describe(self.metrics)} ({verdict}: {self.task.target}) " \
               f"in {self.seconds:.1f} s{which}" + (" (training diverged)" if self.diverged else "")

    def record(self):
        """Everything history.json holds: settings, per-epoch metrics, final metrics, gradient norms."""
        record = {"task": self.task.name, "preset": self.preset, "settings": jsonable(self.settings),
                  "epochs": len(self.history.epoch),
                  "history": jsonable(self.history.history), "metrics": jsonable(self.metrics),
                  "target": self.task.target, "target_met": bool(self.target_met),
                  "seconds": round(self.seconds, 3), "best_epoch": None if self.best_epoch is None
                  else self.best_epoch + 1, "diverged": self.diverged,
                  "step_gradient_norms": rounded(self.step_gradients)}
        if self.path is not None:
            record["parameter_path"] = {"names": list(self.path.names), "points": rounded(self.path.points, 10)}
        record.update(jsonable(self.extra))
        return record


def save_run(run, out, plots=True, command=None):
    """Write model.npz (numrnn.load reads it back), history.json and, if `plots`, the task's PNGs; returns the
    paths written. command: the command line that made the run, kept in history.json.

    A run that diverged before any epoch ended leaves no model.npz (there is no model worth keeping); after one,
    the run's model holds the best weights, which model.npz holds already (rewritten, never with worse ones)."""
    extra = {"task": run.task.name, "preset": run.preset, "settings": run.settings, "metrics": run.metrics}
    extra.update(run.extra)
    files = []
    if not run.diverged or run.best_epoch is not None:
        model_path = os.path.join(out, "model.npz")
        run.model.save(model_path, extra=jsonable(extra))
        files.append(model_path)
    record = run.record()
    record["command"] = command
    history_path = os.path.join(out, "history.json")
    write_json(history_path, record)
    files.append(history_path)
    if plots:
        files += run.task.plots(run, out)
    return files


def write_json(path, value):
    """A dict as JSON, one top-level key per line and each value compact (readable, and small for long
    per-epoch lists), written atomically; NaN and infinity become null."""
    items = [f"{json.dumps(key)}: {json.dumps(jsonable(item), allow_nan=False)}" for key, item in value.items()]
    with atomic_write(path, "w") as stream:
        stream.write("{\n" + ",\n".join(items) + "\n}\n")


def rounded(values, digits=4):
    """A float array as nested lists of numbers with `digits` significant digits (for plots, not for arithmetic);
    NaN and infinity become None, which JSON can hold."""
    array = np.asarray(values, dtype=np.float64)
    flat = [float(f"{v:.{digits}g}") if math.isfinite(v) else None for v in array.reshape(-1).tolist()]
    return np.array(flat, dtype=object).reshape(array.shape).tolist()


def jsonable(value):
    """Numpy arrays and scalars -> lists and Python numbers, recursively, for json.dump."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    return value
