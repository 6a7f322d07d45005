"""Keras's sample_weight and class_weight as one weight per target position, the form the losses take.

    sample_weight  (batch,) one weight per sequence (spread over its time steps for a sequence output), or
                   (batch, time) one per step ("temporal" weights) for a sequence output
    class_weight   {class: weight}: each position weighs as its target class (cross-entropy, or binary
                   cross-entropy with one output); classes not named weigh 1
    both           multiplied

The loss multiplies each position's terms and their gradient by its weight: L = sum(w l) / N, N the number of
positions with a target, as Keras's default reduction does.
"""
import numbers

import numpy as np

from ._validate import as_real_array


def position_weights(loss, y, positions, sample_weight=None, class_weight=None, names=("sample_weight",
                                                                                        "class_weight")):
    """A float64 array of `positions` shape (batch-first: (batch,) or (batch, time)) or None when neither is given;
    y: checked targets (class indices or rows)."""
    if sample_weight is None and class_weight is None:
        return None
    weights = np.ones(positions, dtype=np.float64)
    if sample_weight is not None:
        array = as_real_array(names[0], sample_weight).astype(np.float64)
        if array.shape == positions[:1] and len(positions) == 2:
            array = np.broadcast_to(array[:, None], positions)
        if array.shape != tuple(positions):
            shown = f"{positions[:1]} or {positions}" if len(positions) == 2 else f"{positions}"
            raise ValueError(f"{names[0]} must have shape {shown} (one weight per sample or per position), got "
                             f"{array.shape}")
        if not np.isfinite(array).all() or (array < 0).any():
            raise ValueError(f"{names[0]} must hold finite weights >= 0")
        weights = weights * array
    if class_weight is not None:
        weights = weights * _class_weights(loss, y, positions, class_weight, names[1])
    return weights


def _class_weights(loss, y, positions, class_weight, name):
    if not isinstance(class_weight, dict):
        raise TypeError(f"{name} must be a dict {{class: weight}}, got {type(class_weight).__name__}")
    for key, value in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or isinstance(value, bool) \
                or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must map class indices to finite weights >= 0, got {key!r}: {value!r}")
    if loss.name == "cross_entropy":
        classes = y if y.shape == tuple(positions) else y.argmax(axis=-1)
    elif loss.name == "binary_cross_entropy" and y.shape == tuple(positions) + (1,):
        classes = (y[..., 0] > 0.5).astype(np.int64)
    else:
        raise ValueError(f"{name} needs a classification loss with one class per position (cross_entropy, or "
                         f"binary_cross_entropy with one output), got {loss.name}; use sample_weight instead")
    table = np.ones(int(classes.max()) + 1 if classes.size else 1, dtype=np.float64)
    for key, value in class_weight.items():
        if 0 <= key < table.size:
            table[key] = value
    return table[classes]
