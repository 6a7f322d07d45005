"""Batches of sequences of different lengths: the checks and index arithmetic every recurrent layer and the model
share. Sequences are time-major here, (T, B, ...), as the layers keep them inside.

    check_lengths(lengths, batch, steps)   one integer per sequence in [1, steps]; None if every one is `steps`
    valid_steps(lengths, steps)            (T, B) booleans: step t of sequence b is real, not padding
    reverse_within(sequence, lengths)      each sequence reversed in time within its own length, padding kept
"""
import numpy as np

from ._validate import as_index_array


def check_lengths(lengths, batch, steps, name="lengths"):
    """`lengths` as int64 (batch,), each in [1, steps]; None when absent or when every sequence is full length
    (nothing is padded, so the layers take their faster path)."""
    if lengths is None:
        return None
    lengths = as_index_array(name, lengths, ndim=1)
    if lengths.shape[0] != batch:
        raise ValueError(f"{name} must have one entry per sequence: expected shape ({batch},), got {lengths.shape}")
    if lengths.min() < 1 or lengths.max() > steps:
        raise ValueError(f"{name} must be in [1, {steps}] (the number of time steps), got values from "
                         f"{lengths.min()} to {lengths.max()}")
    return None if np.all(lengths == steps) else lengths


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
