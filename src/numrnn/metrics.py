"""Metrics reported beside the loss (Keras's metrics=), and a dataset's metrics from its batches'.

    accuracy  (acc, categorical_accuracy, sparse_categorical_accuracy, binary_accuracy)   the loss's own accuracy
    mae       (mean_absolute_error)    mean |prediction - y| over kept elements, prediction = the loss's predict
    mse       (mean_squared_error)     mean (prediction - y)^2 likewise

A classifier reports accuracy whether asked or not. Each batch's value is a mean over its positions; a dataset's,
each batch's weighted by its number of target positions (BatchMean), so it is the mean over all positions
whatever the batching. A summed loss (reduction="sum") just adds up.
"""
import numpy as np

from .registry import Registry

METRICS = Registry("metric")


def accuracy(loss, output, y, mask):
    return float(loss.accuracy(output, y, mask=mask, checked=True))


def _errors(loss, output, y, mask):
    if y.shape != output.shape:
        raise ValueError(f"this metric compares predictions with targets of the output's shape {output.shape}, "
                         f"got targets of shape {y.shape} (class indices: use accuracy)")
    errors = loss.predict(output) - y
    return errors if mask is None else errors[mask]


def mean_absolute_error(loss, output, y, mask):
    return float(np.mean(np.abs(_errors(loss, output, y, mask))))


def mean_squared_error(loss, output, y, mask):
    return float(np.mean(np.square(_errors(loss, output, y, mask))))


METRICS.register(accuracy, name="accuracy", aliases=("acc", "categorical_accuracy", "sparse_categorical_accuracy",
                                                     "binary_accuracy"))
METRICS.register(mean_absolute_error, name="mae", aliases=("mean_absolute_error",))
METRICS.register(mean_squared_error, name="mse", aliases=("mean_squared_error",))


def check_metrics(names):
    """The registered names of a list of metric names (aliases resolved, order kept, no duplicates)."""
    if names is None:
        return []
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise TypeError(f"metrics must be a list of names, got {type(names).__name__} {names!r}")
    resolved = []
    for name in names:
        canonical = METRICS.name_of(METRICS.get(name)) if isinstance(name, str) else METRICS.get(name)
        if canonical not in resolved:
            resolved.append(canonical)
    return resolved


class BatchMean:
    """The running weighted mean of batches' logs (keys in `summed` add up instead; "grad_norm" is skipped)."""

    def __init__(self, summed=()):
        self.summed = tuple(summed)
        self.totals, self.weight = {}, 0

    def add(self, logs, positions):
        for key, value in logs.items():
            if key != "grad_norm":
                self.totals[key] = self.totals.get(key, 0.0) + value * (1 if key in self.summed else positions)
        self.weight += positions

    def result(self):
        return {key: value if key in self.summed else value / self.weight for key, value in self.totals.items()}

    def state_dict(self):
        return {"totals": dict(self.totals), "weight": self.weight}

    def load_state_dict(self, state):
        self.totals, self.weight = dict(state["totals"]), state["weight"]
