"""Masks (padding anywhere: front, gaps, trailing) and empty sequences, in every recurrent layer: a masked step
carries the state over, outputs zero and takes no gradient, so each sequence computes what its real steps alone
compute; exact gradients in float64; a mask of trailing padding is lengths; padding may hold anything.
The fast layers against their references with masks: test_reference.py."""
import functools

import numpy as np
import pytest

import numrnn
from numrnn.cells import GRUCell, LSTMCell, RNNCell
from numrnn.gradient_check import gradcheck

from ._masks import gappy_mask

INPUT, HIDDEN, STEPS = 3, 4, 6
FAST = [pytest.param(numrnn.RNN, id="RNN"), pytest.param(numrnn.LSTM, id="LSTM"), pytest.param(numrnn.GRU, id="GRU"),
        pytest.param(functools.partial(numrnn.GRU, reset_after=False), id="GRU-reset_before")]
CELLS = {"RNN": RNNCell, "LSTM": LSTMCell, "GRU": GRUCell}


def fast_layer(make, **kwargs):
    return make(INPUT, HIDDEN, dtype="float64", **kwargs)


def recurrent_layer(kind, bidirectional=False, **kwargs):
    layer = numrnn.Recurrent(CELLS[kind](INPUT, HIDDEN, dtype="float64"), **kwargs)
    return numrnn.Bidirectional(layer) if bidirectional else layer


def every_layer(bidirectional, return_sequences):
    """One of each kind of recurrent layer: the fast ones (two layers deep) and Recurrent (in Bidirectional)."""
    layers = [fast_layer(param.values[0], num_layers=2, bidirectional=bidirectional,
                         return_sequences=return_sequences) for param in FAST]
    return layers + [recurrent_layer(kind, bidirectional, return_sequences=return_sequences) for kind in CELLS]


def final_states(layer):
    if isinstance(layer, numrnn.Bidirectional):
        return [s for h_n in layer.h_n for s in h_n]
    if isinstance(layer, numrnn.Recurrent):
        return list(layer.h_n)
    return [layer.h_n] + ([layer.c_n] if isinstance(layer, numrnn.LSTM) else [])


# -- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", FAST)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_fast_layer_gradients_with_front_padding_and_gaps(make, bidirectional, return_sequences, rng):
    layer = fast_layer(make, num_layers=2, bidirectional=bidirectional, return_sequences=return_sequences)
    shape = (2 * layer.num_directions, 5, HIDDEN)
    h0 = tuple(rng.standard_normal(shape) for _ in layer.state_names)
    errors = gradcheck(layer, rng.standard_normal((5, STEPS, INPUT)),
                       forward_kwargs={"mask": gappy_mask(), "h0": h0 if len(h0) > 1 else h0[0]})
    assert set(errors) == set(layer.params) | {"input"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_recurrent_and_bidirectional_gradients_with_front_padding_and_gaps(kind, bidirectional, return_sequences,
                                                                          rng):
    layer = recurrent_layer(kind, bidirectional, return_sequences=return_sequences)
    errors = gradcheck(layer, rng.standard_normal((5, STEPS, INPUT)), forward_kwargs={"mask": gappy_mask()})
    assert max(errors.values()) < 1e-6, errors


# -- what a masked step does ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_each_sequence_computes_what_its_real_steps_alone_compute(bidirectional, return_sequences, rng):
    """Masked steps change nothing: a sequence's outputs at its real steps, its final output and its final states
    are those of its real steps run alone (the reverse direction reads them last to first); its outputs at
    masked steps are zero, and an empty sequence outputs zeros and keeps its initial state (zeros)."""
    mask = gappy_mask()
    x = rng.standard_normal((len(mask), STEPS, INPUT))
    for layer in every_layer(bidirectional, return_sequences):
        output, states = layer.forward(x, mask=mask), final_states(layer)
        for b, real in enumerate(mask):
            if not real.any():
                assert not output[b].any() and not any(s[..., b, :].any() for s in states)
                continue
            alone = layer.forward(x[b:b + 1, real])
            if return_sequences:
                np.testing.assert_allclose(output[b, real], alone[0], rtol=1e-12, atol=1e-14)
                assert not output[b, ~real].any()
            else:
                np.testing.assert_allclose(output[b], alone[0], rtol=1e-12, atol=1e-14)
            for state, state_alone in zip(states, final_states(layer)):
                np.testing.assert_allclose(state[..., b, :], state_alone[..., 0, :], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_a_mask_of_trailing_padding_is_lengths(bidirectional, return_sequences, rng):
    """For the reverse direction too: reversing the whole time axis and the mask (Bidirectional with a mask)
    equals reversing each sequence within its length (with lengths)."""
    lengths = np.array([STEPS, 3, 0, 1])
    mask = np.arange(STEPS)[None, :] < lengths[:, None]
    x = rng.standard_normal((len(lengths), STEPS, INPUT))
    for layer in every_layer(bidirectional, return_sequences):
        grad_out = None
        results = []
        for padding in ({"lengths": lengths}, {"mask": mask}):
            output = layer.forward(x, **padding)
            grad_out = rng.standard_normal(output.shape) if grad_out is None else grad_out
            grad_x = layer.backward(grad_out)
            results.append([output, grad_x, *final_states(layer), *(g.copy() for g in layer.grads.values())])
        for with_lengths, with_mask in zip(*results):
            np.testing.assert_allclose(with_mask, with_lengths, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_masked_steps_take_no_gradient_and_may_hold_anything(return_sequences, rng):
    mask = gappy_mask()
    clean = rng.standard_normal((len(mask), STEPS, INPUT))
    clean[~mask] = 0.0
    dirty = clean.copy()
    dirty[~mask] = np.nan
    dirty[0, 0] = np.inf
    for layer in every_layer(True, return_sequences):
        grad_out = rng.standard_normal(layer.forward(clean, mask=mask).shape)
        runs = []
        for x in (clean, dirty):
            output = layer.forward(x, mask=mask)
            grad_x = layer.backward(grad_out)
            runs.append([output, grad_x, *final_states(layer), *(g.copy() for g in layer.grads.values())])
        for a, b in zip(*runs):
            np.testing.assert_array_equal(b, a)
        assert not runs[0][1][~mask].any()  # no gradient reaches a masked step's input


@pytest.mark.parametrize("make", FAST)
def test_an_empty_sequence_keeps_its_initial_state_and_outputs_zeros(make, rng):
    for return_sequences in (True, False):
        layer = fast_layer(make, num_layers=2, bidirectional=True, return_sequences=return_sequences)
        h0 = tuple(rng.standard_normal((4, 3, HIDDEN)) for _ in layer.state_names)
        for padding in ({"lengths": np.array([STEPS, 0, 2])}, {"mask": np.array([[True] * STEPS, [False] * STEPS,
                                                                                   [False, True] * 3])}):
            output = layer.forward(rng.standard_normal((3, STEPS, INPUT)), h0=h0 if len(h0) > 1 else h0[0],
                                   **padding)
            assert not output[1].any()
            for state, initial in zip(final_states(layer), h0):
                np.testing.assert_array_equal(state[:, 1], initial[:, 1])
            grad_x = layer.backward(np.ones_like(output))
            assert not grad_x[1].any()


def test_step_gradient_norms_are_in_original_time_with_a_mask(rng):
    """A sequence front-padded by two steps: no gradient at the padded steps, and the norms of the unpadded
    sequence after them."""
    layer = numrnn.GRU(INPUT, HIDDEN, bidirectional=True, dtype="float64")
    layer.record_step_gradients = True
    x, grad_out = rng.standard_normal((1, STEPS - 2, INPUT)), rng.standard_normal((1, STEPS - 2, 2 * HIDDEN))
    layer.forward(x)
    layer.backward(grad_out)
    unpadded = layer.step_gradient_norms.copy()
    padded_x, padded_grad = np.zeros((1, STEPS, INPUT)), np.zeros((1, STEPS, 2 * HIDDEN))
    padded_x[:, 2:], padded_grad[:, 2:] = x, grad_out
    layer.forward(padded_x, mask=np.array([[False, False] + [True] * (STEPS - 2)]))
    layer.backward(padded_grad)
    np.testing.assert_allclose(layer.step_gradient_norms, np.r_[0, 0, unpadded], rtol=1e-12)


# -- errors --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [numrnn.LSTM(INPUT, HIDDEN), numrnn.Recurrent(RNNCell(INPUT, HIDDEN)),
                                   numrnn.Bidirectional(numrnn.Recurrent(GRUCell(INPUT, HIDDEN)))],
                         ids=["fast", "Recurrent", "Bidirectional"])
def test_a_bad_mask_is_refused_saying_why(layer, rng):
    x = rng.standard_normal((2, STEPS, INPUT))
    mask = np.ones((2, STEPS), dtype=bool)
    with pytest.raises(ValueError, match="pass lengths or mask, not both"):
        layer.forward(x, lengths=[STEPS, 2], mask=mask)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 6\), got \(6, 2\)"):
        layer.forward(x, mask=mask.T)
    with pytest.raises(TypeError, match=r"mask must hold booleans .* got dtype int64; pass mask.astype\(bool\)"):
        layer.forward(x, mask=mask.astype(np.int64))
    with pytest.raises(TypeError, match="mask must be an array of booleans"):
        layer.forward(x, mask=[[True], [True, False]])
