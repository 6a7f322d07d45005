"""numrnn.cells against torch.nn.RNNCell, LSTMCell and GRUCell: a torch cell's state dict loads unchanged and gives
the same output, new states and gradients (of every parameter, of x and of each state), in float64 and float32;
and numrnn.seed gives a cell the same weights as the fast layer of the same kind."""
import numpy as np
import pytest

import numrnn
from numrnn.cells import GRUCell, LSTMCell, RNNCell

torch = pytest.importorskip("torch")

INPUT, HIDDEN, BATCH = 3, 5, 4
# (numrnn cell, torch cell, arguments both take); GRUCell(reset_after=False) has no torch counterpart (torch's GRUCell
# is reset_after=True's form only): its gradients are checked by central differences and its math written out in
# test_cells.py
CELLS = [pytest.param((RNNCell, torch.nn.RNNCell, {"nonlinearity": "tanh"}), id="RNNCell-tanh"),
         pytest.param((RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}), id="RNNCell-relu"),
         pytest.param((LSTMCell, torch.nn.LSTMCell, {}), id="LSTMCell"),
         pytest.param((GRUCell, torch.nn.GRUCell, {}), id="GRUCell")]


def torch_pair(cell, bias, dtype):
    """A torch cell with torch's own initialisation and the numrnn cell loaded from its state dict as it is."""
    cell_class, torch_class, extra = cell
    torch.manual_seed(0)
    reference = torch_class(INPUT, HIDDEN, bias=bias, **extra)
    reference = reference.double() if dtype == "float64" else reference.float()
    mine = cell_class(INPUT, HIDDEN, bias=bias, dtype=dtype, **extra)
    mine.load_state_dict({name: value.detach().numpy() for name, value in reference.state_dict().items()})
    return reference, mine


def torch_step(reference, x, state):
    """torch's (output, new_state) in numrnn's layout: the LSTM's (h, c), the others' h alone."""
    if isinstance(reference, torch.nn.LSTMCell):
        hidden, cell = reference(x, state)
        return hidden, (hidden, cell)
    hidden = reference(x, state[0])
    return hidden, (hidden,)


def relative_difference(mine, theirs):
    theirs = theirs.detach().numpy()
    return np.linalg.norm(mine - theirs) / max(np.linalg.norm(theirs), 1e-30)


def compare_step(cell, bias, dtype, seed=0):
    """{what: relative difference between numrnn's and torch's}, for the output, each new state and the gradients
    of every parameter, of x and of each state, after one step and one backward with random incoming gradients."""
    reference, mine = torch_pair(cell, bias, dtype)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, INPUT)).astype(dtype)
    state = tuple(rng.standard_normal((BATCH, width)).astype(dtype) for width in mine.state_size)
    x_torch = torch.tensor(x, requires_grad=True)
    state_torch = tuple(torch.tensor(s, requires_grad=True) for s in state)

    output, new_state, cache = mine.forward(x, state)
    output_torch, new_state_torch = torch_step(reference, x_torch, state_torch)
    grad_output = rng.standard_normal(output.shape).astype(dtype)
    grad_new_state = tuple(rng.standard_normal(s.shape).astype(dtype) for s in new_state)
    mine.zero_grad()
    grad_x, grad_state = mine.backward(grad_output, grad_new_state, cache)
    # the same scalar in torch: sum(output * grad_output) + sum_k sum(new_state[k] * grad_new_state[k])
    scalar = sum(torch.sum(value * torch.tensor(grad))
                 for value, grad in zip((output_torch, *new_state_torch), (grad_output, *grad_new_state)))
    scalar.backward()

    differences = {"output": relative_difference(output, output_torch),
                   "grad x": relative_difference(grad_x, x_torch.grad)}
    for k in range(len(state)):
        differences[f"new_state[{k}]"] = relative_difference(new_state[k], new_state_torch[k])
        differences[f"grad state[{k}]"] = relative_difference(grad_state[k], state_torch[k].grad)
    for name, parameter in reference.named_parameters():
        differences[f"grad {name}"] = relative_difference(mine.grads[name], parameter.grad)
    return differences


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype, tolerance", [("float64", 1e-10), ("float32", 1e-4)])
def test_a_step_and_its_gradients_equal_torchs(cell, bias, dtype, tolerance):
    differences = compare_step(cell, bias, dtype)
    expected_states = 2 if cell[0] is LSTMCell else 1
    assert len(differences) == 2 + 2 * expected_states + (4 if bias else 2)
    assert max(differences.values()) < tolerance, differences


@pytest.mark.parametrize("cell_class, layer_class", [(RNNCell, numrnn.RNN), (LSTMCell, numrnn.LSTM),
                                                     (GRUCell, numrnn.GRU)])
@pytest.mark.parametrize("bias", [True, False])
def test_the_same_seed_gives_a_cell_the_fast_layers_weights(cell_class, layer_class, bias):
    numrnn.seed(7)
    layer = layer_class(INPUT, HIDDEN, bias=bias)
    numrnn.seed(7)
    cell = cell_class(INPUT, HIDDEN, bias=bias)
    assert set(layer.params) == {f"{name}_l0" for name in cell.params}
    for name, value in cell.params.items():
        np.testing.assert_array_equal(value, layer.params[f"{name}_l0"], err_msg=name)
