"""Keras weights -> numrnn: each test runs Keras's equations by hand on hand-built kernels (x K, Keras gate order)
and checks that numrnn, after the conversion, gives the same outputs to 1e-12 in float64."""
import numpy as np
import pytest

import numrnn
from numrnn.keras import gru_from_keras, lstm_from_keras, simple_rnn_from_keras
from numrnn.layers.gru import GRU
from numrnn.layers.lstm import LSTM

BATCH, STEPS, INPUT, UNITS = 2, 5, 3, 4


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hand_built(rng, gates, bias_shape):
    kernel = rng.standard_normal((INPUT, gates * UNITS))
    recurrent_kernel = rng.standard_normal((UNITS, gates * UNITS))
    bias = rng.standard_normal(bias_shape)
    return kernel, recurrent_kernel, bias


def keras_lstm(x, kernel, recurrent_kernel, bias):
    """Keras's LSTM: z = x K + h R + b; blocks i, f, c, o; c = f c + i tanh(z_c); h = o tanh(c)."""
    h = np.zeros((x.shape[0], UNITS))
    c = np.zeros((x.shape[0], UNITS))
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=1)
        i, f, o = sigmoid(z_i), sigmoid(z_f), sigmoid(z_o)
        c = f * c + i * np.tanh(z_c)
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def keras_gru_reset_after(x, kernel, recurrent_kernel, bias):
    """Keras's GRU, reset_after=True: bias rows [input, recurrent]; blocks z, r, h;
    x_* = x K_* + b_in_*, r_* = h R_* + b_rec_*; z = s(x_z + r_z); r = s(x_r + r_r); hh = tanh(x_h + r * r_h);
    h = z * h + (1 - z) * hh."""
    h = np.zeros((x.shape[0], UNITS))
    outputs = []
    for t in range(x.shape[1]):
        x_z, x_r, x_h = np.split(x[:, t] @ kernel + bias[0], 3, axis=1)
        h_z, h_r, h_h = np.split(h @ recurrent_kernel + bias[1], 3, axis=1)
        z = sigmoid(x_z + h_z)
        r = sigmoid(x_r + h_r)
        candidate = np.tanh(x_h + r * h_h)
        h = z * h + (1 - z) * candidate
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def keras_gru_reset_before(x, kernel, recurrent_kernel, bias, mask=None):
    """Keras's GRU, reset_after=False: one bias (3H,); blocks z, r, h; x_* = x K_* + b_*;
    z = s(x_z + h R_z); r = s(x_r + h R_r); hh = tanh(x_h + (r * h) R_h); h = z * h + (1 - z) * hh.
    mask (batch, time): Keras's rule at a masked step, the state kept and the previous output repeated (zeros before
    the first step: zero_output_for_mask=False, its default)."""
    h = np.zeros((x.shape[0], UNITS))
    output = np.zeros_like(h)
    outputs = []
    recurrent_z, recurrent_r, recurrent_h = np.split(recurrent_kernel, 3, axis=1)
    for t in range(x.shape[1]):
        x_z, x_r, x_h = np.split(x[:, t] @ kernel + bias, 3, axis=1)
        z = sigmoid(x_z + h @ recurrent_z)
        r = sigmoid(x_r + h @ recurrent_r)
        candidate = np.tanh(x_h + (r * h) @ recurrent_h)
        new = z * h + (1 - z) * candidate
        keep = np.ones((x.shape[0], 1), bool) if mask is None else mask[:, t, None]
        h, output = np.where(keep, new, h), np.where(keep, new, output)
        outputs.append(output)
    return np.stack(outputs, axis=1), h


def keras_simple_rnn(x, kernel, recurrent_kernel, bias):
    h = np.zeros((x.shape[0], UNITS))
    outputs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent_kernel + bias)
        outputs.append(h)
    return np.stack(outputs, axis=1), h


@pytest.fixture
def x(rng):
    return rng.standard_normal((BATCH, STEPS, INPUT))


def test_lstm_matches_keras_equations(rng, x):
    kernel, recurrent_kernel, bias = hand_built(rng, 4, (4 * UNITS,))
    expected, h_n, c_n = keras_lstm(x, kernel, recurrent_kernel, bias)
    layer = LSTM(INPUT, UNITS, dtype="float64")
    layer.load_state_dict(lstm_from_keras(kernel, recurrent_kernel, bias))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.h_n[0], h_n, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.c_n[0], c_n, rtol=0, atol=1e-12)


def test_gru_reset_after_matches_keras_equations(rng, x):
    kernel, recurrent_kernel, bias = hand_built(rng, 3, (2, 3 * UNITS))
    expected, h_n = keras_gru_reset_after(x, kernel, recurrent_kernel, bias)
    layer = GRU(INPUT, UNITS, dtype="float64")
    layer.load_state_dict(gru_from_keras(kernel, recurrent_kernel, bias, reset_after=True))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.h_n[0], h_n, rtol=0, atol=1e-12)


def test_gru_reset_before_matches_keras_equations(rng, x):
    """Keras's reset_after=False: its one bias goes to bias_ih, bias_hh is zeros, and numrnn's GRU(reset_after=False)
    (fast layer, and the reference cell) computes it."""
    kernel, recurrent_kernel, bias = hand_built(rng, 3, (3 * UNITS,))
    expected, h_n = keras_gru_reset_before(x, kernel, recurrent_kernel, bias)
    state = gru_from_keras(kernel, recurrent_kernel, bias, reset_after=False)
    np.testing.assert_array_equal(state["bias_hh_l0"], 0)
    layer = GRU(INPUT, UNITS, reset_after=False, dtype="float64")
    layer.load_state_dict(state)
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.h_n[0], h_n, rtol=0, atol=1e-12)
    cell = numrnn.Recurrent(numrnn.cells.GRUCell(INPUT, UNITS, reset_after=False, dtype="float64"))
    cell.load_state_dict({name[:-len("_l0")]: value for name, value in state.items()})
    np.testing.assert_allclose(cell.forward(x), expected, rtol=0, atol=1e-12)


def test_gru_reset_before_without_bias_matches_keras_equations(rng, x):
    kernel, recurrent_kernel, _ = hand_built(rng, 3, (3 * UNITS,))
    expected, _ = keras_gru_reset_before(x, kernel, recurrent_kernel, np.zeros(3 * UNITS))
    layer = GRU(INPUT, UNITS, reset_after=False, dtype="float64")
    layer.load_state_dict(gru_from_keras(kernel, recurrent_kernel, None, reset_after=False))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)


def test_under_a_mask_keras_and_numrnn_agree_at_real_steps_and_in_front_padding(rng, x):
    """A masked step keeps the state in both. At a masked step numrnn outputs zeros and Keras (one-way,
    zero_output_for_mask=False) the previous output: the same before the first real step (front padding, Keras's
    pad_sequences default), different after a gap or in trailing padding, by design."""
    kernel, recurrent_kernel, bias = hand_built(rng, 3, (3 * UNITS,))
    mask = np.array([[False, False, True, True, True],     # front padding
                     [True, False, True, False, False]])   # a gap and trailing padding
    expected, h_n = keras_gru_reset_before(x, kernel, recurrent_kernel, bias, mask)
    layer = GRU(INPUT, UNITS, reset_after=False, dtype="float64")
    layer.load_state_dict(gru_from_keras(kernel, recurrent_kernel, bias, reset_after=False))
    actual = layer.forward(x, mask=mask)
    np.testing.assert_allclose(actual[mask], expected[mask], rtol=0, atol=1e-12)       # every real step
    np.testing.assert_allclose(layer.h_n[0], h_n, rtol=0, atol=1e-12)                  # the final states
    np.testing.assert_array_equal(actual[~mask], 0)                                    # numrnn: zeros
    np.testing.assert_array_equal(expected[0, :2], 0)                                  # Keras in front: zeros too
    np.testing.assert_array_equal(expected[1, 1], expected[1, 0])                      # Keras after: repeats
    np.testing.assert_array_equal(expected[1, 3], expected[1, 2])
    np.testing.assert_array_equal(expected[1, 4], expected[1, 2])


def test_gru_reorders_gate_blocks_z_r_h_to_r_z_n(rng):
    kernel, recurrent_kernel, bias = hand_built(rng, 3, (2, 3 * UNITS))
    state = gru_from_keras(kernel, recurrent_kernel, bias)
    z, r, h = np.split(kernel.T, 3)
    np.testing.assert_array_equal(state["weight_ih_l0"], np.concatenate([r, z, h]))
    b_z, b_r, b_h = np.split(bias[1], 3)
    np.testing.assert_array_equal(state["bias_hh_l0"], np.concatenate([b_r, b_z, b_h]))


def test_simple_rnn_matches_keras_equations(rng, x):
    kernel, recurrent_kernel, bias = hand_built(rng, 1, (UNITS,))
    expected, _ = keras_simple_rnn(x, kernel, recurrent_kernel, bias)
    layer = numrnn.RNN(INPUT, UNITS, dtype="float64")
    layer.load_state_dict(simple_rnn_from_keras(kernel, recurrent_kernel, bias))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)


def test_stacked_keras_lstms_load_into_one_two_layer_lstm(rng, x):
    first = hand_built(rng, 4, (4 * UNITS,))
    second = (rng.standard_normal((UNITS, 4 * UNITS)), rng.standard_normal((UNITS, 4 * UNITS)),
              rng.standard_normal(4 * UNITS))
    hidden, _, _ = keras_lstm(x, *first)
    expected, _, _ = keras_lstm(hidden, *second)
    layer = LSTM(INPUT, UNITS, num_layers=2, dtype="float64")
    layer.load_state_dict({**lstm_from_keras(*first, layer=0), **lstm_from_keras(*second, layer=1)})
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)


def test_bidirectional_backward_layer_gets_the_reverse_names(rng):
    names = set(lstm_from_keras(*hand_built(rng, 4, (4 * UNITS,)), reverse=True))
    assert names == {"weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"}


def test_no_bias_gives_zero_biases(rng, x):
    kernel, recurrent_kernel, _ = hand_built(rng, 4, (4 * UNITS,))
    state = lstm_from_keras(kernel, recurrent_kernel, None)
    np.testing.assert_array_equal(state["bias_ih_l0"], 0)
    layer = LSTM(INPUT, UNITS, dtype="float64")
    layer.load_state_dict(state)
    expected, _, _ = keras_lstm(x, kernel, recurrent_kernel, np.zeros(4 * UNITS))
    np.testing.assert_allclose(layer.forward(x), expected, rtol=0, atol=1e-12)


def test_gru_one_row_bias_says_it_is_reset_after_false(rng):
    kernel, recurrent_kernel, _ = hand_built(rng, 3, (3 * UNITS,))
    with pytest.raises(ValueError, match=r"shape \(2, 12\).*pass reset_after=False"):
        gru_from_keras(kernel, recurrent_kernel, np.zeros(3 * UNITS))


def test_gru_two_row_bias_says_it_is_reset_after_true(rng):
    kernel, recurrent_kernel, _ = hand_built(rng, 3, (3 * UNITS,))
    with pytest.raises(ValueError, match=r"shape \(12,\).*pass reset_after=True"):
        gru_from_keras(kernel, recurrent_kernel, np.zeros((2, 3 * UNITS)), reset_after=False)


@pytest.mark.parametrize("kernel_shape, recurrent_shape, message", [
    ((INPUT, 3 * UNITS), (UNITS, 4 * UNITS), "kernel.shape\\[1\\] must be equal to 4 \\* units. Expected 16, got 12"),
    ((INPUT, 4 * UNITS), (UNITS, 3 * UNITS), "recurrent_kernel must have shape \\(units, 4 \\* units\\)"),
    ((4 * UNITS,), (UNITS, 4 * UNITS), "kernel must have 2 dimensions"),
])
def test_wrong_shapes_are_refused(kernel_shape, recurrent_shape, message):
    with pytest.raises(ValueError, match=message):
        lstm_from_keras(np.zeros(kernel_shape), np.zeros(recurrent_shape), np.zeros(4 * UNITS))
