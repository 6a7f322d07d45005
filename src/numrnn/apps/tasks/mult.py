"""The multiplication series s, 2s, ..., 10s and an end marker (tutorial 000): the next element at every step.

Only five distinct series exist (s in 2..6), so the test split holds the same five as the training split; its
metrics say so (distinct_series_in_test) and its plots add the accuracy at each time step.
"""
import math

from ... import data
from ...random import get_rng
from .base import Task, accuracy_per_step

__all__ = ["MultSeriesTask"]


class MultSeriesTask(Task):
    name = "mult-series"
    title = "predict the next element of s, 2s, ..., 10s and an end marker (tutorial 000)"
    target = "100% accuracy at every step, end marker included"
    classification = True
    input_size = output_size = data.MULT_SERIES_CLASSES

    def preset_settings(self, preset):
        # 3000 series split 60/40 as in the tutorial; only 5 distinct series exist, so the test split holds the
        # same 5 series as the training split
        if preset == "tutorial":
            # hidden 10, sigmoid, no biases, truncated BPTT (5 steps), Adam lr 1e-3, 300 epochs, batch 512
            return {"hidden": 10, "nonlinearity": "sigmoid", "bias": False, "epochs": 300, "batch_size": 512,
                    "train_size": 3000, "optimizer": "adam", "lr": 1e-3, "bptt_truncate": 5, "init": "tutorial",
                    "dtype": "float64"}
        return {"hidden": 32, "epochs": 30, "batch_size": 64, "train_size": 3000, "lr": 0.01}

    def datasets(self, settings):
        X, y = data.mult_series(settings["train_size"], seed=settings["seed"], dtype=settings["dtype"])
        split = int(round(0.6 * len(X)))
        return {"train": (X[:split], y[:split]), "validation": (X[split:], y[split:])}

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial":
            # the tutorial's W_xh ~ U(-1/sqrt(61), 1/sqrt(61)); its W_hh and W_ho match torch's U(-1/sqrt(H), ...)
            weight = model.layers[0].params["weight_ih_l0"]
            bound = 1.0 / math.sqrt(self.input_size)
            weight[...] = get_rng().uniform(-bound, bound, weight.shape)

    def metrics(self, model, settings, data_sets=None):
        data_sets = data_sets or self.datasets(settings)
        X, y = data_sets["validation"]
        per_step = accuracy_per_step(model, X, y)
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
