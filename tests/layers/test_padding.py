"""What padded steps may hold: anything, NaN and inf included, without changing a valid number."""
import numpy as np
import pytest

import numrnn


@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU, numrnn.RNN])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_nan_and_inf_in_padding_change_no_output_and_no_gradient(cell, return_sequences, rng):
    layer = cell(3, 4, num_layers=2, bidirectional=True, return_sequences=return_sequences, dtype="float64")
    lengths = np.array([5, 2, 3])
    clean = rng.standard_normal((3, 5, 3))
    for b, length in enumerate(lengths):
        clean[b, length:] = 0.0
    dirty = clean.copy()
    dirty[1, 2:] = np.nan
    dirty[2, 3] = np.inf
    dirty[2, 4] = -np.inf
    grad_out = rng.standard_normal((3, 5, 8) if return_sequences else (3, 8))

    def run(x):
        out = layer.forward(x, lengths=lengths)
        states = [layer.h_n.copy()] + ([layer.c_n.copy()] if cell is numrnn.LSTM else [])
        grad_x = layer.backward(grad_out)
        return out, states, grad_x, {name: value.copy() for name, value in layer.grads.items()}

    out, states, grad_x, grads = run(clean)
    dirty_out, dirty_states, dirty_grad_x, dirty_grads = run(dirty)
    np.testing.assert_array_equal(dirty_out, out)
    for state, dirty_state in zip(states, dirty_states):
        np.testing.assert_array_equal(dirty_state, state)
    np.testing.assert_array_equal(dirty_grad_x, grad_x)
    assert not grad_x[1, 2:].any() and not grad_x[2, 3:].any()
    for name, value in grads.items():
        assert np.isfinite(dirty_grads[name]).all(), name
        np.testing.assert_array_equal(dirty_grads[name], value, err_msg=name)
    # the test means something: padding with NaN but no lengths does poison the gradients
    with np.errstate(invalid="ignore", over="ignore"):
        layer.forward(dirty)
        layer.backward(grad_out)
    assert not all(np.isfinite(value).all() for value in layer.grads.values())
