"""The update half of a training step: gradients -> weights, with the divergence guard.

    apply_gradients(params, grads, optimizer, clip_value=None, clip_norm=None) -> the gradient norm

clips the gradients (clip_value, then clip_norm; numrnn.clipping) and lets the optimizer step. A gradient norm
that is not finite raises FloatingPointError before anything moves; a step that leaves a weight non-finite (an
update that overflowed) is undone, weights and optimizer state exactly as before it (the optimizer's keep and
rollback), and raises FloatingPointError. numrnn.Sequential.apply_gradients is this over the model's dicts.
"""
import math

import numpy as np

from .clipping import all_finite, clip_grad_norm, clip_grad_value, grad_norm


def apply_gradients(params, grads, optimizer, clip_value=None, clip_norm=None):
    """Clip `grads` in place, step `optimizer` on (params, grads); returns the gradient norm before clipping (of
    the value-clipped gradients if clip_value is set). See the module docstring for the guard."""
    if clip_value is not None:
        clip_grad_value(grads, clip_value)
    norm = clip_grad_norm(grads, clip_norm) if clip_norm is not None else grad_norm(grads)
    if not math.isfinite(norm):
        raise FloatingPointError(f"the gradient norm is {norm}; no step was taken, the weights are those from "
                                 f"before it")
    optimizer.keep(params)
    with np.errstate(over="ignore", invalid="ignore"):
        optimizer.step(params, grads)
    if not all_finite(params.values()):
        optimizer.rollback(params)
        raise FloatingPointError(f"the optimizer's step (gradient norm {norm:.4g}, learning rate "
                                 f"{optimizer.lr:.4g}) made a weight overflow; the step was undone, the "
                                 f"weights and optimizer state are those from before it")
    return float(norm)
