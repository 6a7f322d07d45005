"""Recipes: the data, model, training and metrics of each tutorial task, in our settings and in the tutorial's.

    run = recipes.train("sine")                          # our default recipe; preset="tutorial" for the tutorial's
    run.metrics["test_rmse"], run.model, run.history     # what it reached, the trained Sequential, numrnn's History
    run.step_gradients                                   # (epochs, T): mean norm of the gradient reaching step t

A task is the four things the command line needs: `settings(preset)` (every hyperparameter, overridable),
`datasets(settings)` (training, validation and test sets), `build(settings)` (the compiled model) and
`metrics(model, settings)` (the numbers its target is stated in). `train` joins them with three callbacks:
a learning-rate schedule, the recorder of per-step gradient norms and, for count, the path of (w_x, w_rec).

The CSV forecaster (`train_csv`, `forecast`) and the gradient check (`check_gradients`) live here too, so the
command line only parses, calls and prints.
"""
import json
import math
import os
import tempfile
import time

import numpy as np

from .threads import blas_threads
from . import data as datasets
from .gradient_check import gradcheck, numerical_gradient, relative_error
from .layers import RNN, Dense
from .model import Sequential
from .optimizers import get_optimizer
from .random import get_rng
from .random import seed as seed_numrnn

__all__ = ["TASKS", "Run", "get_task", "train", "evaluate", "save_run", "write_plots", "train_csv", "forecast",
           "check_gradients", "StepGradientRecorder", "ParameterPath", "CosineSchedule"]

PRESETS = ("default", "tutorial")

# every setting a recipe has; the command line may override any of these (None = keep the recipe's)
COMMON_SETTINGS = ("hidden", "nonlinearity", "layers", "epochs", "batch_size", "optimizer", "lr", "lr_schedule",
                   "clip_norm", "clip_value", "bptt_truncate", "seed", "train_size", "init")


# -- callbacks -------------------------------------------------------------------------------------------------------

class StepGradientRecorder:
    """For each epoch, the mean over its batches of `layer.step_gradient_norms`: the norm of dL/dz_t, the
    gradient reaching the pre-activations of step t of the first recurrent layer. `rows` is (epochs, T)."""

    def __init__(self, layer):
        layer.record_step_gradients = True
        self.layer = layer
        self.rows = []
        self._sum, self._count = None, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._sum, self._count = None, 0

    def on_batch_end(self, batch, logs):
        norms = self.layer.step_gradient_norms
        if norms is None:
            return
        if self._sum is None or self._sum.shape != norms.shape:
            self._sum, self._count = np.zeros(norms.shape), 0
        self._sum += norms
        self._count += 1

    def on_epoch_end(self, epoch, logs):
        if self._count:
            self.rows.append(self._sum / self._count)

    @property
    def matrix(self):
        return np.array(self.rows) if self.rows else np.zeros((0, 0))


class ParameterPath:
    """The values of two scalar parameters after every batch (and before the first): an optimizer's path."""

    def __init__(self, params, names):
        self.params, self.names = params, names
        self.points = [self._point()]

    def _point(self):
        return tuple(float(self.params[name].reshape(-1)[0]) for name in self.names)

    def on_batch_end(self, batch, logs):
        self.points.append(self._point())


class CosineSchedule:
    """lr for epoch e of E: lr0 (1 + cos(pi e / E)) / 2, from lr0 down towards 0 (SGDR without restarts)."""

    def __init__(self, optimizer, epochs):
        self.optimizer, self.epochs, self.lr0 = optimizer, epochs, optimizer.lr

    def on_epoch_begin(self, epoch, logs=None):
        self.optimizer.lr = self.lr0 * 0.5 * (1.0 + math.cos(math.pi * epoch / self.epochs))


# -- what a training run returns -------------------------------------------------------------------------------------

class Run:
    """A finished training run: the model, its History, the task's metrics and what the plots need."""

    def __init__(self, task, preset, settings, model, history, metrics, seconds, step_gradients, path=None,
                 data=None, extra=None):
        self.task, self.preset, self.settings = task, preset, settings
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
        verdict = "target met" if self.target_met else "target NOT met"
        return f"{self.task.name}: {self.task.describe(self.metrics)} ({verdict}: {self.task.target}) " \
               f"in {self.seconds:.1f} s"

    def record(self):
        """Everything history.json holds: settings, per-epoch metrics, final metrics, gradient norms."""
        record = {"task": self.task.name, "preset": self.preset, "settings": jsonable(self.settings),
                  "epochs": len(self.history.epoch),
                  "history": jsonable(self.history.history), "metrics": jsonable(self.metrics),
                  "target": self.task.target, "target_met": bool(self.target_met),
                  "seconds": round(self.seconds, 3),
                  "step_gradient_norms": _rounded(self.step_gradients)}
        if self.path is not None:
            record["parameter_path"] = {"names": list(self.path.names), "points": _rounded(self.path.points, 10)}
        record.update(jsonable(self.extra))
        return record


# -- the tasks -------------------------------------------------------------------------------------------------------

class Task:
    """What every task shares: building the usual RNN + Dense model from settings, and training it."""

    name = ""
    title = ""
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
        base.update(self._settings(preset))
        return base

    def _settings(self, preset):
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
        return self._compile(Sequential([recurrent, head]), settings)

    def _compile(self, model, settings):
        loss = {"name": "cross_entropy" if self.classification else "mse", "reduction": settings["loss_reduction"]}
        return model.compile(loss=loss, optimizer=make_optimizer(settings["optimizer"], settings["lr"]),
                             clip_norm=settings["clip_norm"], clip_value=settings["clip_value"])

    def initialize(self, model, settings):
        """The tutorial presets start from the tutorial's own initial weights; ours keep torch's."""

    def metrics(self, model, settings, data=None):
        raise NotImplementedError

    def target_met(self, metrics):
        raise NotImplementedError

    def describe(self, metrics):
        raise NotImplementedError

    def check_model(self, model, source="the model"):
        """A clear error if `model` cannot run this task (wrong input or output size)."""
        first, last = model.layers[0], model.layers[-1]
        got_in = getattr(first, "input_size", getattr(first, "in_features", None))
        got_out = getattr(last, "out_features", getattr(last, "hidden_size", None))
        if got_in != self.input_size or got_out != self.output_size:
            raise ValueError(f"{source} takes {got_in} input features and gives {got_out} outputs, but task "
                             f"{self.name} needs {self.input_size} and {self.output_size}")


class CountTask(Task):
    name = "count"
    title = "count the ones (tutorial 003)"
    target = "|prediction - count| < 0.01 at lengths 10, 100 and 1000"
    input_size, output_size = 1, 1
    test_lengths = (10, 100, 1000)

    def _settings(self, preset):
        # A 1-unit linear RNN without bias: s_t = w_x x_t + w_rec s_{t-1}; the count is w_x = w_rec = 1. At length
        # 1000 an error of 0.01 allows |w_rec - 1| of about 1e-7, below float32's spacing near 1: float64.
        # Rprop's step floor is 0 so it keeps halving its steps towards the exact minimum.
        if preset == "tutorial":
            return {"hidden": 1, "nonlinearity": "linear", "bias": False, "epochs": 500, "batch_size": 20,
                    "train_size": 20, "steps": 10, "optimizer": "rprop", "lr": 0.001, "init": "tutorial",
                    "initial_weights": [-1.5, 2.0], "dtype": "float64"}
        return {"hidden": 1, "nonlinearity": "linear", "bias": False, "epochs": 3000, "batch_size": 100,
                "train_size": 100, "steps": 10, "optimizer": "rprop", "lr": 0.001, "dtype": "float64"}

    def datasets(self, settings):
        seed, dtype = settings["seed"], settings["dtype"]
        train = datasets.count_ones(settings["train_size"], settings["steps"], seed=seed, dtype=dtype)
        validation = datasets.count_ones(100, settings["steps"], seed=seed + 1, dtype=dtype)
        return {"train": train, "validation": validation}

    def build(self, settings):
        recurrent = RNN(1, settings["hidden"], num_layers=settings["layers"], nonlinearity=settings["nonlinearity"],
                        bias=settings["bias"], return_sequences=False, bptt_truncate=settings["bptt_truncate"],
                        dtype=settings["dtype"])
        layers = [recurrent]
        if settings["hidden"] != 1 or settings["layers"] != 1:
            layers.append(Dense(settings["hidden"], 1, bias=settings["bias"], dtype=settings["dtype"]))
        return self._compile(Sequential(layers), settings)

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial" and _is_scalar_rnn(model):
            w_x, w_rec = settings.get("initial_weights", (-1.5, 2.0))
            model.layers[0].params["weight_ih_l0"][...] = w_x
            model.layers[0].params["weight_hh_l0"][...] = w_rec

    def metrics(self, model, settings, data=None):
        metrics = {}
        dtype = model.dtype
        for length in self.test_lengths:
            X, y = datasets.count_ones(100, length, seed=settings["seed"] + 2, dtype=dtype)
            error = np.abs(model.predict(X, batch_size=100) - y)
            metrics[f"max_error_T{length}"] = float(error.max())
        if _is_scalar_rnn(model):
            metrics["w_x"] = float(model.layers[0].params["weight_ih_l0"][0, 0])
            metrics["w_rec"] = float(model.layers[0].params["weight_hh_l0"][0, 0])
        return metrics

    def target_met(self, metrics):
        return all(metrics[f"max_error_T{n}"] < 0.01 for n in self.test_lengths)

    def describe(self, metrics):
        text = ", ".join(f"max |error| {metrics[f'max_error_T{n}']:.2g} at T={n}" for n in self.test_lengths)
        if "w_x" in metrics:
            text += f"; w_x = {metrics['w_x']:.10g}, w_rec = {metrics['w_rec']:.10g}"
        return text

    def loss_surface(self, X, y, path_points, size=121):
        """The mean squared error over a grid of (w_x, w_rec) around the path and the minimum (1, 1).

        For the scalar linear RNN the prediction is w_x sum_t x_t w_rec^(T-1-t), so the grid needs no model.
        """
        points = np.array(path_points)
        low = np.minimum(points.min(axis=0), 1.0)
        high = np.maximum(points.max(axis=0), 1.0)
        span = np.maximum(high - low, 0.5)
        w_x = np.linspace(low[0] - 0.15 * span[0], high[0] + 0.15 * span[0], size)
        w_rec = np.linspace(low[1] - 0.15 * span[1], high[1] + 0.15 * span[1], size)
        inputs = np.asarray(X, dtype=np.float64)[:, :, 0]
        steps = inputs.shape[1]
        powers = w_rec[:, None] ** np.arange(steps - 1, -1, -1)[None, :]  # (grid, T)
        weighted = inputs @ powers.T  # (n, grid over w_rec)
        targets = np.asarray(y, dtype=np.float64)[:, 0]
        predictions = w_x[None, :, None] * weighted[:, None, :]  # (n, w_x, w_rec)
        loss = np.mean((predictions - targets[:, None, None]) ** 2, axis=0)
        return w_x, w_rec, loss.T  # loss[i, j] at (w_x[j], w_rec[i])


class Mod3Task(Task):
    name = "mod3"
    title = "next symbol mod 3 (tutorial 001)"
    target = "100% accuracy on new sequences of length T and 5T"
    classification = True
    input_size, output_size = 3, 3

    def _settings(self, preset):
        if preset == "tutorial":
            # 10 sequences of length 10, hidden 10, tanh, full BPTT, summed loss, SGD lr 1e-4, one sequence per
            # update, standard-normal initial weights; the tutorial never finished its training loop, so the
            # number of epochs is ours
            return {"hidden": 10, "epochs": 100, "batch_size": 1, "train_size": 10, "steps": 10, "optimizer": "sgd",
                    "lr": 1e-4, "loss_reduction": "sum", "init": "tutorial", "dtype": "float64"}
        return {"hidden": 16, "epochs": 20, "batch_size": 32, "train_size": 500, "steps": 10, "lr": 0.01}

    def datasets(self, settings):
        seed, steps, dtype = settings["seed"], settings["steps"], settings["dtype"]
        return {"train": datasets.mod3(settings["train_size"], steps, seed=seed, dtype=dtype),
                "validation": datasets.mod3(200, steps, seed=seed + 1, dtype=dtype)}

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial":
            _normal_init(model)

    def metrics(self, model, settings, data=None):
        steps = settings["steps"]
        metrics = {}
        for label, length in (("T", steps), ("5T", 5 * steps)):
            X, y = datasets.mod3(1000, length, seed=settings["seed"] + 2, dtype=model.dtype)
            per_step = _accuracy_per_step(model, X, y)
            metrics[f"accuracy_{label}"] = float(per_step.mean())
            metrics[f"accuracy_per_step_{label}"] = per_step.tolist()
        metrics["length_T"] = steps
        return metrics

    def target_met(self, metrics):
        return metrics["accuracy_T"] == 1.0 and metrics["accuracy_5T"] == 1.0

    def describe(self, metrics):
        return (f"accuracy {100 * metrics['accuracy_T']:.2f}% at T={metrics['length_T']}, "
                f"{100 * metrics['accuracy_5T']:.2f}% at 5T={5 * metrics['length_T']}")

    def per_step_curves(self, metrics):
        steps = metrics["length_T"]
        return {f"new sequences, T = {steps}": metrics["accuracy_per_step_T"],
                f"5x longer, T = {5 * steps}": metrics["accuracy_per_step_5T"]}


class SineTask(Task):
    name = "sine"
    title = "next value of sin(x) (tutorial 002)"
    target = "RMSE < 0.002 on windows from x >= 1000"
    input_size, output_size = 1, 1
    test_start, test_windows = 1000, 200

    def _settings(self, preset):
        if preset == "tutorial":
            # hidden 100, sigmoid, no biases, truncated BPTT (5 steps), gradients clipped to [-10, 10], SGD lr 1e-4,
            # one window per update, 25 epochs, 100 training and 50 validation windows, weights ~ U(0, 1)
            return {"hidden": 100, "nonlinearity": "sigmoid", "bias": False, "epochs": 25, "batch_size": 1,
                    "train_size": 100, "validation_size": 50, "optimizer": "sgd", "lr": 1e-4, "clip_value": 10.0,
                    "bptt_truncate": 5, "init": "tutorial", "dtype": "float64"}
        return {"hidden": 32, "epochs": 150, "batch_size": 16, "train_size": 500, "validation_size": 100,
                "lr": 0.01, "lr_schedule": "cosine"}

    def datasets(self, settings):
        size = settings["train_size"]
        return {"train": datasets.sine(size, start=0, dtype=settings["dtype"]),
                "validation": datasets.sine(settings["validation_size"], start=size, dtype=settings["dtype"]),
                "test": self.test_set(settings["dtype"])}

    def test_set(self, dtype="float32"):
        return datasets.sine(self.test_windows, start=self.test_start, dtype=dtype)

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial":
            rng = get_rng()
            for layer in model.layers:
                for value in layer.params.values():
                    value[...] = rng.uniform(0.0, 1.0, value.shape)

    def metrics(self, model, settings, data=None):
        data = data or self.datasets(settings)
        metrics = {}
        for name in ("train", "validation", "test"):
            X, y = data[name]
            metrics[f"{name}_rmse"] = _rmse(model.predict(X), y)
        return metrics

    def target_met(self, metrics):
        return metrics["test_rmse"] < 0.002

    def describe(self, metrics):
        return (f"RMSE {metrics['test_rmse']:.3g} on windows from x >= {self.test_start} "
                f"(training {metrics['train_rmse']:.3g}, validation {metrics['validation_rmse']:.3g})")


class MultSeriesTask(Task):
    name = "mult-series"
    title = "multiplication series s, 2s, ..., 10s (tutorial 000)"
    target = "100% accuracy at every step, end marker included"
    classification = True
    input_size = output_size = datasets.MULT_SERIES_CLASSES

    def _settings(self, preset):
        # 3000 series split 60/40 as in the tutorial; only 5 distinct series exist, so the test split holds the
        # same 5 series as the training split
        if preset == "tutorial":
            # hidden 10, sigmoid, no biases, truncated BPTT (5 steps), Adam lr 1e-3, 300 epochs, batch 512
            return {"hidden": 10, "nonlinearity": "sigmoid", "bias": False, "epochs": 300, "batch_size": 512,
                    "train_size": 3000, "optimizer": "adam", "lr": 1e-3, "bptt_truncate": 5, "init": "tutorial",
                    "dtype": "float64"}
        return {"hidden": 32, "epochs": 30, "batch_size": 64, "train_size": 3000, "lr": 0.01}

    def datasets(self, settings):
        X, y = datasets.mult_series(settings["train_size"], seed=settings["seed"], dtype=settings["dtype"])
        split = int(round(0.6 * len(X)))
        return {"train": (X[:split], y[:split]), "validation": (X[split:], y[split:])}

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial":
            # the tutorial's W_xh ~ U(-1/sqrt(61), 1/sqrt(61)); its W_hh and W_ho match torch's U(-1/sqrt(H), ...)
            weight = model.layers[0].params["weight_ih_l0"]
            bound = 1.0 / math.sqrt(self.input_size)
            weight[...] = get_rng().uniform(-bound, bound, weight.shape)

    def metrics(self, model, settings, data=None):
        data = data or self.datasets(settings)
        X, y = data["validation"]
        per_step = _accuracy_per_step(model, X, y)
        every = (model.predict(X).argmax(axis=-1) == y).all(axis=1)
        return {"accuracy": float(per_step.mean()), "accuracy_per_step": per_step.tolist(),
                "min_step_accuracy": float(per_step.min()), "end_marker_accuracy": float(per_step[-1]),
                "sequences_all_right": float(every.mean()),
                "distinct_series_in_test": int(len({tuple(row) for row in X.argmax(axis=-1)}))}

    def target_met(self, metrics):
        return metrics["min_step_accuracy"] == 1.0

    def describe(self, metrics):
        return (f"accuracy {100 * metrics['accuracy']:.2f}%, lowest step {100 * metrics['min_step_accuracy']:.2f}%, "
                f"end marker {100 * metrics['end_marker_accuracy']:.2f}%")

    def per_step_curves(self, metrics):
        return {"test split": metrics["accuracy_per_step"]}


TASKS = {task.name: task for task in (CountTask(), Mod3Task(), SineTask(), MultSeriesTask())}


def get_task(name):
    if isinstance(name, Task):
        return name
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; tasks: {', '.join(TASKS)}")
    return TASKS[name]


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
    if settings.get("lr_schedule") not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {settings.get('lr_schedule')!r}")
    for key in ("hidden", "layers", "epochs", "batch_size", "train_size"):
        if key in settings and (not isinstance(settings[key], int) or settings[key] < 1):
            raise ValueError(f"{key.replace('_', '-')} must be a positive integer, got {settings[key]!r}")
    return settings


def train(task, preset="default", overrides=None, callbacks=()):
    """Train `task` ("count", "mod3", "sine", "mult-series") with its recipe; returns a Run.

    overrides: settings to change (None values are ignored), e.g. {"hidden": 64, "epochs": 10}.
    callbacks: more fit callbacks (a progress bar).
    """
    task = get_task(task)
    settings = resolve_settings(task, preset, overrides)
    seed_numrnn(settings["seed"])
    data = task.datasets(settings)
    model = task.build(settings)
    task.initialize(model, settings)
    recorder = StepGradientRecorder(model.layers[0])
    extra_callbacks = [recorder]
    path = None
    if isinstance(task, CountTask) and _is_scalar_rnn(model):
        path = ParameterPath(model.layers[0].params, ("weight_ih_l0", "weight_hh_l0"))
        extra_callbacks.append(path)
    if settings["lr_schedule"] == "cosine":
        extra_callbacks.insert(0, CosineSchedule(model.optimizer, settings["epochs"]))
    X, y = data["train"]
    _announce(callbacks, settings["epochs"], len(X), settings["batch_size"])
    with one_blas_thread():
        start = time.perf_counter()
        history = model.fit(X, y, epochs=settings["epochs"], batch_size=settings["batch_size"],
                            validation_data=data["validation"], seed=settings["seed"],
                            callbacks=extra_callbacks + list(callbacks))
        seconds = time.perf_counter() - start
        metrics = task.metrics(model, settings, data)
    return Run(task, preset, settings, model, history, metrics, seconds, recorder.matrix, path=path, data=data)


def evaluate(model, task, settings=None, seed=None):
    """The task's metrics for a trained model on freshly generated test data (seed: which data; default the one
    the model was trained with)."""
    task = get_task(task)
    task.check_model(model)
    base = task.settings("default")
    base.update(settings or {})
    if seed is not None:
        base["seed"] = seed
    base["dtype"] = np.dtype(model.dtype).name
    return task.metrics(model, base)


# -- writing a run to a folder ---------------------------------------------------------------------------------------

def save_run(run, out, plots=True, command=None):
    """Write model.npz (numrnn.load reads it back), history.json and, if `plots`, the PNGs; returns the paths."""
    extra = {"task": run.task.name, "preset": run.preset, "settings": run.settings, "metrics": run.metrics}
    extra.update(run.extra)
    model_path = os.path.join(out, "model.npz")
    run.model.save(model_path, extra=jsonable(extra))
    record = run.record()
    record["command"] = command
    history_path = os.path.join(out, "history.json")
    write_json(history_path, record)
    files = [model_path, history_path]
    if plots:
        files += write_plots(run, out)
    return files


def write_json(path, value):
    """json.dump to a temporary file beside `path`, renamed over it when complete."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".numrnn-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w") as stream:
            # one top-level key per line, each value compact: readable, and small for long per-epoch lists
            items = [f"{json.dumps(key)}: {json.dumps(item)}" for key, item in value.items()]
            stream.write("{\n" + ",\n".join(items) + "\n}\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_plots(run, out):
    """The PNGs of a run: loss curves and gradient heatmap always; then the task's own."""
    from . import plots

    name, settings = run.task.name, run.settings
    label = f"{name}, {run.preset} recipe" if name != "csv" else f"column {settings['column']!r}"
    files = [plots.loss_curves(run.history, os.path.join(out, "loss.png"), title=f"Loss per epoch ({label})")]
    truncation = settings.get("bptt_truncate")
    how = f"{settings['nonlinearity']} units, " + ("full BPTT" if truncation is None else f"BPTT truncated at "
                                                                                          f"{truncation} steps")
    if run.step_gradients.size:
        files.append(plots.gradient_heatmap(run.step_gradients, os.path.join(out, "gradient_heatmap.png"),
                                            title=f"Gradient reaching each time step ({label}; {how})"))
    if isinstance(run.task, CountTask) and run.path is not None:
        X, y = run.data["train"]
        w_x, w_rec, loss = run.task.loss_surface(X, y, run.path.points)
        files.append(plots.loss_surface(w_x, w_rec, loss, run.path.points, os.path.join(out, "loss_surface.png"),
                                        title=f"Loss over (w_x, w_rec) and the {settings['optimizer']} path "
                                              f"({run.preset} recipe)"))
    if isinstance(run.task, SineTask):
        panels = {}
        for split, title in (("train", "training windows"), ("validation", "validation windows"),
                             ("test", f"unseen stretch, x >= {run.task.test_start}")):
            X, y = run.data[split]
            X, y = X[:100], y[:100]
            start = {"train": 0, "validation": settings["train_size"], "test": run.task.test_start}[split]
            panels[title] = (start + X.shape[1] + np.arange(len(y)), y, run.model.predict(X))
        files.append(plots.predictions(panels, os.path.join(out, "predictions.png"),
                                       title=f"sin(x): next value predicted from 50 ({run.preset} recipe)"))
    if run.task.classification:
        files.append(plots.accuracy_per_step(run.task.per_step_curves(run.metrics),
                                             os.path.join(out, "accuracy_per_step.png"),
                                             title=f"Accuracy at each time step ({label})"))
    if name == "csv":
        n_train, window = run.data["n_train"], settings["window"]
        actual, predicted = run.data["actual"], run.data["predictions"]
        panels = {"training part": (window + np.arange(len(actual["train"])), actual["train"], predicted["train"]),
                  "validation part (last 20%)": (n_train + np.arange(len(actual["validation"])),
                                                 actual["validation"], predicted["validation"])}
        files.append(plots.predictions(panels, os.path.join(out, "predictions.png"),
                                       title=f"One step ahead: column {settings['column']!r}, window {window}",
                                       xlabel="row of the predicted value"))
    return files


# -- forecasting a column of a CSV file ------------------------------------------------------------------------------

CSV_DEFAULTS = {"hidden": 32, "nonlinearity": "tanh", "layers": 1, "bias": True, "epochs": None, "batch_size": 32,
                "optimizer": "adam", "lr": 0.005, "lr_schedule": "cosine", "clip_norm": 1.0, "clip_value": None,
                "bptt_truncate": None, "seed": 0, "validation_fraction": 0.2, "dtype": "float32"}


def split_series(series, window, validation_fraction=0.2):
    """Chronological split: the last `validation_fraction` of the values are validation targets.

    Returns (train_values, number_of_validation_targets); raises a clear ValueError if there are too few rows.
    """
    count = len(series)
    n_val = max(1, int(round(validation_fraction * count)))
    n_train = count - n_val
    needed = window + 1 + n_val
    if n_train < window + 1:
        minimum = int(math.ceil((window + 2) / (1 - validation_fraction)))
        raise ValueError(f"too few rows for a window of {window}: the column has {count} values, and training "
                         f"needs more than {window} of them before the last {int(100 * validation_fraction)}% "
                         f"kept for validation (at least {max(minimum, needed)} rows)")
    return n_train, n_val


def train_csv(path, column, window, overrides=None, callbacks=()):
    """A many-to-one forecaster of one numeric CSV column: RNN(1, H) + Dense(H, 1), MSE, on scaled values.

    The values are scaled by the mean and standard deviation of the training part (the first 80%); validation
    windows predict the last 20%. Returns a Run; run.model.extra["forecaster"] holds the scaling, the window and
    the column, which save_run writes into model.npz and forecast() reads.
    """
    series = datasets.read_column(path, column)
    window = int(window)
    if window < 1:
        raise ValueError(f"window must be a positive integer, got {window}")
    settings = dict(CSV_DEFAULTS)
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    if settings.get("bptt_truncate") == 0:
        settings["bptt_truncate"] = None
    n_train, n_val = split_series(series, window, settings["validation_fraction"])
    mean = float(series[:n_train].mean())
    std = float(series[:n_train].std())
    if not std > 0:
        std = 1.0  # a constant column: nothing to scale
    scaled = (series - mean) / std
    X_all, y_all = datasets.windows(scaled, window)  # target of row i is value i + window
    split = n_train - window  # rows whose target lies in the training part
    train_set = (X_all[:split], y_all[:split])
    validation_set = (X_all[split:], y_all[split:])
    if settings["epochs"] is None:
        batches = math.ceil(split / settings["batch_size"])
        settings["epochs"] = int(min(100, max(5, round(3000 / batches))))
    settings.update(window=window, column=str(column), data=str(path), train_rows=int(n_train),
                    validation_rows=int(n_val))
    seed_numrnn(settings["seed"])
    recurrent = RNN(1, settings["hidden"], num_layers=settings["layers"], nonlinearity=settings["nonlinearity"],
                    bias=settings["bias"], return_sequences=False, bptt_truncate=settings["bptt_truncate"],
                    dtype=settings["dtype"])
    model = Sequential([recurrent, Dense(settings["hidden"], 1, bias=settings["bias"], dtype=settings["dtype"])])
    model.compile(loss="mse", optimizer=make_optimizer(settings["optimizer"], settings["lr"]),
                  clip_norm=settings["clip_norm"], clip_value=settings["clip_value"])
    recorder = StepGradientRecorder(recurrent)
    schedule = [CosineSchedule(model.optimizer, settings["epochs"])] if settings["lr_schedule"] == "cosine" else []
    _announce(callbacks, settings["epochs"], len(train_set[0]), settings["batch_size"])
    with one_blas_thread():
        start = time.perf_counter()
        history = model.fit(*train_set, epochs=settings["epochs"], batch_size=settings["batch_size"],
                            validation_data=validation_set, seed=settings["seed"],
                            callbacks=schedule + [recorder] + list(callbacks))
        seconds = time.perf_counter() - start
    unscale = lambda values: np.asarray(values, dtype=np.float64) * std + mean  # noqa: E731
    predictions = {name: unscale(model.predict(X)) for name, (X, _) in
                   (("train", train_set), ("validation", validation_set))}
    actual = {"train": unscale(train_set[1]), "validation": unscale(validation_set[1])}
    naive = series[n_train - 1:-1]  # "tomorrow = today" on the validation targets
    metrics = {"validation_rmse": _rmse(predictions["validation"], actual["validation"]),
               "train_rmse": _rmse(predictions["train"], actual["train"]),
               "naive_validation_rmse": _rmse(naive[:, None], actual["validation"])}
    forecaster = {"window": window, "column": str(column), "mean": mean, "std": std, "rows": int(len(series))}
    model.extra = {"forecaster": forecaster}  # as numrnn.load gives it back: forecast() works before saving too
    run = Run(CSV_TASK, "default", settings, model, history, metrics, seconds, recorder.matrix,
              data={"series": series, "n_train": n_train, "predictions": predictions, "actual": actual},
              extra={"forecaster": forecaster})
    return run


class CsvTask(Task):
    """The CSV forecaster as a task, for Run's summary line."""

    name = "csv"
    target = "validation RMSE below the naive forecast (next = last)"

    def target_met(self, metrics):
        return metrics["validation_rmse"] < metrics["naive_validation_rmse"]

    def describe(self, metrics):
        return (f"validation RMSE {metrics['validation_rmse']:.4g} (naive next = last: "
                f"{metrics['naive_validation_rmse']:.4g}; training {metrics['train_rmse']:.4g})")


CSV_TASK = CsvTask()


def forecast(model, series, steps):
    """Predict `steps` values after the end of `series`, feeding each prediction back as the newest input.

    The model must come from train_csv (its model.extra["forecaster"] holds the window and the scaling).
    Returns float64 (steps,) in the series' units.
    """
    info = forecaster_info(model)
    window, mean, std = info["window"], info["mean"], info["std"]
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    series = np.asarray(series, dtype=np.float64).reshape(-1)
    if series.size < window:
        raise ValueError(f"forecasting needs the last {window} values (the model's window), the column has "
                         f"{series.size}")
    context = list((series[-window:] - mean) / std)
    out = []
    for _ in range(int(steps)):
        x = np.array(context[-window:], dtype=np.float64)[None, :, None]
        value = float(model.predict(x)[0, 0])
        out.append(value)
        context.append(value)
    return np.array(out) * std + mean


def forecaster_info(model):
    info = (getattr(model, "extra", None) or {}).get("forecaster")
    if not info:
        raise ValueError("this model is not a forecaster: train one with `numrnn train csv --data FILE "
                         "--column NAME --window N --out DIR`")
    return info


# -- gradient check of a small model ---------------------------------------------------------------------------------

def check_gradients(cell="rnn", nonlinearity=None, layers=1, hidden=4, input_size=3, steps=6, batch=2,
                    bptt_truncate=None, bidirectional=False, bias=True, return_sequences=True, seed=0):
    """Relative errors {tensor: error} between the hand-written gradients of a small float64 layer and central
    differences; see numrnn.gradcheck.

    With bptt_truncate=k the layer's gradient is, by design, not the derivative of its output: each output's
    gradient stops k steps back. It is then compared with a brute-force truncated gradient: for every output step
    t, the central-difference gradient of <R_t, h_t> computed from step t - k on, with h_{t-k-1} held constant,
    summed over t. That needs a single-layer, one-direction RNN.
    """
    rng = np.random.default_rng(seed)
    seed_numrnn(seed)
    if cell == "rnn":
        layer = RNN(input_size, hidden, num_layers=layers, nonlinearity=nonlinearity or "tanh", bias=bias,
                    bidirectional=bidirectional, return_sequences=return_sequences, bptt_truncate=bptt_truncate,
                    dtype="float64")
    else:
        from . import layers as layer_module
        cls = getattr(layer_module, cell.upper(), None)
        if cls is None:
            raise ValueError(f"cell must be one of {available_cells()}, got {cell!r}")
        if nonlinearity is not None or bptt_truncate is not None:
            raise ValueError(f"{cell.upper()} has no nonlinearity or truncation options; leave out --nonlinearity "
                             f"and --bptt-truncate")
        layer = cls(input_size, hidden, num_layers=layers, bias=bias, bidirectional=bidirectional,
                    return_sequences=return_sequences, dtype="float64")
    x = rng.standard_normal((batch, steps, input_size))
    if bptt_truncate is None:
        return gradcheck(layer, x, seed=seed)
    if layers != 1 or bidirectional:
        raise ValueError("--bptt-truncate is checked on a single-layer, one-direction RNN only (--layers 1, no "
                         "--bidirectional): the brute-force reference truncates one recurrence")
    return _truncated_check(layer, x, rng, return_sequences)


def available_cells():
    from . import layers as layer_module
    return ["rnn"] + [name.lower() for name in ("LSTM", "GRU") if hasattr(layer_module, name)]


def _truncated_check(layer, x, rng, return_sequences):
    batch, steps, _ = x.shape
    projection = rng.standard_normal((batch, steps, layer.hidden_size))
    if not return_sequences:
        projection[:, :-1] = 0
    layer.forward(x)
    grad_x = layer.backward(projection if return_sequences else projection[:, -1])
    analytic = {name: value.copy() for name, value in layer.grads.items()}
    analytic["input"] = grad_x
    # the reference: a full-BPTT copy run on windows of each output's horizon
    config = layer.config()
    config.update(bptt_truncate=None, return_sequences=True)
    reference = RNN(**config)
    reference.load_state_dict(layer.state_dict())
    full = reference.forward(x)
    horizon = layer.bptt_truncate
    numeric = {name: np.zeros_like(value) for name, value in reference.params.items()}
    numeric["input"] = np.zeros_like(x)
    for t in range(steps):
        if not projection[:, t].any():
            continue
        start = max(0, t - horizon)
        window = x[:, start:t + 1].copy()
        h_start = (full[:, start - 1] if start > 0 else np.zeros_like(full[:, 0]))[None].copy()
        weights = projection[:, t]

        def term():
            return float(np.sum(reference.forward(window, h0=h_start)[:, -1] * weights))

        for name, value in reference.params.items():
            numeric[name] += numerical_gradient(term, value)
        numeric["input"][:, start:t + 1] += numerical_gradient(term, window)
    return {name: relative_error(analytic[name], numeric[name]) for name in analytic}


# -- helpers ---------------------------------------------------------------------------------------------------------

def one_blas_thread():
    """A context in which NumPy's BLAS runs one thread. These models multiply matrices of a few thousand elements,
    where a multi-threaded BLAS mostly waits for its threads; on a machine busy with other work that made training
    4 to 20 times slower (mult-series 2 s -> 38 s, its tutorial preset 33 s -> 131 s, on 2 cores). Uses the
    limiter in numrnn._blas (OpenBLAS only; elsewhere it changes nothing)."""
    return blas_threads(1)


def _announce(callbacks, epochs, count, batch_size):
    """Tell callbacks that want it (a progress bar) how long the training will be, as Keras's set_params does."""
    for callback in callbacks:
        if hasattr(callback, "set_params"):
            callback.set_params({"epochs": epochs, "steps": math.ceil(count / batch_size)})



def _is_scalar_rnn(model):
    layer = model.layers[0]
    return (len(model.layers) == 1 and isinstance(layer, RNN) and layer.hidden_size == 1 and layer.input_size == 1
            and layer.num_layers == 1 and not layer.bidirectional and not layer.bias)


def _normal_init(model):
    """Standard-normal weights and biases, as tutorial 001 (np.random.randn); its single hidden bias is b_ih."""
    rng = get_rng()
    for layer in model.layers:
        for name, value in layer.params.items():
            value[...] = 0.0 if name.startswith("bias_hh") else rng.standard_normal(value.shape)


def _accuracy_per_step(model, X, y):
    predicted = model.predict(X).argmax(axis=-1)
    return (predicted == y).mean(axis=0)


def _rmse(predicted, actual):
    diff = np.asarray(predicted, dtype=np.float64) - np.asarray(actual, dtype=np.float64)
    return float(np.sqrt(np.mean(diff ** 2)))


def _rounded(values, digits=4):
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
