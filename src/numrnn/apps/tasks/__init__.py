"""The tutorial tasks, in our settings and in the tutorial's, and the recipe that trains any of them.

    run = tasks.train("sine")                            # our default recipe; preset="tutorial" for the tutorial's
    run.metrics["test_rmse"], run.model, run.history     # what it reached, the trained Sequential, numrnn's History
    run.step_gradients                                   # (epochs, T): mean norm of the gradient reaching step t
    tasks.evaluate(model, "sine")                        # the metrics of a trained model on fresh test data

TASKS is the registry of tasks (numrnn.registry.Registry): the command line lists its choices from it, and a task
of your own joins with TASKS.register(MyTask()).
"""
import numpy as np

from ...random import seed as seed_numrnn
from ...registry import Registry
from ..callbacks import ParameterPath
from ..durable import digest
from ..runs import Run, jsonable
from .base import PRESETS, Task, fit, resolve_settings
from .count import CountTask
from .mod3 import Mod3Task
from .mult import MultSeriesTask
from .sine import SineTask

__all__ = ["TASKS", "PRESETS", "Task", "get_task", "train", "evaluate", "resolve_settings", "saved_settings",
           "EVALUATION_LIMITS"]

TASKS = Registry("task")
for _task in (CountTask(), Mod3Task(), SineTask(), MultSeriesTask()):
    TASKS.register(_task)


def get_task(name):
    """The task registered under `name` (a Task is returned as it is); ValueError listing the tasks."""
    if isinstance(name, Task):
        return name
    return TASKS.get(name)


def train(task, preset="default", overrides=None, callbacks=(), checkpoints=None, run_id=None):
    """Train `task` ("count", "mod3", "sine", "mult-series") with its recipe; returns a Run.

    overrides: settings to change (None values are ignored), e.g. {"hidden": 64, "epochs": 10}.
    callbacks: more fit callbacks (a progress bar).
    checkpoints: a numrnn.apps.durable.Checkpoints: the best model and the training state written during training,
    a resumed run continued exactly, the best weights at the end (see base.fit). run_id: kept in the files.
    A run that diverged is returned too (run.diverged says where).
    """
    task = get_task(task)
    settings = resolve_settings(task, preset, overrides)
    seed_numrnn(settings["seed"])
    data = task.datasets(settings)
    model = task.build(settings)
    task.initialize(model, settings)
    names = task.path_names(model)
    path = ParameterPath(model.layers[0].params, names) if names else None
    fingerprint = {**jsonable(settings), "task": task.name, "preset": preset,
                   "data": digest(*data["train"], *data["validation"])}
    extra = jsonable({"task": task.name, "preset": preset, "settings": settings})
    fitted = fit(model, settings, data["train"], data["validation"], callbacks, recorders=[path] if path else [],
                 checkpoints=checkpoints, run={"id": run_id, "fingerprint": fingerprint}, extra=extra)
    with np.errstate(all="ignore"):  # a diverged model may overflow
        metrics = task.metrics(model, settings, data)
    return Run(task, preset, settings, model, fitted.history, metrics, fitted.seconds, fitted.step_gradients,
               path=path, data=data, diverged=fitted.diverged, best_epoch=fitted.best_epoch,
               extra={"run_id": run_id} if run_id else None)


#: the settings a task's evaluation reads from a model's file, and the largest each may be: nothing in a file is
#: trusted (a file's steps = 10**12 once had evaluate allocate 7 TiB of test data)
EVALUATION_LIMITS = {"seed": 2 ** 32 - 3, "steps": 1000, "train_size": 20_000, "validation_size": 20_000}


def saved_settings(extra, task, source="the model"):
    """The settings a model's file keeps (its `extra`) that `task`'s evaluation reads, each checked against
    EVALUATION_LIMITS; {} for a file of another task. A ValueError naming `source` for a setting out of bounds."""
    task = get_task(task)
    if not isinstance(extra, dict) or extra.get("task") != task.name:
        return {}
    settings = extra.get("settings", {})
    if not isinstance(settings, dict):
        raise ValueError(f"{source} is not usable: its settings must be a dict, got {type(settings).__name__}")
    checked = {}
    for key, largest in EVALUATION_LIMITS.items():
        if key not in settings:
            continue
        value, lowest = settings[key], 0 if key == "seed" else 1
        if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= largest:
            shown = repr(value) if len(repr(value)) < 40 else repr(value)[:40] + "..."
            raise ValueError(f"{source} is not usable for evaluation: its setting {key} must be an integer in "
                             f"[{lowest}, {largest:,}], got {shown}")
        checked[key] = value
    return checked


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
