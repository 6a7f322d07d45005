"""Commands on a saved model: `numrnn evaluate MODEL --task TASK`, `numrnn predict`, `numrnn info`.

    numrnn evaluate MODEL --task TASK [--seed S] [--json]   the task's metrics on freshly generated test data
    numrnn predict MODEL --input FILE [--output FILE]        the model's outputs for .npy or .csv sequences
    numrnn info MODEL [--json]                               architecture, parameters and training record
"""
import csv
import json
import os

import numpy as np

from ..apps import forecast, runs, tasks
from ..io.atomic import atomic_write
from ..io.load import load
from .common import EXIT_OK, UsageError

__all__ = ["evaluate", "predict", "info", "read_inputs"]


def evaluate(args):
    if args.task is None:
        raise UsageError("evaluate needs --task TASK (count, mod3, sine, mult-series), or --data FILE for a text "
                         "model")
    model = load(args.model)
    extra = getattr(model, "extra", {}) or {}
    settings = extra.get("settings") if extra.get("task") == args.task else None
    task = tasks.get_task(args.task)
    task.check_model(model, source=args.model)
    metrics = tasks.evaluate(model, task, settings=settings, seed=args.seed)
    if args.json:
        print(json.dumps(runs.jsonable(metrics)))
    else:
        verdict = "target met" if task.target_met(metrics) else "target NOT met"
        print(f"{task.name}: {task.describe(metrics)} ({verdict}: {task.target})")
    return EXIT_OK


def predict(args):
    model = load(args.model)
    inputs = read_inputs(args.input, model)
    outputs = model.predict(inputs)
    classifier = model.loss is not None and model.loss.is_classification
    shown = outputs.argmax(axis=-1) if classifier else outputs
    rows = shown.reshape(shown.shape[0], -1)
    lines = [" ".join(str(int(v)) if classifier else f"{v:.6g}" for v in row) for row in rows]
    if args.output:
        if args.output.endswith(".npy"):
            with atomic_write(args.output, "wb") as stream:
                np.save(stream, outputs)
        else:
            with atomic_write(args.output, "w") as stream:
                stream.write("\n".join(line.replace(" ", ",") for line in lines) + "\n")
        print(f"wrote {len(lines)} predictions to {args.output}")
    else:
        print("\n".join(lines))
    return EXIT_OK


def read_inputs(path, model):
    """The sequences in a .npy or .csv file, shaped (batch, time, features) for `model`; a clear error if not."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such input file: {path}")
    features = getattr(model.layers[0], "input_size", None)
    if path.endswith(".npy"):
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"{path} is not a readable .npy array: {error}") from None
    elif path.endswith(".csv"):
        array = _read_csv_rows(path)
    else:
        raise UsageError(f"--input must be a .npy or .csv file, got {path}")
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{path} must hold numbers, got an array of dtype {array.dtype}")
    if array.ndim == 2 and features == 1:
        array = array[:, :, None]  # (batch, time) -> (batch, time, 1)
    elif array.ndim == 2 and features is not None and array.shape[1] == features:
        array = array[None]  # one sequence (time, features)
    if features is not None and (array.ndim != 3 or array.shape[-1] != features):
        raise ValueError(f"{path} holds an array of shape {array.shape}; the model needs (batch, time, {features})"
                         + (" or (batch, time)" if features == 1 else f" or (time, {features})"))
    return array


def _read_csv_rows(path):
    """One sequence per row, numbers only; a first row that is not numbers is a header."""
    rows = []
    with open(path, newline="") as stream:
        for number, row in enumerate(csv.reader(stream), start=1):
            cells = [cell.strip() for cell in row if cell.strip()]
            if not cells:
                continue
            try:
                rows.append([float(cell) for cell in cells])
            except ValueError:
                if number == 1:
                    continue  # a header row
                raise ValueError(f"{path}: row {number} must hold numbers only, got {row!r}") from None
            if len(rows[-1]) != len(rows[0]):
                raise ValueError(f"{path}: every row must be a sequence of the same length; row {number} has "
                                 f"{len(rows[-1])} values, the first {len(rows[0])}")
    if not rows:
        raise ValueError(f"{path} holds no sequences")
    return np.array(rows)


def info(args):
    model = load(args.model)
    extra = getattr(model, "extra", {}) or {}
    if args.json:
        print(json.dumps({"config": model.config(), "parameters": model.num_parameters(), "extra": extra}, indent=1))
        return EXIT_OK
    print(f"{args.model}: {os.path.getsize(args.model):,} bytes")
    model.summary()
    if extra.get("task"):
        print(f"trained on: {extra['task']} ({extra.get('preset', 'default')} recipe)")
    settings = extra.get("settings") or {}
    if settings:
        shown = ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None and not isinstance(v, list))
        print(f"settings: {shown}")
    metrics = {k: v for k, v in (extra.get("metrics") or {}).items() if not isinstance(v, list)}
    if metrics:
        print("metrics: " + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in metrics.items()))
    if extra.get("forecaster"):
        print(f"forecaster: {forecast.Forecaster.of(model).describe()}")
    return EXIT_OK
