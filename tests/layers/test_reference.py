"""The fast numrnn.RNN, LSTM and GRU equal their reference: numrnn.Recurrent over the reference cells (wrapped in
Bidirectional, with Dropout between stacked layers), built by reference_layers() with the same weights. Float64,
every option (the GRU's both reset_after forms, lengths, empty sequences, masks with front padding and gaps):
outputs, final states, the input's and every parameter's gradient agree to 1e-12.

With a mask the two compute differently: Recurrent freezes the state at masked steps, and Bidirectional reverses
the whole time axis and the mask; a fast layer moves each sequence's real steps to its front and runs lengths."""
import itertools

import numpy as np
import pytest

import numrnn

from ._masks import gappy_mask

INPUT, HIDDEN, BATCH, STEPS = 3, 4, 3, 6
TOLERANCE = 1e-12
FAST = [pytest.param((numrnn.RNN, {"nonlinearity": name}), id=f"RNN-{name}") for name in
        ("tanh", "relu", "sigmoid", "linear")] + [pytest.param((numrnn.LSTM, {}), id="LSTM"),
                                                  pytest.param((numrnn.GRU, {}), id="GRU"),
                                                  pytest.param((numrnn.GRU, {"reset_after": False}),
                                                               id="GRU-reset_before")]


def close(mine, reference):
    """max |mine - reference| within TOLERANCE of the reference's scale: the largest difference, for the report."""
    mine, reference = np.asarray(mine), np.asarray(reference)
    assert mine.shape == reference.shape
    difference = float(np.max(np.abs(mine - reference))) if mine.size else 0.0
    assert difference <= TOLERANCE * max(1.0, float(np.max(np.abs(reference)))), difference
    return difference


def reference_h0(fast, h0):
    """The fast layer's h0 ((L * D, B, H), LSTM (h0, c0)) as each reference layer takes it."""
    tensors = h0 if isinstance(h0, tuple) else (h0,)
    per = [tuple(t[i] for t in tensors) for i in range(fast.num_layers * fast.num_directions)]
    if fast.bidirectional:
        return [(per[2 * k], per[2 * k + 1]) for k in range(fast.num_layers)]
    return per


def run_reference(layers, x, h0s, lengths, grad_out, mask=None):
    """Forward time-major through the reference layers (dropout masks drawn as the fast layer draws them), then
    backward; returns (output, input gradient, {fast parameter name: gradient}, final states)."""
    out, index = x.transpose(1, 0, 2), 0
    for layer in layers:
        if isinstance(layer, numrnn.Dropout):
            out = layer.forward(out)
            continue
        out = layer.forward(out, h0=None if h0s is None else h0s[index], lengths=lengths, mask=mask,
                            time_major=True)
        index += 1
    output = out if out.ndim == 2 else out.transpose(1, 0, 2)
    grad = grad_out if grad_out.ndim == 2 else grad_out.transpose(1, 0, 2)
    for layer in reversed(layers):
        grad = layer.backward(grad)
    grads, finals, k = {}, [], 0
    for layer in layers:
        if isinstance(layer, numrnn.Dropout):
            continue
        for name, value in layer.grads.items():
            base, _, reverse = name.partition("_reverse")
            grads[f"{base}_l{k}{'_reverse' if _ else ''}"] = value
        pairs = layer.h_n if isinstance(layer, numrnn.Bidirectional) else (layer.h_n,)
        finals.extend(pairs)
        k += 1
    return output, grad.transpose(1, 0, 2), grads, finals


def fast_finals(fast):
    """The fast layer's final states as a list of per-(layer, direction) tuples, like the reference's h_n."""
    tensors = (fast.h_n, fast.c_n) if isinstance(fast, numrnn.LSTM) else (fast.h_n,)
    return [tuple(t[i] for t in tensors) for i in range(fast.num_layers * fast.num_directions)]


def compare(fast, x, lengths=None, h0=None, seed=0, mask=None):
    """Run the fast layer and its reference on the same input; assert they agree; return the largest difference."""
    rng = np.random.default_rng(seed)
    layers = fast.reference_layers()
    numrnn.seed(seed)
    output = fast.forward(x, h0=h0, lengths=lengths, mask=mask)
    grad_out = rng.standard_normal(output.shape)
    grad_x = fast.backward(grad_out)
    numrnn.seed(seed)  # the same dropout masks
    ref_output, ref_grad_x, ref_grads, ref_finals = run_reference(
        layers, x, None if h0 is None else reference_h0(fast, h0), lengths, grad_out, mask)
    largest = max(close(output, ref_output), close(grad_x, ref_grad_x))
    assert set(ref_grads) == set(fast.grads)
    for name, value in fast.grads.items():
        largest = max(largest, close(value, ref_grads[name]))
    for mine, theirs in zip(fast_finals(fast), ref_finals):
        for a, b in zip(mine, theirs):
            largest = max(largest, close(a, b))
    return largest


OPTIONS = list(itertools.product([1, 2], [False, True], [True, False], [True, False]))


@pytest.mark.parametrize("fast_class", FAST)
@pytest.mark.parametrize("num_layers, bidirectional, bias, return_sequences", OPTIONS)
def test_fast_layer_equals_its_reference(fast_class, num_layers, bidirectional, bias, return_sequences, rng):
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=num_layers, bidirectional=bidirectional, bias=bias,
               return_sequences=return_sequences, dtype="float64", **extra)
    compare(fast, rng.standard_normal((BATCH, STEPS, INPUT)))


@pytest.mark.parametrize("fast_class", FAST)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_fast_layer_equals_its_reference_with_lengths_and_initial_states(fast_class, bidirectional,
                                                                       return_sequences, rng):
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional, return_sequences=return_sequences,
               dtype="float64", **extra)
    shape = (2 * fast.num_directions, BATCH, HIDDEN)
    h0 = tuple(rng.standard_normal(shape) for _ in fast.state_names)
    x = rng.standard_normal((BATCH, STEPS, INPUT))
    x[1, 2:] = np.nan  # padding may hold anything
    compare(fast, x, lengths=np.array([STEPS, 2, 4]), h0=h0 if len(h0) > 1 else h0[0])


@pytest.mark.parametrize("fast_class", FAST)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_fast_layer_equals_its_reference_with_a_mask(fast_class, bidirectional, return_sequences, rng):
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional, return_sequences=return_sequences,
               dtype="float64", **extra)
    mask = gappy_mask()
    h0 = tuple(rng.standard_normal((2 * fast.num_directions, len(mask), HIDDEN)) for _ in fast.state_names)
    x = rng.standard_normal((len(mask), STEPS, INPUT))
    x[~mask] = np.nan  # masked steps may hold anything
    compare(fast, x, mask=mask, h0=h0 if len(h0) > 1 else h0[0])


@pytest.mark.parametrize("fast_class", FAST)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_fast_layer_equals_its_reference_with_empty_sequences(fast_class, bidirectional, rng):
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=2, bidirectional=bidirectional, return_sequences=False, dtype="float64",
               **extra)
    h0 = tuple(rng.standard_normal((2 * fast.num_directions, BATCH, HIDDEN)) for _ in fast.state_names)
    compare(fast, rng.standard_normal((BATCH, STEPS, INPUT)), lengths=np.array([0, 3, 0]),
            h0=h0 if len(h0) > 1 else h0[0])


@pytest.mark.parametrize("fast_class", FAST)
def test_fast_layer_equals_its_reference_with_a_mask_and_dropout(fast_class, rng):
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=3, bidirectional=True, dropout=0.4, dtype="float64", **extra)
    compare(fast, rng.standard_normal((5, STEPS, INPUT)), mask=gappy_mask(), seed=3)


@pytest.mark.parametrize("fast_class", FAST)
def test_fast_layer_equals_its_reference_with_dropout(fast_class, rng):
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=3, bidirectional=True, dropout=0.4, dtype="float64", **extra)
    compare(fast, rng.standard_normal((BATCH, STEPS, INPUT)), lengths=np.array([STEPS, 3, 5]), seed=3)


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid"])
@pytest.mark.parametrize("truncate", [1, 2, 4])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_truncated_rnn_equals_its_reference(nonlinearity, truncate, bidirectional, return_sequences, rng):
    fast = numrnn.RNN(INPUT, HIDDEN, num_layers=2, nonlinearity=nonlinearity, bptt_truncate=truncate,
                      bidirectional=bidirectional, return_sequences=return_sequences, dtype="float64")
    compare(fast, rng.standard_normal((BATCH, STEPS, INPUT)), lengths=np.array([STEPS, 3, 5]))


@pytest.mark.parametrize("truncate", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_truncated_rnn_equals_its_reference_with_a_mask(truncate, bidirectional, return_sequences, rng):
    """The horizon counts real steps: a masked step passes the gradient on without ageing it, in both."""
    fast = numrnn.RNN(INPUT, HIDDEN, num_layers=2, bptt_truncate=truncate, bidirectional=bidirectional,
                      return_sequences=return_sequences, dtype="float64")
    compare(fast, rng.standard_normal((5, STEPS, INPUT)), mask=gappy_mask())


@pytest.mark.parametrize("fast_class", FAST)
def test_stateful_fast_layer_equals_its_stateful_reference(fast_class, rng):
    """Two consecutive chunks: the second starts from the first's final state, in both."""
    cls, extra = fast_class
    fast = cls(INPUT, HIDDEN, num_layers=2, stateful=True, dtype="float64", **extra)
    layers = fast.reference_layers()
    first, second = rng.standard_normal((2, BATCH, STEPS, INPUT))
    fast.forward(first)
    out = first
    for layer in layers:
        out = layer.forward(out)
    assert all(layer.stateful for layer in layers)
    output, reference = fast.forward(second), second
    for layer in layers:
        reference = layer.forward(reference)
    close(output, reference)


def test_reference_layers_have_the_fast_layers_weights_and_train_alike(rng):
    """A Sequential of the reference layers takes the same training steps as one of the fast layer."""
    X, y = np.eye(3)[rng.integers(0, 3, (8, 5))], rng.integers(0, 3, (8, 5))
    fast = numrnn.LSTM(3, 6, num_layers=2, bidirectional=True, dtype="float64")
    models = [numrnn.Sequential(layers + [numrnn.Dense(12, 3, dtype="float64")], loss="cross_entropy",
                                optimizer=numrnn.Adam(lr=0.01)) for layers in ([fast], fast.reference_layers())]
    models[1].layers[-1].load_state_dict(models[0].layers[-1].state_dict())
    losses = [[model.train_on_batch(X, y)["loss"] for _ in range(3)] for model in models]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-12)
