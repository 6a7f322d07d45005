"""Commands on a saved model: `numrnn evaluate MODEL --task TASK`, `numrnn predict`, `numrnn info`.

    numrnn evaluate MODEL --task TASK [--seed S] [--json]   the task's metrics on freshly generated test data
    numrnn predict MODEL --input FILE [--output FILE]        the model's outputs for .npy or .csv sequences
    numrnn info MODEL [--json]                               architecture, parameters and training record
"""
import csv
import json
import os
import stat

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
    task = tasks.get_task(args.task)
    task.check_model(model, source=args.model)
    settings = tasks.saved_settings(model.extra, task, source=args.model)
    metrics = tasks.evaluate(model, task, settings=settings, seed=args.seed)
    if args.json:
        print(json.dumps(runs.jsonable(metrics)))
    else:
        verdict = "target met" if task.target_met(metrics) else "target NOT met"
        print(f"{task.name}: {task.describe(metrics)} ({verdict}: {task.target})")
    return EXIT_OK


def predict(args):
    model = load(args.model)
    inputs = read_inputs(args.input, model, model_path=args.model)
    try:
        outputs = model.predict(inputs)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{args.model} cannot read {args.input}: {error}") from None
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


def read_inputs(path, model, model_path=None):
    """The sequences in a .npy or .csv file, shaped (batch, time, features) for `model` (read from model_path); a
    clear error if not."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such input file: {path}")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ValueError(f"{path} is not a regular file (a folder, FIFO, socket or device)")
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
        model_name = f"the model {model_path}" if model_path else "the model"
        raise ValueError(f"{path} holds an array of shape {array.shape}; {model_name} needs (batch, time, {features})"
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
    extra = model.extra
    if args.json:
        print(json.dumps({"config": model.config(), "parameters": model.num_parameters(), "extra": extra}, indent=1))
        return EXIT_OK
    print(f"{args.model}: {os.path.getsize(args.model):,} bytes")
    model.summary()
    # what a file says of its training is shown only where it has the types numrnn writes (nothing is trusted)
    if isinstance(extra.get("task"), str):
        print(f"trained on: {extra['task']} ({extra.get('preset', 'default')} recipe)")
    settings = extra.get("settings") if isinstance(extra.get("settings"), dict) else {}
    if settings:
        shown = ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None and not isinstance(v, (list, dict)))
        print(f"settings: {shown}")
    metrics = extra.get("metrics") if isinstance(extra.get("metrics"), dict) else {}
    metrics = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}
    if metrics:
        print("metrics: " + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                      for k, v in metrics.items()))
    if extra.get("forecaster"):
        try:
            print(f"forecaster: {forecast.Forecaster.of(model, source=args.model).describe()}")
        except ValueError as error:
            print(f"forecaster: {error}")
    return EXIT_OK
