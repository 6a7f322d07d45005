"""The Elman RNN layer: exact gradients for every option, truncated BPTT against a brute-force reference,
torch parity, shapes, and errors."""
import numpy as np
import pytest

import numrnn
from numrnn.gradient_check import gradcheck, numerical_gradient, relative_error

NONLINEARITIES = ["tanh", "relu", "sigmoid", "linear"]


def make_rnn(**kwargs):
    defaults = dict(input_size=3, hidden_size=4, dtype="float64")
    defaults.update(kwargs)
    return numrnn.RNN(**defaults)


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_full_bptt_gradients_match_central_differences(nonlinearity, num_layers, return_sequences, bias, rng):
    layer = make_rnn(nonlinearity=nonlinearity, num_layers=num_layers, return_sequences=return_sequences, bias=bias)
    errors = gradcheck(layer, rng.standard_normal((2, 5, 3)))
    assert set(errors) == set(layer.params) | {"input"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("bidirectional", [False, True])
def test_gradients_with_initial_state_and_lengths(bidirectional, rng):
    layer = make_rnn(num_layers=2, bidirectional=bidirectional)
    dirs = 2 if bidirectional else 1
    h0 = rng.standard_normal((2 * dirs, 3, 4))
    errors = gradcheck(layer, rng.standard_normal((3, 6, 3)),
                       forward_kwargs={"h0": h0, "lengths": np.array([6, 2, 4])})
    assert max(errors.values()) < 1e-6, errors


def truncated_reference(layer, x, projection, horizon):
    """Brute force: the output at step t sees the graph from step t - horizon on, with h_{t-horizon-1} a constant.

    Summing central-difference gradients of each step's own term <R_t, h_t> over t gives the truncated gradient
    without using any of the layer's backward code.
    """
    steps = x.shape[1]
    full = layer.forward(x)  # hidden states of the unperturbed model, used as the constant initial states
    hidden_before = {s: (full[:, s - 1] if s > 0 else np.zeros_like(full[:, 0])) for s in range(steps)}
    grads = {name: np.zeros_like(value) for name, value in layer.params.items()}
    grad_x = np.zeros_like(x)
    for t in range(steps):
        if not projection[:, t].any():
            continue
        start = max(0, t - horizon)
        window = x[:, start:t + 1].copy()
        h_start = hidden_before[start][None].copy()

        def term():
            return float(np.sum(layer.forward(window, h0=h_start)[:, -1] * projection[:, t]))

        for name, value in layer.params.items():
            grads[name] += numerical_gradient(term, value)
        grad_x[:, start:t + 1] += numerical_gradient(term, window)
    return grads, grad_x


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid"])
@pytest.mark.parametrize("horizon", [1, 2, 4])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_truncated_bptt_matches_brute_force_reference(nonlinearity, horizon, return_sequences, rng):
    x = rng.standard_normal((2, 7, 3))
    layer = make_rnn(nonlinearity=nonlinearity, bptt_truncate=horizon, return_sequences=return_sequences)
    reference_layer = make_rnn(nonlinearity=nonlinearity)
    reference_layer.load_state_dict(layer.state_dict())
    projection = rng.standard_normal((2, 7, 4))
    if not return_sequences:
        projection[:, :-1] = 0
    output = layer.forward(x)
    grad_x = layer.backward(projection if return_sequences else projection[:, -1])
    ref_grads, ref_grad_x = truncated_reference(reference_layer, x, projection, horizon)
    for name in layer.params:
        assert relative_error(layer.grads[name], ref_grads[name]) < 1e-6, name
    assert relative_error(grad_x, ref_grad_x) < 1e-6
    assert output.shape == ((2, 7, 4) if return_sequences else (2, 4))


def test_truncated_gradient_differs_from_full_when_horizon_is_short(rng):
    x = rng.standard_normal((2, 8, 3))
    full, truncated = make_rnn(), make_rnn(bptt_truncate=2)
    truncated.load_state_dict(full.state_dict())
    grad_out = rng.standard_normal((2, 8, 4))
    for layer in (full, truncated):
        layer.forward(x)
        layer.backward(grad_out)
    assert relative_error(full.grads["weight_hh_l0"], truncated.grads["weight_hh_l0"]) > 1e-3


def test_truncation_as_long_as_the_sequence_is_full_bptt(rng):
    x = rng.standard_normal((2, 6, 3))
    full, truncated = make_rnn(num_layers=2), make_rnn(num_layers=2, bptt_truncate=5)
    truncated.load_state_dict(full.state_dict())
    grad_out = rng.standard_normal((2, 6, 4))
    grads_x = [layer.forward(x) is not None and layer.backward(grad_out) for layer in (full, truncated)]
    np.testing.assert_allclose(grads_x[0], grads_x[1], rtol=1e-12, atol=1e-14)
    for name in full.params:
        np.testing.assert_allclose(full.grads[name], truncated.grads[name], rtol=1e-12, atol=1e-14)


def test_gradients_are_set_not_accumulated(rng):
    layer = make_rnn()
    x, grad_out = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 4))
    layer.forward(x)
    layer.backward(grad_out)
    first = {name: value.copy() for name, value in layer.grads.items()}
    layer.forward(x)
    layer.backward(grad_out)
    for name in first:
        np.testing.assert_array_equal(layer.grads[name], first[name])


def test_backward_never_changes_weights(rng):
    layer = make_rnn()
    before = layer.state_dict()
    layer.forward(rng.standard_normal((2, 5, 3)))
    layer.backward(rng.standard_normal((2, 5, 4)))
    for name, value in layer.params.items():
        np.testing.assert_array_equal(value, before[name])


def test_shapes_and_final_state(rng):
    layer = numrnn.RNN(3, 5, num_layers=2)
    out = layer.forward(rng.standard_normal((4, 7, 3)))
    assert out.shape == (4, 7, 5) and out.dtype == np.float32
    assert layer.h_n.shape == (2, 4, 5)
    np.testing.assert_array_equal(layer.h_n[-1], out[:, -1])
    last = numrnn.RNN(3, 5, return_sequences=False)
    assert last.forward(rng.standard_normal((4, 7, 3))).shape == (4, 5)


def test_parameters_use_torch_names_shapes_and_init_range():
    layer = numrnn.RNN(3, 16, num_layers=2, bidirectional=True)
    shapes = {name: value.shape for name, value in layer.params.items()}
    assert shapes == {
        "weight_ih_l0": (16, 3), "weight_hh_l0": (16, 16), "bias_ih_l0": (16,), "bias_hh_l0": (16,),
        "weight_ih_l0_reverse": (16, 3), "weight_hh_l0_reverse": (16, 16),
        "bias_ih_l0_reverse": (16,), "bias_hh_l0_reverse": (16,),
        "weight_ih_l1": (16, 32), "weight_hh_l1": (16, 16), "bias_ih_l1": (16,), "bias_hh_l1": (16,),
        "weight_ih_l1_reverse": (16, 32), "weight_hh_l1_reverse": (16, 16),
        "bias_ih_l1_reverse": (16,), "bias_hh_l1_reverse": (16,)}
    for value in layer.params.values():
        assert np.abs(value).max() <= 0.25 and np.abs(value).max() > 0.2  # U(-1/sqrt(16), 1/sqrt(16))


def test_same_seed_gives_same_weights():
    numrnn.seed(7)
    first = numrnn.RNN(3, 4).state_dict()
    numrnn.seed(7)
    second = numrnn.RNN(3, 4).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_padded_steps_change_nothing_valid(rng):
    layer = make_rnn(num_layers=2, bidirectional=True)
    x, lengths = rng.standard_normal((3, 6, 3)), np.array([6, 2, 4])
    out = layer.forward(x, lengths=lengths)
    h_n = layer.h_n.copy()
    noisy = x.copy()
    noisy[1, 2:] = 50.0
    noisy[2, 4:] = -7.0
    np.testing.assert_array_equal(layer.forward(noisy, lengths=lengths), out)
    np.testing.assert_array_equal(layer.h_n, h_n)
    assert not out[1, 2:].any() and not out[2, 4:].any()
    alone = layer.forward(x[1:2, :2])
    np.testing.assert_allclose(out[1:2, :2], alone, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h_n[:, 1:2], layer.h_n, rtol=1e-12, atol=1e-15)


# -- errors --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    (dict(input_size=0, hidden_size=4), "input_size must be a positive integer, got 0"),
    (dict(input_size=3, hidden_size=-1), "hidden_size must be a positive integer, got -1"),
    (dict(input_size=3, hidden_size=4, nonlinearity="softplus"), "nonlinearity must be one of"),
    (dict(input_size=3, hidden_size=4, bptt_truncate=0), "bptt_truncate must be a positive integer"),
    (dict(input_size=3, hidden_size=4, dtype="int32"), "dtype must be 'float32' or 'float64'"),
    (dict(input_size=3, hidden_size=4, dropout=1.5), r"dropout must be in \[0, 1\)"),
])
def test_bad_constructor_arguments_raise(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        numrnn.RNN(**kwargs)


def test_wrong_feature_size_names_expected_and_actual(rng):
    with pytest.raises(ValueError, match=r"input_size. Expected 3, got 5"):
        numrnn.RNN(3, 4).forward(rng.standard_normal((2, 4, 5)))


def test_wrong_rank_raises(rng):
    with pytest.raises(ValueError, match=r"x must have 3 dimensions, got 2"):
        numrnn.RNN(3, 4).forward(rng.standard_normal((4, 3)))


def test_bad_h0_shape_raises(rng):
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        numrnn.RNN(3, 4).forward(rng.standard_normal((2, 5, 3)), h0=np.zeros((2, 2, 4)))


def test_lengths_out_of_range_raise(rng):
    with pytest.raises(ValueError, match=r"lengths must be in \[0, 5\]"):
        numrnn.RNN(3, 4).forward(rng.standard_normal((2, 5, 3)), lengths=[5, 6])
    with pytest.raises(ValueError, match=r"lengths must be non-negative, got values from -1 to 5"):
        numrnn.RNN(3, 4).forward(rng.standard_normal((2, 5, 3)), lengths=[5, -1])


def test_backward_with_wrong_shape_raises(rng):
    layer = numrnn.RNN(3, 4)
    layer.forward(rng.standard_normal((2, 5, 3)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of the last output \(2, 5, 4\)"):
        layer.backward(np.zeros((2, 5, 3)))


def test_state_dict_with_missing_unknown_or_misshaped_entries_is_refused():
    layer = numrnn.RNN(3, 4)
    state = layer.state_dict()
    del state["bias_hh_l0"]
    with pytest.raises(ValueError, match=r"missing \['bias_hh_l0'\]"):
        layer.load_state_dict(state)
    state = layer.state_dict()
    state["weight_hh_l1"] = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"unknown \['weight_hh_l1'\]"):
        layer.load_state_dict(state)
    state = layer.state_dict()
    state["weight_ih_l0"] = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"'weight_ih_l0' must have shape \(4, 3\), got \(4, 2\)"):
        layer.load_state_dict(state)
