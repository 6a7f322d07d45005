"""Gradient clipping, applied after backward and before the optimizer's step, in place on the grads dict.

    clip_grad_norm(grads, max_norm)     norm = sqrt(sum over every array of sum(g^2));
                                        if norm > max_norm: g *= max_norm / (norm + 1e-6) for every g
    clip_grad_value(grads, clip_value)  g = clip(g, -clip_value, clip_value) element-wise

Norm clipping rescales all gradients together, so the direction of the whole update is kept (torch's
clip_grad_norm_); value clipping bounds each element on its own, as the seed tutorial 002 does with [-10, 10].
A typical training step:

    loss.backward() ... model.backward(grad)   # fills the grads dicts
    clip_grad_norm(grads, 5.0)
    optimizer.step(params, grads)
"""
import math
from collections.abc import Mapping

import numpy as np

from ._validate import check_positive_float

__all__ = ["clip_grad_norm", "clip_grad_value", "grad_norm"]


def grad_norm(grads):
    """The global L2 norm of every gradient together, sqrt(sum over arrays of sum(g^2)), without changing them.
    A float32 sum of squares that overflows is redone in float64; an inf or NaN gradient gives inf or NaN."""
    total = 0.0
    for array in _check_grads(grads):
        flat = array.reshape(-1)
        with np.errstate(over="ignore"):  # an overflow is caught just below
            squares = float(np.dot(flat, flat))  # BLAS dot: no temporary array
        if math.isinf(squares) and np.isfinite(flat).all():
            # float32 squares overflow above ~1.8e19 while the norm itself is representable: redo in float64
            wide = flat.astype(np.float64)
            squares = float(np.dot(wide, wide))
        total += squares
    return math.sqrt(total)


def all_finite(arrays):
    """True if no element of any array is NaN or infinite; a BLAS dot per array, no temporary array (the exact
    element-wise test runs only where the dot is not finite: large finite values can overflow a float32 sum)."""
    for array in arrays:
        flat = array.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):
            if not math.isfinite(float(np.dot(flat, flat))) and not np.isfinite(flat).all():
                return False
    return True


def clip_grad_norm(grads, max_norm):
    """Scale every gradient in place so that their global L2 norm is at most max_norm; return the norm before.

    The norm is taken over all arrays together. Above max_norm each array is multiplied by
    max_norm / (norm + 1e-6), as torch does (its 1e-6 leaves the new norm a hair under max_norm). A norm that is not
    finite (an inf or NaN gradient) is returned as is and nothing is scaled: scaling would turn inf into NaN
    everywhere, and the caller can see the returned value and skip the step.
    """
    max_norm = check_positive_float("max_norm", max_norm)
    norm = grad_norm(grads)
    if norm > max_norm and math.isfinite(norm):
        scale = max_norm / (norm + 1e-6)  # a Python float: float32 gradients stay float32
        for array in grads.values():
            array *= scale
    return norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient element in place to [-clip_value, clip_value]."""
    arrays = _check_grads(grads)
    clip_value = check_positive_float("clip_value", clip_value)
    for array in arrays:
        np.clip(array, -clip_value, clip_value, out=array)


def _check_grads(grads):
    """The dict's arrays, after checking they are float NumPy arrays that can be changed in place."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    for name, array in grads.items():
        if not isinstance(array, np.ndarray) or not np.issubdtype(array.dtype, np.floating):
            what = f"dtype {array.dtype}" if isinstance(array, np.ndarray) else type(array).__name__
            raise TypeError(f"grads[{name!r}] must be a float NumPy array (clipped in place), got {what}")
        if not array.flags.writeable:
            raise ValueError(f"grads[{name!r}] is read-only; it must be clipped in place")
    return list(grads.values())
