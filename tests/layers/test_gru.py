"""The GRU layer: exact gradients for every option, variable lengths, dropout, torch parity, shapes and errors."""
import numpy as np
import pytest

from numrnn.gradcheck import gradcheck
from numrnn.layers.gru import GRU

from ._dropout import FixedDropout

INPUT, HIDDEN = 3, 3


def make_gru(**kwargs):
    defaults = dict(input_size=INPUT, hidden_size=HIDDEN, dtype="float64")
    defaults.update(kwargs)
    return GRU(**defaults)


def initial_state(layer, batch, rng):
    return rng.standard_normal((layer.num_layers * layer.num_directions, batch, layer.hidden_size))


# -- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_gradients_match_central_differences(num_layers, bidirectional, bias, return_sequences, rng):
    layer = make_gru(num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                     return_sequences=return_sequences)
    errors = gradcheck(layer, rng.standard_normal((2, 4, INPUT)))
    assert set(errors) == set(layer.params) | {"input"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_gradients_with_initial_state_and_lengths(bidirectional, return_sequences, rng):
    layer = make_gru(num_layers=2, bidirectional=bidirectional, return_sequences=return_sequences)
    errors = gradcheck(layer, rng.standard_normal((3, 5, INPUT)),
                       forward_kwargs={"h0": initial_state(layer, 3, rng), "lengths": np.array([5, 2, 4])})
    assert max(errors.values()) < 1e-6, errors


# -- variable lengths ----------------------------------------------------------------------------------------------
def test_padded_steps_change_nothing_valid(rng):
    layer = make_gru(num_layers=2, bidirectional=True)
    x, lengths = rng.standard_normal((3, 6, INPUT)), np.array([6, 2, 4])
    h0 = initial_state(layer, 3, rng)
    out = layer.forward(x, h0=h0, lengths=lengths)
    h_n = layer.h_n.copy()
    noisy = x.copy()
    noisy[1, 2:] = 50.0
    noisy[2, 4:] = -7.0
    np.testing.assert_array_equal(layer.forward(noisy, h0=h0, lengths=lengths), out)
    np.testing.assert_array_equal(layer.h_n, h_n)
    assert not out[1, 2:].any() and not out[2, 4:].any()


def test_final_state_equals_running_each_sequence_alone(rng):
    layer = make_gru(num_layers=2, bidirectional=True)
    x, lengths = rng.standard_normal((3, 6, INPUT)), np.array([6, 2, 4])
    h0 = initial_state(layer, 3, rng)
    out = layer.forward(x, h0=h0, lengths=lengths)
    h_n = layer.h_n.copy()
    for b, length in enumerate(lengths):
        alone = layer.forward(x[b:b + 1, :length], h0=h0[:, b:b + 1])
        np.testing.assert_allclose(out[b:b + 1, :length], alone, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(h_n[:, b:b + 1], layer.h_n, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("return_sequences", [True, False])
def test_no_gradient_reaches_or_leaves_padded_steps(return_sequences, rng):
    """The state is frozen past a sequence's end; backward needs no mask because dh is zero there. Checked by the
    gradients being those of each sequence run alone, whatever the padded inputs hold."""
    layer = make_gru(num_layers=2, bidirectional=True, return_sequences=return_sequences)
    x, lengths = rng.standard_normal((3, 6, INPUT)), np.array([6, 2, 4])
    h0 = initial_state(layer, 3, rng)
    grad_out = rng.standard_normal((3, 6, 2 * HIDDEN) if return_sequences else (3, 2 * HIDDEN))
    for b, length in enumerate(lengths):
        if return_sequences:
            grad_out[b, length:] = 0  # the padded outputs are constant zeros: their gradient is meaningless
    x[1, 2:] = 30.0  # large padded inputs would saturate the gates if they leaked in
    x[2, 4:] = -30.0
    layer.forward(x, h0=h0, lengths=lengths)
    grad_x = layer.backward(grad_out)
    grads = {name: value.copy() for name, value in layer.grads.items()}
    assert not grad_x[1, 2:].any() and not grad_x[2, 4:].any()

    summed = {name: np.zeros_like(value) for name, value in grads.items()}
    for b, length in enumerate(lengths):
        layer.forward(x[b:b + 1, :length], h0=h0[:, b:b + 1])
        alone_grad_x = layer.backward(grad_out[b:b + 1, :length] if return_sequences else grad_out[b:b + 1])
        np.testing.assert_allclose(grad_x[b:b + 1, :length], alone_grad_x, rtol=1e-10, atol=1e-13)
        for name in summed:
            summed[name] += layer.grads[name]
    for name in grads:
        np.testing.assert_allclose(grads[name], summed[name], rtol=1e-10, atol=1e-13, err_msg=name)


# -- dropout, modes, shapes ------------------------------------------------------------------------------------------
def test_dropout_between_layers_is_active_in_training_only(rng):
    layer = make_gru(num_layers=2, dropout=0.5)
    x = rng.standard_normal((4, 5, INPUT))
    train_out = layer.forward(x)
    layer.eval()
    eval_out = layer.forward(x)
    assert not np.allclose(train_out, eval_out)
    np.testing.assert_array_equal(layer.forward(x), eval_out)


def test_dropout_on_a_single_layer_or_of_zero_does_nothing(rng):
    x = rng.standard_normal((4, 5, INPUT))
    for layer in (make_gru(dropout=0.5), make_gru(num_layers=2, dropout=0.0)):
        train_out = layer.forward(x)
        np.testing.assert_array_equal(layer.eval().forward(x), train_out)


def test_gradients_through_dropout_match_central_differences(rng):
    layer = make_gru(num_layers=2, bidirectional=True, dropout=0.5)
    errors = gradcheck(FixedDropout(layer), rng.standard_normal((2, 4, INPUT)))
    assert max(errors.values()) < 1e-6, errors


def test_shapes_and_final_state(rng):
    layer = GRU(3, 5, num_layers=2, bidirectional=True)
    out = layer.forward(rng.standard_normal((4, 7, 3)))
    assert out.shape == (4, 7, 10) and out.dtype == np.float32
    assert layer.h_n.shape == (4, 4, 5)
    np.testing.assert_array_equal(layer.h_n[2], out[:, -1, :5])  # last layer, forward direction
    np.testing.assert_array_equal(layer.h_n[3], out[:, 0, 5:])   # last layer, reverse direction
    last = GRU(3, 5, num_layers=2, bidirectional=True, return_sequences=False)
    last_out = last.forward(rng.standard_normal((4, 7, 3)))
    assert last_out.shape == (4, 10)
    np.testing.assert_array_equal(last_out, np.concatenate([last.h_n[2], last.h_n[3]], axis=-1))


def test_parameters_use_torch_names_and_shapes():
    layer = GRU(3, 16, num_layers=2, bidirectional=True, bias=False)
    shapes = {name: value.shape for name, value in layer.params.items()}
    assert shapes == {
        "weight_ih_l0": (48, 3), "weight_hh_l0": (48, 16), "weight_ih_l0_reverse": (48, 3),
        "weight_hh_l0_reverse": (48, 16), "weight_ih_l1": (48, 32), "weight_hh_l1": (48, 16),
        "weight_ih_l1_reverse": (48, 32), "weight_hh_l1_reverse": (48, 16)}


def test_bad_h0_shape_raises(rng):
    with pytest.raises(ValueError, match=r"h0 must have shape \(1, 2, 4\)"):
        GRU(3, 4).forward(rng.standard_normal((2, 5, 3)), h0=np.zeros((1, 3, 4)))


def test_repeated_backward_gives_the_same_gradients(rng):
    layer = make_gru(bidirectional=True)
    x, grad_out = rng.standard_normal((2, 5, INPUT)), rng.standard_normal((2, 5, 2 * HIDDEN))
    layer.forward(x)
    first_x = layer.backward(grad_out)
    first = {name: value.copy() for name, value in layer.grads.items()}
    np.testing.assert_array_equal(layer.backward(grad_out), first_x)
    for name in first:
        np.testing.assert_array_equal(layer.grads[name], first[name])


def test_saturated_gates_stay_finite_without_overflow(rng):
    layer = GRU(3, 4, num_layers=2, bidirectional=True)  # float32, where exp(-z) overflows from |z| ~ 89
    x = (rng.standard_normal((2, 5, 3)) * 1e4).astype(np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = layer.forward(x)
        grad_x = layer.backward(np.ones_like(out))
    assert np.isfinite(out).all() and np.isfinite(grad_x).all()
    assert all(np.isfinite(grad).all() for grad in layer.grads.values())


# -- torch parity ----------------------------------------------------------------------------------------------------
def torch_pair(torch, num_layers, bidirectional, bias, dtype):
    torch.manual_seed(0)
    reference = torch.nn.GRU(INPUT, 5, num_layers=num_layers, bias=bias, bidirectional=bidirectional,
                              batch_first=True)
    reference = reference.double() if dtype == "float64" else reference.float()
    layer = GRU(INPUT, 5, num_layers=num_layers, bias=bias, bidirectional=bidirectional, dtype=dtype)
    layer.load_state_dict({k: v.detach().numpy() for k, v in reference.state_dict().items()})
    return reference, layer


def relative_difference(mine, theirs):
    theirs = theirs.detach().numpy()
    return np.linalg.norm(mine - theirs) / max(np.linalg.norm(theirs), 1e-30)


# every option in float64; float32 (one rounding model, same code) on the layer shapes only
PARITY_CASES = ([("float64", 1e-10, layers, bidirectional, bias)
                 for layers in (1, 2) for bidirectional in (False, True) for bias in (True, False)]
                + [("float32", 1e-4, layers, bidirectional, True)
                   for layers in (1, 2) for bidirectional in (False, True)])


@pytest.mark.parametrize("dtype, tolerance, num_layers, bidirectional, bias", PARITY_CASES)
def test_outputs_and_gradients_match_torch(dtype, tolerance, num_layers, bidirectional, bias):
    torch = pytest.importorskip("torch")
    reference, layer = torch_pair(torch, num_layers, bidirectional, bias, dtype)
    rng = np.random.default_rng(1)
    dirs = 2 if bidirectional else 1
    x = rng.standard_normal((4, 6, INPUT)).astype(dtype)
    h0 = rng.standard_normal((num_layers * dirs, 4, 5)).astype(dtype)
    grad_out = rng.standard_normal((4, 6, 5 * dirs)).astype(dtype)

    x_torch = torch.tensor(x, requires_grad=True)
    out_torch, h_n_torch = reference(x_torch, torch.tensor(h0))
    out_torch.backward(torch.tensor(grad_out))
    out = layer.forward(x, h0=h0)
    grad_x = layer.backward(grad_out)

    assert relative_difference(out, out_torch) < tolerance
    assert relative_difference(layer.h_n, h_n_torch) < tolerance
    assert relative_difference(grad_x, x_torch.grad) < tolerance
    for name, parameter in reference.named_parameters():
        assert relative_difference(layer.grads[name], parameter.grad) < tolerance, name


def test_last_output_matches_torch_final_states():
    torch = pytest.importorskip("torch")
    reference, layer = torch_pair(torch, 2, True, True, "float64")
    layer.return_sequences = False
    rng = np.random.default_rng(3)
    x, grad_out = rng.standard_normal((4, 6, INPUT)), rng.standard_normal((4, 10))
    x_torch = torch.tensor(x, requires_grad=True)
    _, h_n_torch = reference(x_torch)
    last_torch = torch.cat([h_n_torch[2], h_n_torch[3]], dim=-1)
    last_torch.backward(torch.tensor(grad_out))
    last = layer.forward(x)
    grad_x = layer.backward(grad_out)
    assert relative_difference(last, last_torch) < 1e-10
    assert relative_difference(grad_x, x_torch.grad) < 1e-10
    for name, parameter in reference.named_parameters():
        assert relative_difference(layer.grads[name], parameter.grad) < 1e-10, name


def test_variable_lengths_match_packed_sequences():
    torch = pytest.importorskip("torch")
    reference, layer = torch_pair(torch, 2, True, True, "float64")
    rng = np.random.default_rng(2)
    x, lengths = rng.standard_normal((3, 6, INPUT)), np.array([4, 6, 2])
    h0 = rng.standard_normal((4, 3, 5))
    grad_out = rng.standard_normal((3, 6, 10))
    grad_out[0, 4:] = 0
    grad_out[2, 2:] = 0

    x_torch = torch.tensor(x, requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x_torch, torch.tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    out_packed, h_n_torch = reference(packed, torch.tensor(h0))
    out_torch, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=6)
    out_torch.backward(torch.tensor(grad_out))
    out = layer.forward(x, h0=h0, lengths=lengths)
    grad_x = layer.backward(grad_out)

    assert relative_difference(out, out_torch) < 1e-10
    assert relative_difference(layer.h_n, h_n_torch) < 1e-10
    assert relative_difference(grad_x, x_torch.grad) < 1e-10
    for name, parameter in reference.named_parameters():
        assert relative_difference(layer.grads[name], parameter.grad) < 1e-10, name
