"""Count the ones in a binary sequence (tutorial 003): a one-unit linear RNN whose exact answer is w_x = w_rec = 1.

    s_t = w_x x_t + w_rec s_{t-1}        the count after T steps when w_x = w_rec = 1

Its plots add the loss surface over (w_x, w_rec) with the optimizer's path across it.
"""
import os

import numpy as np

from ... import data
from ...layers import RNN, Dense
from ...model import Sequential
from .. import plots
from .base import Task

__all__ = ["CountTask", "is_scalar_rnn"]


class CountTask(Task):
    name = "count"
    title = "count the ones in a binary sequence (tutorial 003)"
    target = "|prediction - count| < 0.01 at lengths 10, 100 and 1000"
    input_size, output_size = 1, 1
    test_lengths = (10, 100, 1000)

    def preset_settings(self, preset):
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
        train = data.count_ones(settings["train_size"], settings["steps"], seed=seed, dtype=dtype)
        validation = data.count_ones(100, settings["steps"], seed=seed + 1, dtype=dtype)
        return {"train": train, "validation": validation}

    def build(self, settings):
        """The scalar RNN alone when hidden = layers = 1 (its state is the count); a Dense head otherwise."""
        recurrent = RNN(1, settings["hidden"], num_layers=settings["layers"], nonlinearity=settings["nonlinearity"],
                        bias=settings["bias"], return_sequences=False, bptt_truncate=settings["bptt_truncate"],
                        dtype=settings["dtype"])
        layers = [recurrent]
        if settings["hidden"] != 1 or settings["layers"] != 1:
            layers.append(Dense(settings["hidden"], 1, bias=settings["bias"], dtype=settings["dtype"]))
        return self.compile(Sequential(layers), settings)

    def initialize(self, model, settings):
        if settings.get("init") == "tutorial" and is_scalar_rnn(model):
            w_x, w_rec = settings.get("initial_weights", (-1.5, 2.0))
            model.layers[0].params["weight_ih_l0"][...] = w_x
            model.layers[0].params["weight_hh_l0"][...] = w_rec

    def path_names(self, model):
        """The two weights whose path the run records: (w_x, w_rec) of the scalar RNN, or none."""
        return ("weight_ih_l0", "weight_hh_l0") if is_scalar_rnn(model) else ()

    def metrics(self, model, settings, data_sets=None):
        metrics = {}
        dtype = model.dtype
        for length in self.test_lengths:
            X, y = data.count_ones(100, length, seed=settings["seed"] + 2, dtype=dtype)
            error = np.abs(model.predict(X, batch_size=100) - y)
            metrics[f"max_error_T{length}"] = float(error.max())
        if is_scalar_rnn(model):
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
        with np.errstate(all="ignore"):  # a path gone far (a diverging run) overflows: plotted as the highest loss
            powers = w_rec[:, None] ** np.arange(steps - 1, -1, -1)[None, :]  # (grid, T)
            weighted = inputs @ powers.T  # (n, grid over w_rec)
            targets = np.asarray(y, dtype=np.float64)[:, 0]
            predictions = w_x[None, :, None] * weighted[:, None, :]  # (n, w_x, w_rec)
            loss = np.mean((predictions - targets[:, None, None]) ** 2, axis=0)
        return w_x, w_rec, loss.T  # loss[i, j] at (w_x[j], w_rec[i])

    def plots(self, run, out):
        files = super().plots(run, out)
        if run.path is not None:
            X, y = run.data["train"]
            w_x, w_rec, loss = self.loss_surface(X, y, run.path.points)
            files.append(plots.loss_surface(w_x, w_rec, loss, run.path.points, os.path.join(out, "loss_surface.png"),
                                            title=f"Loss over (w_x, w_rec) and the {run.settings['optimizer']} "
                                                  f"path ({run.preset} recipe)"))
        return files


def is_scalar_rnn(model):
    """One RNN layer of one unit, one input, no bias, one direction: the counter whose two weights are plotted."""
    layer = model.layers[0]
    return (len(model.layers) == 1 and isinstance(layer, RNN) and layer.hidden_size == 1 and layer.input_size == 1
            and layer.num_layers == 1 and not layer.bidirectional and not layer.bias)
