"""The LSTM and GRU layers, each test run on both: exact gradients for every option, variable lengths, dropout,
shapes, names and errors. Their parity with torch is in test_torch_parity.py (with the Elman RNN's)."""
import functools

import numpy as np
import pytest

from numrnn.gradient_check import gradcheck
from numrnn.layers.gru import GRU
from numrnn.layers.lstm import LSTM

from ._dropout import FixedDropout

INPUT, HIDDEN = 3, 3
CELLS = [pytest.param(LSTM, id="LSTM"), pytest.param(GRU, id="GRU"),
         pytest.param(functools.partial(GRU, reset_after=False), id="GRU-reset_before")]


def make(cell, **kwargs):
    return cell(**{"input_size": INPUT, "hidden_size": HIDDEN, "dtype": "float64", **kwargs})


def initial_states(layer, batch, rng):
    """h0 as forward takes it: an array, or for the LSTM the tuple (h0, c0)."""
    shape = (layer.num_layers * layer.num_directions, batch, layer.hidden_size)
    states = tuple(rng.standard_normal(shape) for _ in layer.state_names)
    return states if len(states) > 1 else states[0]


def sequence_states(h0, b):
    """The initial states of sequence b alone."""
    return tuple(s[:, b:b + 1] for s in h0) if isinstance(h0, tuple) else h0[:, b:b + 1]


def padded_case(cell, rng, **kwargs):
    """A 2-layer bidirectional layer, three sequences of lengths 6, 2 and 4 padded to 6 steps, and random h0."""
    layer = make(cell, num_layers=2, bidirectional=True, **kwargs)
    x, lengths = rng.standard_normal((3, 6, INPUT)), np.array([6, 2, 4])
    return layer, x, lengths, initial_states(layer, 3, rng)


def final_states(layer):
    """Copies of h_n (and the LSTM's c_n) after the last forward."""
    return [layer.h_n.copy()] + ([layer.c_n.copy()] if getattr(layer, "c_n", None) is not None else [])


# -- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_gradients_match_central_differences(cell, num_layers, bidirectional, bias, return_sequences, rng):
    layer = make(cell, num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                 return_sequences=return_sequences)
    errors = gradcheck(layer, rng.standard_normal((2, 4, INPUT)))
    assert set(errors) == set(layer.params) | {"input"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_gradients_with_initial_states_and_lengths(cell, bidirectional, return_sequences, rng):
    layer = make(cell, num_layers=2, bidirectional=bidirectional, return_sequences=return_sequences)
    errors = gradcheck(layer, rng.standard_normal((3, 5, INPUT)),
                       forward_kwargs={"h0": initial_states(layer, 3, rng), "lengths": np.array([5, 2, 4])})
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", CELLS)
def test_gradients_through_dropout_match_central_differences(cell, rng):
    layer = make(cell, num_layers=2, bidirectional=True, dropout=0.5)
    errors = gradcheck(FixedDropout(layer), rng.standard_normal((2, 4, INPUT)))
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", CELLS)
def test_repeated_backward_gives_the_same_gradients(cell, rng):
    layer = make(cell, bidirectional=True)
    x, grad_out = rng.standard_normal((2, 5, INPUT)), rng.standard_normal((2, 5, 2 * HIDDEN))
    layer.forward(x)
    first_x = layer.backward(grad_out)
    first = {name: value.copy() for name, value in layer.grads.items()}
    np.testing.assert_array_equal(layer.backward(grad_out), first_x)
    for name in first:
        np.testing.assert_array_equal(layer.grads[name], first[name])


@pytest.mark.parametrize("cell", CELLS)
def test_saturated_gates_stay_finite_without_overflow(cell, rng):
    layer = cell(3, 4, num_layers=2, bidirectional=True)  # float32, where exp(-z) overflows from |z| ~ 89
    x = (rng.standard_normal((2, 5, 3)) * 1e4).astype(np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = layer.forward(x)
        grad_x = layer.backward(np.ones_like(out))
    assert np.isfinite(out).all() and np.isfinite(grad_x).all()
    assert all(np.isfinite(grad).all() for grad in layer.grads.values())


# -- variable lengths ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_padded_steps_change_nothing_valid(cell, rng):
    layer, x, lengths, h0 = padded_case(cell, rng)
    out = layer.forward(x, h0=h0, lengths=lengths)
    states = final_states(layer)
    noisy = x.copy()
    noisy[1, 2:] = 50.0
    noisy[2, 4:] = -7.0
    np.testing.assert_array_equal(layer.forward(noisy, h0=h0, lengths=lengths), out)
    for state, noisy_state in zip(states, final_states(layer)):
        np.testing.assert_array_equal(noisy_state, state)
    assert not out[1, 2:].any() and not out[2, 4:].any()


@pytest.mark.parametrize("cell", CELLS)
def test_final_states_equal_running_each_sequence_alone(cell, rng):
    layer, x, lengths, h0 = padded_case(cell, rng)
    out = layer.forward(x, h0=h0, lengths=lengths)
    states = final_states(layer)
    for b, length in enumerate(lengths):
        alone = layer.forward(x[b:b + 1, :length], h0=sequence_states(h0, b))
        np.testing.assert_allclose(out[b:b + 1, :length], alone, rtol=1e-12, atol=1e-15)
        for state, alone_state in zip(states, final_states(layer)):
            np.testing.assert_allclose(state[:, b:b + 1], alone_state, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_no_gradient_reaches_or_leaves_padded_steps(cell, return_sequences, rng):
    """The state is frozen past a sequence's end; backward needs no mask because dh (and the LSTM's dc) are zero
    there. Checked by the gradients being those of each sequence run alone, whatever the padded inputs hold."""
    layer, x, lengths, h0 = padded_case(cell, rng, return_sequences=return_sequences)
    grad_out = rng.standard_normal((3, 6, 2 * HIDDEN) if return_sequences else (3, 2 * HIDDEN))
    for b, length in enumerate(lengths):
        if return_sequences:
            grad_out[b, length:] = 0  # the padded outputs are constant zeros: their gradient is meaningless
    x[1, 2:] = 30.0  # large padded inputs would saturate the gates (and blow up an LSTM's c) if they leaked in
    x[2, 4:] = -30.0
    layer.forward(x, h0=h0, lengths=lengths)
    grad_x = layer.backward(grad_out)
    grads = {name: value.copy() for name, value in layer.grads.items()}
    assert not grad_x[1, 2:].any() and not grad_x[2, 4:].any()

    summed = {name: np.zeros_like(value) for name, value in grads.items()}
    for b, length in enumerate(lengths):
        layer.forward(x[b:b + 1, :length], h0=sequence_states(h0, b))
        alone_grad_x = layer.backward(grad_out[b:b + 1, :length] if return_sequences else grad_out[b:b + 1])
        np.testing.assert_allclose(grad_x[b:b + 1, :length], alone_grad_x, rtol=1e-10, atol=1e-13)
        for name in summed:
            summed[name] += layer.grads[name]
    for name in grads:
        np.testing.assert_allclose(grads[name], summed[name], rtol=1e-10, atol=1e-13, err_msg=name)


# -- dropout, shapes, names, errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_dropout_between_layers_is_active_in_training_only(cell, rng):
    layer = make(cell, num_layers=2, dropout=0.5)
    x = rng.standard_normal((4, 5, INPUT))
    train_out = layer.forward(x)
    layer.eval()
    eval_out = layer.forward(x)
    assert not np.allclose(train_out, eval_out)
    np.testing.assert_array_equal(layer.forward(x), eval_out)


@pytest.mark.parametrize("cell", CELLS)
def test_dropout_on_a_single_layer_or_of_zero_does_nothing(cell, rng):
    x = rng.standard_normal((4, 5, INPUT))
    for layer in (make(cell, dropout=0.5), make(cell, num_layers=2, dropout=0.0)):
        train_out = layer.forward(x)
        np.testing.assert_array_equal(layer.eval().forward(x), train_out)


@pytest.mark.parametrize("cell", CELLS)
def test_shapes_and_final_states(cell, rng):
    layer = cell(3, 5, num_layers=2, bidirectional=True)
    out = layer.forward(rng.standard_normal((4, 7, 3)))
    assert out.shape == (4, 7, 10) and out.dtype == np.float32
    assert all(state.shape == (4, 4, 5) for state in final_states(layer))
    np.testing.assert_array_equal(layer.h_n[2], out[:, -1, :5])  # last layer, forward direction
    np.testing.assert_array_equal(layer.h_n[3], out[:, 0, 5:])   # last layer, reverse direction
    last = cell(3, 5, num_layers=2, bidirectional=True, return_sequences=False)
    last_out = last.forward(rng.standard_normal((4, 7, 3)))
    assert last_out.shape == (4, 10)
    np.testing.assert_array_equal(last_out, np.concatenate([last.h_n[2], last.h_n[3]], axis=-1))


@pytest.mark.parametrize("cell, gates", [pytest.param(LSTM, 4, id="LSTM"), pytest.param(GRU, 3, id="GRU")])
def test_parameters_use_torch_names_and_shapes(cell, gates):
    layer = cell(3, 16, num_layers=2, bidirectional=True, bias=False)
    shapes = {name: value.shape for name, value in layer.params.items()}
    rows = gates * 16
    assert shapes == {
        "weight_ih_l0": (rows, 3), "weight_hh_l0": (rows, 16), "weight_ih_l0_reverse": (rows, 3),
        "weight_hh_l0_reverse": (rows, 16), "weight_ih_l1": (rows, 32), "weight_hh_l1": (rows, 16),
        "weight_ih_l1_reverse": (rows, 32), "weight_hh_l1_reverse": (rows, 16)}


def test_lstm_h0_must_be_a_tuple_of_h0_and_c0(rng):
    with pytest.raises(TypeError, match=r"h0 must be a tuple \('h0', 'c0'\)"):
        LSTM(3, 4).forward(rng.standard_normal((2, 5, 3)), h0=np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"c0 must have shape \(1, 2, 4\)"):
        LSTM(3, 4).forward(rng.standard_normal((2, 5, 3)), h0=(np.zeros((1, 2, 4)), np.zeros((1, 3, 4))))


def test_gru_bad_h0_shape_raises(rng):
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        GRU(3, 4).forward(rng.standard_normal((2, 5, 3)), h0=np.zeros((1, 3, 4)))
