"""Random numrnn models and inputs for the interop tests: every layer and option the exports write, drawn from a
seeded generator so a failure names its seed."""
import numpy as np

import numrnn
from numrnn import cells

KINDS = ("RNN", "LSTM", "GRU")
NONLINEARITIES = ("tanh", "relu", "sigmoid", "linear")


def recurrent_layer(rng, kind, input_size, hidden, return_sequences, dtype, reset_after=(True, False)):
    """One recurrent layer of a random form: fast (stacked, one or two ways), Recurrent(cell), or Bidirectional of
    either (a fast layer of one or two stacked layers). A GRU's reset_after is drawn from `reset_after`. Returns
    (layer, output features)."""
    bias = bool(rng.integers(2))
    options = {"nonlinearity": str(rng.choice(NONLINEARITIES))} if kind == "RNN" else {}
    if kind == "GRU" and len(reset_after) > 1:  # one form: nothing drawn, so the seeds of one form keep their models
        options["reset_after"] = bool(rng.choice(reset_after))
    elif kind == "GRU":
        options["reset_after"] = reset_after[0]
    form = str(rng.choice(["fast", "cell", "bidirectional cell", "bidirectional fast"]))
    if form == "fast":
        num_layers, bidirectional = int(rng.integers(1, 3)), bool(rng.integers(2))
        layer = getattr(numrnn, kind)(input_size, hidden, num_layers=num_layers, bias=bias, dropout=0.25 * (
            num_layers > 1), bidirectional=bidirectional, return_sequences=return_sequences, dtype=dtype, **options)
        return layer, hidden * (2 if bidirectional else 1)
    if form.endswith("cell"):
        cell = getattr(cells, kind + "Cell")(input_size, hidden, bias=bias, dtype=dtype, **options)
        layer = numrnn.Recurrent(cell, return_sequences=return_sequences)
        return (numrnn.Bidirectional(layer), 2 * hidden) if form.startswith("bidirectional") else (layer, hidden)
    inner = getattr(numrnn, kind)(input_size, hidden, num_layers=int(rng.integers(1, 3)), bias=bias,
                                  return_sequences=return_sequences, dtype=dtype, **options)
    return numrnn.Bidirectional(inner), 2 * hidden


def random_model(rng, dtype="float32", kinds=KINDS, reset_after=(True, False), mask_zero=False):
    """A Sequential: ids (Embedding or OneHot) or float sequences in, one or two recurrent layers (a GRU's
    reset_after drawn from `reset_after`), maybe Dropout, Dense and an Activation, a random loss. mask_zero=True:
    an Embedding(mask_zero=True) first. Returns (model, vocabulary or None, input features or None)."""
    layers, vocabulary, features = [], None, None
    start = 0 if mask_zero else rng.integers(3)
    if start == 0:
        vocabulary = int(rng.integers(3, 9))
        size = int(rng.integers(2, 6))
        layers.append(numrnn.Embedding(vocabulary, size, mask_zero=mask_zero, dtype=dtype))
    elif start == 1:
        vocabulary = size = int(rng.integers(3, 9))
        layers.append(numrnn.OneHot(vocabulary, dtype=dtype))
    else:
        features = size = int(rng.integers(1, 6))
    count = int(rng.integers(1, 3))
    for index in range(count):
        last = index == count - 1
        kind = str(rng.choice(kinds))
        layer, size = recurrent_layer(rng, kind, size, int(rng.integers(1, 6)),
                                      return_sequences=not last or bool(rng.integers(2)), dtype=dtype,
                                      reset_after=reset_after)
        layers.append(layer)
        if rng.integers(2):
            layers.append(numrnn.Dropout(0.5, dtype=dtype))
    outputs = int(rng.integers(1, 5))
    layers.append(numrnn.Dense(size, outputs, bias=bool(rng.integers(2)), dtype=dtype))
    if rng.integers(3) == 0:
        layers.append(numrnn.Activation(str(rng.choice(["tanh", "sigmoid", "relu", "linear", "softmax"])),
                                        dtype=dtype))
    loss = [None, "cross_entropy", "binary_cross_entropy", "mse"][int(rng.integers(4))]
    return numrnn.Sequential(layers, loss=loss), vocabulary, features


def random_input(rng, model, vocabulary, features, batch=None, steps=None, empty=False):
    """(x, lengths): a batch for the model, and lengths in [1, steps] with at least one full-length sequence
    (empty=True: one sequence, maybe that one, of length 0)."""
    batch = int(rng.integers(1, 5)) if batch is None else batch
    steps = int(rng.integers(1, 7)) if steps is None else steps
    if vocabulary is not None:
        x = rng.integers(0, vocabulary, (batch, steps))
    else:
        x = rng.standard_normal((batch, steps, features)).astype(model.dtype)
    lengths = rng.integers(1, steps + 1, batch)
    lengths[rng.integers(batch)] = steps
    if empty:
        lengths[rng.integers(batch)] = 0
    return x, lengths


def gru_forms(model):
    """The GRU layers and cells of a model, wherever they sit (inside Recurrent or Bidirectional too)."""
    found = []
    for layer in model.layers:
        inner = getattr(layer, "forward_layer", layer)
        inner = getattr(inner, "cell", inner)
        if type(inner).__name__ in ("GRU", "GRUCell"):
            found.append(inner)
    return found


def random_mask(rng, batch, steps):
    """(batch, time) booleans: front padding, trailing padding, a gap, an empty sequence and a full one, at random."""
    mask = np.ones((batch, steps), bool)
    for row in mask:
        form = rng.integers(5)
        cut = int(rng.integers(0, steps + 1))
        if form == 0:
            row[:cut] = False
        elif form == 1:
            row[cut:] = False
        elif form == 2:
            row[rng.random(steps) < 0.4] = False
        elif form == 3:
            row[:] = False
    return mask


def padded_ids(rng, mask, vocabulary):
    """Ids 1.. at the real steps of a mask and 0 elsewhere: what an Embedding(mask_zero=True) reads as the mask."""
    return np.where(mask, rng.integers(1, vocabulary, mask.shape), 0)


def relative_difference(actual, expected):
    """max |a - e| / max |e| (the scale of the output, so that a near-zero entry cannot blow it up)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    return float(np.abs(actual - expected).max() / max(np.abs(expected).max(), 1e-30))
