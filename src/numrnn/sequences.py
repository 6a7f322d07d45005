"""Batches of sequences with padding: which steps are real, the checks and index arithmetic every recurrent layer
and the model share. Sequences are time-major here, (T, B, ...), as the layers keep them inside.

Padding is given one of two ways, never both: `lengths` (B,), each sequence's real steps first and padding after
(trailing padding), or `mask` (B, T) booleans, True where a step is real, anywhere (front padding, gaps): Keras's
masks. A sequence may be empty (length 0, a row of False).

    check_lengths(lengths, batch, steps)     one integer per sequence in [0, steps]; None if every one is `steps`
    check_mask(mask, batch, steps)           (B, T) booleans -> time-major (T, B); None if every step is real
    real_steps(lengths, mask, batch, steps)  either one, checked, as a time-major mask (T, B), or None
    valid_steps(lengths, steps)              (T, B) booleans: step t of sequence b is real, not padding
    reverse_within(sequence, lengths)        each sequence reversed in time within its own length, padding kept
    packed_steps(lengths, mask, batch, steps)  either one as (lengths, order): a mask's real steps moved to the front
    gather_steps(sequence, order)            sequence[order[t, b], b]: packs (order) and unpacks (unpacking(order))
    input_mask(layer, x, lengths, mask)      a model's batch: either one, and its first layer's mask of x if it
                                             makes one (Embedding(mask_zero=True)), as (B, T) booleans or None

Packing: at a padded step a recurrent layer keeps its state and neither outputs (zeros) nor takes a gradient, so
the step changes nothing; a sequence's real steps, moved to its front in order, give the same states, outputs and
gradients as where they stood. That turns any mask into trailing padding (lengths), which the fast layers' loops
handle, at the cost of two gathers.
"""
import numpy as np

from ._validate import as_index_array


def check_lengths(lengths, batch, steps, name="lengths"):
    """`lengths` as int64 (batch,), each in [0, steps] (0: an empty sequence); None when absent or when every
    sequence is full length (nothing is padded, so the layers take their faster path)."""
    if lengths is None:
        return None
    lengths = as_index_array(name, lengths, ndim=1)
    if lengths.shape[0] != batch:
        raise ValueError(f"{name} must have one entry per sequence: expected shape ({batch},), got {lengths.shape}")
    if lengths.min() < 0 or lengths.max() > steps:
        raise ValueError(f"{name} must be in [0, {steps}] (the number of time steps), got values from "
                         f"{lengths.min()} to {lengths.max()}")
    return None if np.all(lengths == steps) else lengths


def check_mask(mask, batch, steps, name="mask"):
    """`mask` (batch, time) booleans, True where a step is real, as a time-major (T, B) array; None when absent or
    when every step is real."""
    if mask is None:
        return None
    try:
        array = np.asarray(mask)
    except (ValueError, TypeError) as error:  # ragged lists
        raise TypeError(f"{name} must be an array of booleans, could not convert it: {error}") from None
    if array.dtype != np.bool_:
        raise TypeError(f"{name} must hold booleans (True where a step is real), got dtype {array.dtype}; "
                        f"pass {name}.astype(bool) to mean nonzero")
    if array.shape != (batch, steps):
        raise ValueError(f"{name} must have shape (batch, time) = {(batch, steps)}, got {array.shape}")
    return None if array.all() else np.ascontiguousarray(array.T)


def _refuse_both(lengths, mask, names=("lengths", "mask")):
    if lengths is not None and mask is not None:
        raise ValueError(f"pass {names[0]} or {names[1]}, not both: lengths are the mask of trailing padding")


def real_steps(lengths, mask, batch, steps, names=("lengths", "mask")):
    """The padding given as lengths or as a (B, T) mask (never both), checked, as time-major (T, B) booleans;
    None when every step is real."""
    _refuse_both(lengths, mask, names)
    if mask is not None:
        return check_mask(mask, batch, steps, names[1])
    return valid_steps(check_lengths(lengths, batch, steps, names[0]), steps)


def valid_steps(lengths, steps):
    """(T, B) booleans, True where t < lengths[b]; None for no lengths."""
    if lengths is None:
        return None
    return np.arange(steps)[:, None] < lengths[None, :]


def reverse_within(sequence, lengths):
    """Reverse (T, B, ...) in time within each sequence's valid length; padded steps stay where they are.

    Applied twice it gives the sequence back. Without lengths it is a contiguous copy of sequence[::-1]."""
    if lengths is None:
        return np.ascontiguousarray(sequence[::-1])
    steps, batch = sequence.shape[:2]
    time_index = np.arange(steps)[:, None].repeat(batch, axis=1)
    valid = time_index < lengths[None, :]
    time_index = np.where(valid, lengths[None, :] - 1 - time_index, time_index)
    return sequence[time_index, np.arange(batch)[None, :]]


def packed_steps(lengths, mask, batch, steps):
    """The padding given as lengths or as a (B, T) mask (never both), checked, as (lengths, order): run the packed
    sequence gather_steps(x, order) with these lengths, and unpack what comes out with unpacking(order).

    order (T, B): for each sequence the time indices of its real steps, in order, then those of its padded ones;
    None when nothing needs moving (no mask, or a mask of trailing padding). lengths: None when every step is
    real."""
    _refuse_both(lengths, mask)
    if mask is None:
        return check_lengths(lengths, batch, steps), None
    valid = check_mask(mask, batch, steps)
    if valid is None:
        return None, None
    lengths = valid.sum(axis=0)
    if np.all(valid[1:] <= valid[:-1]):  # no real step after a padded one: trailing padding already
        return lengths, None
    return lengths, np.argsort(~valid, axis=0, kind="stable")


def unpacking(order):
    """The order that undoes gather_steps(., order)."""
    return np.argsort(order, axis=0)


def gather_steps(sequence, order):
    """sequence (T, B, ...) with step t of sequence b taken from step order[t, b] of the same sequence (a copy)."""
    return sequence[order, np.arange(order.shape[1])[None, :]]


def input_mask(layer, x, lengths=None, mask=None, names=("x", "lengths", "mask")):
    """The real steps of a model's input batch x (batch, time, ...) as (batch, time) booleans, None when all are:
    from lengths or mask (never both), and where the model's first `layer` makes a mask of its input
    (layer.produces_mask: Embedding(mask_zero=True)), that one too; a step is real where all say so."""
    if lengths is None and mask is None:
        own = layer.compute_mask(x) if layer.produces_mask else None
        return None if own is None or own.all() else own
    if x.ndim < 2 or not (layer.takes_lengths or layer.sequence_rank is not None):
        given = names[1] if lengths is not None else names[2]
        raise ValueError(f"{given} needs sequence input (batch, time, ...), got {names[0]} of shape {x.shape}")
    valid = real_steps(lengths, mask, x.shape[0], x.shape[1], names[1:])  # (T, B)
    own = layer.compute_mask(x) if layer.produces_mask else None
    if own is not None:
        valid = own.T if valid is None else valid & own.T
    return None if valid is None or valid.all() else np.ascontiguousarray(valid.T)
