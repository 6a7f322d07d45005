"""What every task is: its settings, data, model, metrics and plots; and the fit that every recipe runs.

A task is what the command line needs: `settings(preset)` (every hyperparameter, overridable), `datasets(settings)`
(training, validation and test sets), `build(settings)` (the compiled model), `initialize(model, settings)` (the
tutorial's own initial weights), `metrics(model, settings, data)` (the numbers its target is stated in), with
`describe` and `target_met` to report them, and `plots(run, out)`, the PNGs of a finished run. A subclass adds to
`plots` what only it draws; nothing else asks which task it has.
"""
import os
import time

import numpy as np

from ...callbacks import LearningRateScheduler
from ...layers import RNN, Dense
from ...model import Sequential
from ...optimizers import get_optimizer
from ...schedules import Schedule
from .. import plots
from ..callbacks import BestModel, RunState, StepGradientRecorder

__all__ = ["Task", "PRESETS", "COMMON_SETTINGS", "LR_SCHEDULES", "resolve_settings", "make_optimizer", "fit",
           "Fitted"]

PRESETS = ("default", "tutorial")

#: every setting a recipe has; the command line may override any of these (None = keep the recipe's)
COMMON_SETTINGS = ("hidden", "nonlinearity", "layers", "epochs", "batch_size", "optimizer", "lr", "lr_schedule",
                   "clip_norm", "clip_value", "bptt_truncate", "seed", "train_size", "init")

#: the learning-rate schedules a recipe may use over its epochs
LR_SCHEDULES = ("constant", "cosine")


class Task:
    """What every task shares: the usual RNN + Dense model built from settings, and the common plots."""

    name = ""
    title = ""  # one line: what the task asks, as the command line's help says it
    target = ""
    classification = False
    input_size = None
    output_size = None

    def settings(self, preset="default"):
        if preset not in PRESETS:
            raise ValueError(f"preset must be one of {list(PRESETS)}, got {preset!r}")
        base = {"hidden": 32, "nonlinearity": "tanh", "layers": 1, "bias": True, "epochs": 20, "batch_size": 32,
                "optimizer": "adam", "lr": 0.01, "lr_schedule": "constant", "clip_norm": None, "clip_value": None,
                "bptt_truncate": None, "seed": 0, "loss_reduction": "mean", "init": "torch", "dtype": "float32"}
        base.update(self.preset_settings(preset))
        return base

    def preset_settings(self, preset):
        """The settings in which this task differs from the common ones, for `preset`."""
        raise NotImplementedError

    def datasets(self, settings):
        raise NotImplementedError

    def build(self, settings):
        """RNN(input, hidden, ...) + Dense(hidden, output), compiled with the settings' loss and optimizer."""
        recurrent = RNN(self.input_size, settings["hidden"], num_layers=settings["layers"],
                        nonlinearity=settings["nonlinearity"], bias=settings["bias"],
                        return_sequences=self.classification, bptt_truncate=settings["bptt_truncate"],
                        dtype=settings["dtype"])
        head = Dense(settings["hidden"], self.output_size, bias=settings["bias"], dtype=settings["dtype"])
        return self.compile(Sequential([recurrent, head]), settings)

    def compile(self, model, settings):
        loss = {"name": "cross_entropy" if self.classification else "mse",
                "reduction": settings.get("loss_reduction", "mean")}
        return model.compile(loss=loss, optimizer=make_optimizer(settings["optimizer"], settings["lr"]),
                             clip_norm=settings["clip_norm"], clip_value=settings["clip_value"])

    def initialize(self, model, settings):
        """The tutorial presets start from the tutorial's own initial weights; ours keep torch's."""

    def path_names(self, model):
        """The names of two scalar parameters of model.layers[0] whose path the run records (ParameterPath), or
        () for none."""
        return ()

    def metrics(self, model, settings, data=None):
        raise NotImplementedError

    def target_met(self, metrics):
        raise NotImplementedError

    def describe(self, metrics):
        raise NotImplementedError

    def per_step_curves(self, metrics):
        """{label: accuracy at each time step} for the accuracy plot, or None for a task without one."""
        return None

    def check_model(self, model, source="the model"):
        """A clear error if `model` cannot run this task (wrong input or output size)."""
        first, last = model.layers[0], model.layers[-1]
        got_in = getattr(first, "input_size", getattr(first, "in_features", None))
        got_out = getattr(last, "out_features", getattr(last, "hidden_size", None))
        if got_in != self.input_size or got_out != self.output_size:
            raise ValueError(f"{source} takes {got_in} input features and gives {got_out} outputs, but task "
                             f"{self.name} needs {self.input_size} and {self.output_size}")

    def label(self, run):
        """How the plots' titles name the run."""
        return f"{self.name}, {run.preset} recipe"

    def plots(self, run, out):
        """The PNGs of a finished run, written to the folder `out`; returns their paths. Here the loss curves,
        the gradient heatmap and, where the task has them, the accuracy per step; subclasses add their own."""
        label, settings = self.label(run), run.settings
        files = [plots.loss_curves(run.history, os.path.join(out, "loss.png"), title=f"Loss per epoch ({label})")]
        truncation = settings.get("bptt_truncate")
        how = f"{settings['nonlinearity']} units, " + ("full BPTT" if truncation is None
                                                       else f"BPTT truncated at {truncation} steps")
        if run.step_gradients.size:
            files.append(plots.gradient_heatmap(run.step_gradients, os.path.join(out, "gradient_heatmap.png"),
                                                title=f"Gradient reaching each time step ({label}; {how})"))
        curves = self.per_step_curves(run.metrics)
        if curves:
            files.append(plots.accuracy_per_step(curves, os.path.join(out, "accuracy_per_step.png"),
                                                 title=f"Accuracy at each time step ({label})"))
        return files


def make_optimizer(name, lr):
    if name == "rprop":
        # step floor 0: the steps may keep shrinking as far as the exact minimum needs (numrnn's default is 1e-6)
        return get_optimizer("rprop", lr=lr, etas=(0.5, 1.2), step_sizes=(0.0, 50.0))
    return get_optimizer(name, lr=lr)


def resolve_settings(task, preset="default", overrides=None):
    """The recipe's settings with every override that is not None applied, checked."""
    settings = task.settings(preset)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in settings and key not in COMMON_SETTINGS:
            raise ValueError(f"task {task.name} has no setting {key!r}")
        settings[key] = value
    if settings.get("bptt_truncate") == 0:
        settings["bptt_truncate"] = None  # 0 on the command line: full BPTT
    if settings.get("lr_schedule") not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {settings.get('lr_schedule')!r}")
    for key in ("hidden", "layers", "epochs", "batch_size", "train_size"):
        if key in settings and (not isinstance(settings[key], int) or settings[key] < 1):
            raise ValueError(f"{key.replace('_', '-')} must be a positive integer, got {settings[key]!r}")
    return settings


class Fitted:
    """What fit gives back: the History, the seconds it took, the (epochs, T) gradient norms, the divergence's
    message (None if training did not diverge) and the best epoch by val_loss (0-based; None without one)."""

    def __init__(self, history, seconds, step_gradients, diverged=None, best_epoch=None):
        self.history, self.seconds, self.step_gradients = history, seconds, step_gradients
        self.diverged, self.best_epoch = diverged, best_epoch


#: how fingerprint entries that are not options are named when a resumed run differs
FINGERPRINT_NAMES = {"data": "the training and validation data", "task": "the task"}


def fit(model, settings, train_set, validation_set, callbacks=(), recorders=(), checkpoints=None, run=None,
        extra=None):
    """model.fit as every recipe runs it: the settings' epochs, batch size, seed and learning-rate schedule, the
    gradient per time step recorded. Returns a Fitted.

    recorders: the task's own callbacks (before `callbacks`, the caller's: a progress bar).
    checkpoints: a numrnn.apps.durable.Checkpoints: DIR/model.npz is the best model by val_loss (written when it
    improves) and DIR/last.npz the fit's state; with checkpoints.resume the fit continues from last.npz (refused if
    run["fingerprint"] differs from the one it holds); the model ends with the best weights. run: {"id",
    "fingerprint"} kept in last.npz; extra: what model.npz and last.npz keep beside (the task and its settings).
    A step whose loss or gradient is not finite ends training (Fitted.diverged says where); the weights are those
    from before it, or the best ones with checkpoints.
    """
    recorder = StepGradientRecorder(model.layers[0])
    own = [recorder, *recorders]
    if settings["lr_schedule"] == "cosine":
        own.insert(0, LearningRateScheduler(Schedule("cosine")))
    extra = dict(extra or {})
    best = BestModel(checkpoints, dict(extra, run={"id": (run or {}).get("id")}))
    state = None if checkpoints is None else checkpoints.read(model, (run or {}).get("fingerprint"),
                                                              FINGERPRINT_NAMES)
    run_state = RunState(checkpoints, state, extra=dict(extra, run=run),
                         source=None if checkpoints is None else checkpoints.path)
    start = time.perf_counter()
    diverged = None
    try:  # the guard reports a diverging step; NumPy's own overflow warnings on the way would only be noise
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            model.fit(*train_set, epochs=settings["epochs"], batch_size=settings["batch_size"],
                      validation_data=validation_set, seed=settings["seed"],
                      callbacks=own + [best] + list(callbacks) + [run_state])
    except FloatingPointError as error:
        diverged = str(error)
    if checkpoints is not None and best.best_weights is not None:
        model.load_state_dict(best.best_weights)
    return Fitted(run_state.loop.history, time.perf_counter() - start, recorder.matrix, diverged,
                  best.best_epoch if checkpoints is not None else None)


def accuracy_per_step(model, X, y):
    """The fraction of sequences whose class is right, at each time step."""
    predicted = model.predict(X).argmax(axis=-1)
    return (predicted == y).mean(axis=0)


def rmse(predicted, actual):
    diff = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(diff ** 2)))
