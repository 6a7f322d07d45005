"""numrnn.RNN, LSTM and GRU against torch.nn.RNN, LSTM and GRU (batch_first=True): a torch state dict loads
unchanged and gives the same outputs, final states and gradients, for every option, in float64 and float32."""
import numpy as np
import pytest

import numrnn

torch = pytest.importorskip("torch")

INPUT, HIDDEN = 3, 5
# (numrnn layer, torch module, extra arguments both take). GRU(reset_after=False) is not here: torch.nn.GRU has only
# the reset_after=True form. That form equals Recurrent(GRUCell(reset_after=False)) (test_reference.py), whose math
# is written out and gradient-checked in tests/cells/test_cells.py
CELLS = [pytest.param((numrnn.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}), id="RNN-tanh"),
         pytest.param((numrnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}), id="RNN-relu"),
         pytest.param((numrnn.LSTM, torch.nn.LSTM, {}), id="LSTM"),
         pytest.param((numrnn.GRU, torch.nn.GRU, {}), id="GRU")]


def torch_pair(cell, num_layers, bidirectional, bias, dtype):
    """A torch module with torch's own initialisation (nonzero biases) and the numrnn layer loaded from it."""
    layer_class, torch_class, extra = cell
    torch.manual_seed(0)
    reference = torch_class(INPUT, HIDDEN, num_layers=num_layers, bias=bias, bidirectional=bidirectional,
                            batch_first=True, **extra)
    reference = reference.double() if dtype == "float64" else reference.float()
    layer = layer_class(INPUT, HIDDEN, num_layers=num_layers, bias=bias, bidirectional=bidirectional, dtype=dtype,
                        **extra)
    layer.load_state_dict({name: value.detach().numpy() for name, value in reference.state_dict().items()})
    return reference, layer


def initial_states(layer, batch, rng, dtype):
    """(numrnn's h0, torch's h0): arrays, or for the LSTM tuples (h0, c0)."""
    shape = (layer.num_layers * layer.num_directions, batch, HIDDEN)
    states = [rng.standard_normal(shape).astype(dtype) for _ in layer.state_names]
    if len(states) == 1:
        return states[0], torch.tensor(states[0])
    return tuple(states), tuple(torch.tensor(s) for s in states)


def final_states(layer, torch_states):
    """Pairs (numrnn's, torch's) of the final states: h_n, and for the LSTM c_n."""
    if isinstance(torch_states, tuple):
        return [(layer.h_n, torch_states[0]), (layer.c_n, torch_states[1])]
    return [(layer.h_n, torch_states)]


def relative_difference(mine, theirs):
    theirs = theirs.detach().numpy()
    return np.linalg.norm(mine - theirs) / max(np.linalg.norm(theirs), 1e-30)


def assert_gradients_match(layer, reference, grad_x, x_torch, tolerance):
    assert relative_difference(grad_x, x_torch.grad) < tolerance
    for name, parameter in reference.named_parameters():
        assert relative_difference(layer.grads[name], parameter.grad) < tolerance, name


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-4)])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_outputs_and_gradients_match_torch(cell, dtype, tolerance, num_layers, bidirectional, bias):
    reference, layer = torch_pair(cell, num_layers, bidirectional, bias, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, INPUT)).astype(dtype)
    h0, h0_torch = initial_states(layer, 4, rng, dtype)
    grad_out = rng.standard_normal((4, 6, HIDDEN * layer.num_directions)).astype(dtype)

    x_torch = torch.tensor(x, requires_grad=True)
    out_torch, states_torch = reference(x_torch, h0_torch)
    out_torch.backward(torch.tensor(grad_out))
    out = layer.forward(x, h0=h0)
    grad_x = layer.backward(grad_out)

    assert relative_difference(out, out_torch) < tolerance
    for mine, theirs in final_states(layer, states_torch):
        assert relative_difference(mine, theirs) < tolerance
    assert_gradients_match(layer, reference, grad_x, x_torch, tolerance)


@pytest.mark.parametrize("cell", CELLS)
def test_last_output_matches_torch_final_states(cell):
    reference, layer = torch_pair(cell, 2, True, True, "float64")
    layer.return_sequences = False
    rng = np.random.default_rng(3)
    x, grad_out = rng.standard_normal((4, 6, INPUT)), rng.standard_normal((4, 2 * HIDDEN))
    x_torch = torch.tensor(x, requires_grad=True)
    _, states_torch = reference(x_torch)
    h_n_torch = states_torch[0] if isinstance(states_torch, tuple) else states_torch
    last_torch = torch.cat([h_n_torch[2], h_n_torch[3]], dim=-1)  # the last layer's two directions
    last_torch.backward(torch.tensor(grad_out))
    last = layer.forward(x)
    grad_x = layer.backward(grad_out)
    assert relative_difference(last, last_torch) < 1e-10
    assert_gradients_match(layer, reference, grad_x, x_torch, 1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_variable_lengths_match_packed_sequences(cell):
    reference, layer = torch_pair(cell, 2, True, True, "float64")
    rng = np.random.default_rng(2)
    x, lengths = rng.standard_normal((3, 6, INPUT)), np.array([4, 6, 2])
    h0, h0_torch = initial_states(layer, 3, rng, "float64")
    grad_out = rng.standard_normal((3, 6, 2 * HIDDEN))
    grad_out[0, 4:] = 0
    grad_out[2, 2:] = 0

    x_torch = torch.tensor(x, requires_grad=True)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x_torch, torch.tensor(lengths), batch_first=True,
                                                     enforce_sorted=False)
    out_packed, states_torch = reference(packed, h0_torch)
    out_torch, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=6)
    out_torch.backward(torch.tensor(grad_out))
    out = layer.forward(x, h0=h0, lengths=lengths)
    grad_x = layer.backward(grad_out)

    assert relative_difference(out, out_torch) < 1e-10
    for mine, theirs in final_states(layer, states_torch):
        assert relative_difference(mine, theirs) < 1e-10
    assert_gradients_match(layer, reference, grad_x, x_torch, 1e-10)
