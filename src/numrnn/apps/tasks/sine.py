"""The next value of sin(x) from the 50 before it (tutorial 002): a many-to-one regression.

Its test set is a stretch of the wave the model never saw (windows from x = 1000 on); its plots add the predictions
against the true values on the training, validation and test windows.
"""
import os

import numpy as np

from ... import data
from ...random import get_rng
from .. import plots
from .base import Task, rmse

__all__ = ["SineTask"]


class SineTask(Task):
    name = "sine"
    title = "predict the next value of sin(x) from 50 (tutorial 002)"
    target = "RMSE < 0.002 on windows from x >= 1000"
    input_size, output_size = 1, 1
    test_start, test_windows = 1000, 200

    def preset_settings(self, preset):
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
        return {"train": data.sine(size, start=0, dtype=settings["dtype"]),
                "validation": data.sine(settings["validation_size"], start=size, dtype=settings["dtype"]),
                "test": self.test_set(settings["dtype"])}

    def test_set(self, dtype="float32"):
        return data.sine(self.test_windows, start=self.test_start, dtype=dtype)

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial":
            rng = get_rng()
            for layer in model.layers:
                for value in layer.params.values():
                    value[...] = rng.uniform(0.0, 1.0, value.shape)

    def metrics(self, model, settings, data_sets=None):
        data_sets = data_sets or self.datasets(settings)
        metrics = {}
        for name in ("train", "validation", "test"):
            X, y = data_sets[name]
            metrics[f"{name}_rmse"] = rmse(model.predict(X), y)
        return metrics

    def target_met(self, metrics):
        return metrics["test_rmse"] < 0.002

    def describe(self, metrics):
        return (f"RMSE {metrics['test_rmse']:.3g} on windows from x >= {self.test_start} "
                f"(training {metrics['train_rmse']:.3g}, validation {metrics['validation_rmse']:.3g})")

    def plots(self, run, out):
        files = super().plots(run, out)
        panels = {}
        starts = {"train": 0, "validation": run.settings["train_size"], "test": self.test_start}
        for split, title in (("train", "training windows"), ("validation", "validation windows"),
                             ("test", f"unseen stretch, x >= {self.test_start}")):
            X, y = run.data[split]
            X, y = X[:100], y[:100]
            panels[title] = (starts[split] + X.shape[1] + np.arange(len(y)), y, run.model.predict(X))
        files.append(plots.predictions(panels, os.path.join(out, "predictions.png"),
                                       title=f"sin(x): next value predicted from 50 ({run.preset} recipe)"))
        return files
