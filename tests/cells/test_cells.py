"""The reference cells (numrnn.cells): exact gradients of every cell and option, and the contract of Cell, which a
user's own cell keeps too. Their parity with torch's cells is in test_cells_torch.py."""
import numpy as np
import pytest

import numrnn
from numrnn.cells import Cell, GRUCell, LSTMCell, RNNCell
from numrnn.gradient_check import gradcheck

INPUT, HIDDEN, BATCH = 3, 4, 2
OPTIONS = ([pytest.param(RNNCell, {"nonlinearity": act, "bias": bias}, id=f"RNNCell-{act}-bias{bias}")
            for act in ("tanh", "sigmoid", "relu", "linear") for bias in (True, False)]
           + [pytest.param(cell, {"bias": bias}, id=f"{cell.__name__}-bias{bias}")
              for cell in (LSTMCell, GRUCell) for bias in (True, False)]
           + [pytest.param(GRUCell, {"bias": bias, "reset_after": False}, id=f"GRUCell-reset_before-bias{bias}")
              for bias in (True, False)])
CELLS = [pytest.param(RNNCell, id="RNNCell"), pytest.param(LSTMCell, id="LSTMCell"),
         pytest.param(GRUCell, id="GRUCell")]
GATES = {RNNCell: 1, LSTMCell: 4, GRUCell: 3}


class LeakyCell(Cell):
    """A user's cell with one parameter: new_hidden = decay * hidden + x (input_size == hidden_size)."""

    def __init__(self, input_size, hidden_size, *, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        if input_size != hidden_size:
            raise ValueError("LeakyCell needs input_size == hidden_size")
        self.add_param("decay", np.full(hidden_size, 0.9))

    def forward(self, x, state):
        new_hidden = self.params["decay"] * state[0] + x
        return new_hidden, (new_hidden,), state[0]

    def backward(self, grad_output, grad_new_state, hidden):
        grad_h = grad_output + grad_new_state[0]
        self.grads["decay"] += (grad_h * hidden).sum(axis=0)
        return grad_h, (grad_h * self.params["decay"],)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "dtype": np.dtype(self.dtype).name}


def make(cell, dtype="float64", **kwargs):
    return cell(INPUT, HIDDEN, dtype=dtype, **kwargs)


def step_inputs(cell, rng, batch=BATCH):
    x = rng.standard_normal((batch, cell.input_size)).astype(cell.dtype)
    state = tuple(rng.standard_normal((batch, width)).astype(cell.dtype) for width in cell.state_size)
    return x, state


def random_grads(rng, output, new_state):
    """(grad_output, grad_new_state) of random normal values shaped like the step's results."""
    return rng.standard_normal(output.shape), tuple(rng.standard_normal(s.shape) for s in new_state)


# -- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, options", OPTIONS)
def test_gradients_match_central_differences(cell, options, rng):
    layer = make(cell, **options)
    errors = gradcheck(layer, rng.standard_normal((3, INPUT)))
    states = {f"state{k}" for k in range(len(layer.state_size))}
    assert set(errors) == set(layer.params) | {"input"} | states
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("bias", [True, False])
def test_gru_reset_after_false_applies_the_reset_gate_before_the_recurrent_product(bias, rng):
    """Keras's reset_after=False (ONNX's linear_before_reset=0), written out: n = tanh(W_in x + b_in +
    W_hn (r * h) + b_hn). reset_after=True differs exactly there: r * (W_hn h + b_hn)."""
    before, after = make(GRUCell, bias=bias, reset_after=False), make(GRUCell, bias=bias)
    after.load_state_dict(before.state_dict())
    x, (hidden,) = step_inputs(before, rng)
    W_ir, W_iz, W_in = np.split(before.params["weight_ih"], 3)
    W_hr, W_hz, W_hn = np.split(before.params["weight_hh"], 3)
    zeros = np.zeros(3 * HIDDEN)
    b_ir, b_iz, b_in = np.split(before.params.get("bias_ih", zeros), 3)
    b_hr, b_hz, b_hn = np.split(before.params.get("bias_hh", zeros), 3)
    r = 1 / (1 + np.exp(-(x @ W_ir.T + b_ir + hidden @ W_hr.T + b_hr)))
    z = 1 / (1 + np.exp(-(x @ W_iz.T + b_iz + hidden @ W_hz.T + b_hz)))
    n_before = np.tanh(x @ W_in.T + b_in + (r * hidden) @ W_hn.T + b_hn)
    n_after = np.tanh(x @ W_in.T + b_in + r * (hidden @ W_hn.T + b_hn))
    np.testing.assert_allclose(before.forward(x, (hidden,))[0], (1 - z) * n_before + z * hidden, rtol=1e-12)
    np.testing.assert_allclose(after.forward(x, (hidden,))[0], (1 - z) * n_after + z * hidden, rtol=1e-12)
    assert not np.allclose(n_before, n_after)


def test_gradcheck_takes_the_state_and_needs_float64(rng):
    cell = make(LSTMCell)
    state = (rng.standard_normal((2, HIDDEN)), rng.standard_normal((2, HIDDEN)))
    errors = gradcheck(cell, rng.standard_normal((2, INPUT)), state=state)
    assert max(errors.values()) < 1e-6, errors
    assert set(gradcheck(cell, rng.standard_normal((2, INPUT)), check_input=False)) == set(cell.params)
    with pytest.raises(ValueError, match="float64 cells"):
        gradcheck(make(GRUCell, dtype="float32"), rng.standard_normal((2, INPUT)))
    with pytest.raises(TypeError, match="state is for a cell"):
        gradcheck(numrnn.RNN(INPUT, HIDDEN, dtype="float64"), rng.standard_normal((2, 3, INPUT)), state=state)


def test_a_users_cell_passes_the_same_gradient_check(rng):
    cell = LeakyCell(HIDDEN, HIDDEN, dtype="float64")
    errors = gradcheck(cell, rng.standard_normal((3, HIDDEN)))
    assert set(errors) == {"decay", "input", "state0"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("cell", CELLS)
def test_backward_adds_into_the_gradients(cell, rng):
    layer = make(cell)
    x, state = step_inputs(layer, rng)
    output, new_state, cache = layer.forward(x, state)
    grad_output, grad_new_state = random_grads(rng, output, new_state)
    first_x, first_state = layer.backward(grad_output, grad_new_state, cache)
    once = {name: grad.copy() for name, grad in layer.grads.items()}
    second_x, second_state = layer.backward(grad_output, grad_new_state, cache)
    for name, grad in layer.grads.items():
        np.testing.assert_allclose(grad, 2 * once[name], rtol=1e-14, atol=1e-14, err_msg=name)
    np.testing.assert_array_equal(first_x, second_x)  # the input's gradient is returned, not accumulated
    for first, second in zip(first_state, second_state):
        np.testing.assert_array_equal(first, second)
    layer.zero_grad()
    assert all(not grad.any() for grad in layer.grads.values())


# -- the contract --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cell, states", [(RNNCell, 1), (LSTMCell, 2), (GRUCell, 1)])
def test_sizes_names_and_shapes_are_torchs(cell, states):
    layer = cell(INPUT, HIDDEN)
    assert layer.state_size == (HIDDEN,) * states and layer.output_size == HIDDEN
    rows = GATES[cell] * HIDDEN
    shapes = {"weight_ih": (rows, INPUT), "weight_hh": (rows, HIDDEN), "bias_ih": (rows,), "bias_hh": (rows,)}
    for parts in (layer.params, layer.grads, layer.state_dict()):
        assert {name: value.shape for name, value in parts.items()} == shapes
        assert all(value.dtype == np.float32 for value in parts.values())
    assert set(cell(INPUT, HIDDEN, bias=False).params) == {"weight_ih", "weight_hh"}
    bound = 1 / np.sqrt(HIDDEN)
    assert all(np.abs(value).max() <= bound for value in layer.params.values())


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_leaves_its_inputs_alone_and_returns_fresh_arrays(cell, dtype, rng):
    layer = make(cell, dtype=dtype)
    x, state = step_inputs(layer, rng)
    saved = [x.copy()] + [s.copy() for s in state]
    output, new_state, cache = layer.forward(x, state)
    for before, after in zip(saved, (x, *state)):
        np.testing.assert_array_equal(before, after)
    assert output.shape == (BATCH, layer.output_size) and output.dtype == dtype
    assert isinstance(new_state, tuple) and [s.shape for s in new_state] == [s.shape for s in state]
    assert all(s.dtype == dtype for s in new_state)
    for result in (output, *new_state):
        assert not any(np.shares_memory(result, given) for given in (x, *state))
        assert not any(np.shares_memory(result, param) for param in layer.params.values())
    grad_output, grad_new_state = random_grads(rng, output, new_state)
    grad_output, grad_new_state = grad_output.astype(dtype), tuple(g.astype(dtype) for g in grad_new_state)
    saved = [grad_output.copy()] + [g.copy() for g in grad_new_state]
    grad_x, grad_state = layer.backward(grad_output, grad_new_state, cache)
    for before, after in zip(saved, (grad_output, *grad_new_state)):
        np.testing.assert_array_equal(before, after)
    assert grad_x.shape == x.shape and grad_x.dtype == dtype
    assert isinstance(grad_state, tuple) and [g.shape for g in grad_state] == [s.shape for s in state]


@pytest.mark.parametrize("cell", CELLS)
def test_initial_state_is_zeros_in_the_cells_dtype(cell):
    layer = cell(INPUT, HIDDEN, dtype="float64")
    state = layer.initial_state(5)
    assert isinstance(state, tuple) and len(state) == len(layer.state_size)
    for array, width in zip(state, layer.state_size):
        assert array.shape == (5, width) and array.dtype == np.float64 and not array.any()
    layer.check_step(np.zeros((5, INPUT)), state)
    with pytest.raises(ValueError, match="batch must be a positive integer, got 0"):
        layer.initial_state(0)


def test_check_step_names_the_argument_the_expected_and_the_actual():
    cell = LSTMCell(5, HIDDEN)
    x, state = np.zeros((2, 5), np.float32), cell.initial_state(2)
    cell.check_step(x, state)
    with pytest.raises(ValueError, match=r"x.shape\[-1\] must be equal to input_size. Expected 5, got 4"):
        cell.check_step(np.zeros((2, 4), np.float32), state)
    with pytest.raises(ValueError, match=r"x must have 2 dimensions \(batch, input_size\), got 3"):
        cell.check_step(np.zeros((2, 1, 5), np.float32), state)
    with pytest.raises(ValueError, match=r"len\(state\) must be equal to len\(state_size\). Expected 2, got 1"):
        cell.check_step(x, state[:1])
    with pytest.raises(TypeError, match="state must be a tuple of 2 array"):
        cell.check_step(x, state[0])
    with pytest.raises(ValueError, match=r"state\[1\].shape must be equal to \(batch, state_size\[1\]\). "
                                         r"Expected \(2, 4\), got \(2, 3\)"):
        cell.check_step(x, (state[0], np.zeros((2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"state\[0\].shape .* Expected \(2, 4\), got \(3, 4\)"):
        cell.check_step(x, (np.zeros((3, HIDDEN), np.float32), state[1]))
    with pytest.raises(TypeError, match="x.dtype must be equal to the cell's dtype. Expected float32, got float64"):
        cell.check_step(np.zeros((2, 5)), state)
    with pytest.raises(TypeError, match=r"state\[0\] must be a NumPy array, got list"):
        cell.check_step(x, ([[0.0] * HIDDEN] * 2, state[1]))


def test_options_are_keyword_only_and_checked():
    with pytest.raises(TypeError):
        RNNCell(INPUT, HIDDEN, "relu")
    with pytest.raises(TypeError):
        LSTMCell(INPUT, HIDDEN, False)
    with pytest.raises(ValueError, match="nonlinearity must be one of"):
        RNNCell(INPUT, HIDDEN, nonlinearity="softplus")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        GRUCell(INPUT, 0)
    with pytest.raises(ValueError, match="dtype must be"):
        GRUCell(INPUT, HIDDEN, dtype="float16")


@pytest.mark.parametrize("cell, options, config", [
    (RNNCell, {"nonlinearity": "relu", "bias": False},
     {"input_size": 3, "hidden_size": 3, "nonlinearity": "relu", "bias": False, "dtype": "float32"}),
    (LSTMCell, {"bias": False}, {"input_size": 3, "hidden_size": 3, "bias": False, "dtype": "float32"}),
    (GRUCell, {"dtype": "float64"},
     {"input_size": 3, "hidden_size": 3, "bias": True, "reset_after": True, "dtype": "float64"}),
    (GRUCell, {"reset_after": False},
     {"input_size": 3, "hidden_size": 3, "bias": True, "reset_after": False, "dtype": "float32"}),
    (LeakyCell, {}, {"input_size": 3, "hidden_size": 3, "dtype": "float32"})])
def test_config_from_config_clone_and_repr(cell, options, config, rng):
    layer = cell(3, 3, **options)
    assert layer.config() == config
    rebuilt = cell.from_config(config)
    assert rebuilt.config() == config and set(rebuilt.params) == set(layer.params)
    copy = layer.clone()
    assert type(copy) is cell and copy.config() == config
    for name, value in layer.params.items():
        np.testing.assert_array_equal(copy.params[name], value)
        assert not np.shares_memory(copy.params[name], value)
    x, state = step_inputs(layer, rng)
    np.testing.assert_array_equal(copy.forward(x, state)[0], layer.forward(x, state)[0])
    assert repr(RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity='relu')"


def test_the_registry_names_the_cells():
    assert numrnn.cells.get("LSTMCell") is LSTMCell
    assert {"GRUCell", "LSTMCell", "RNNCell"} <= set(numrnn.cells.CELLS.names())  # other tests register theirs
    assert numrnn.cells.CELLS.name_of(GRUCell) == "GRUCell"
    assert numrnn.cells.register == numrnn.cells.CELLS.register
    with pytest.raises(ValueError, match="unknown cell 'PeepholeCell'; known: .*GRUCell, LSTMCell.*RNNCell"):
        numrnn.cells.get("PeepholeCell")


def test_a_cell_that_forgets_a_method_is_told_which():
    class Unfinished(Cell):
        pass

    cell = Unfinished(INPUT, HIDDEN)
    x, state = np.zeros((1, INPUT), np.float32), cell.initial_state(1)
    with pytest.raises(NotImplementedError, match=r"Unfinished must define forward\(x, state\)"):
        cell.forward(x, state)
    with pytest.raises(NotImplementedError, match=r"Unfinished must define backward\("):
        cell.backward(x, state, None)
    with pytest.raises(NotImplementedError, match=r"Unfinished must define config\(\)"):
        cell.config()


# -- the same as the fast layers -----------------------------------------------------------------------------------
@pytest.mark.parametrize("cell_class, layer_class, options", [
    (RNNCell, numrnn.RNN, {"nonlinearity": "relu"}), (RNNCell, numrnn.RNN, {"bias": False}),
    (LSTMCell, numrnn.LSTM, {}), (LSTMCell, numrnn.LSTM, {"bias": False}),
    (GRUCell, numrnn.GRU, {}), (GRUCell, numrnn.GRU, {"bias": False}),
    (GRUCell, numrnn.GRU, {"reset_after": False}), (GRUCell, numrnn.GRU, {"reset_after": False, "bias": False})])
def test_a_cell_looped_over_time_computes_what_the_fast_layer_does(cell_class, layer_class, options, rng):
    steps = 5
    numrnn.seed(3)
    layer = layer_class(INPUT, HIDDEN, dtype="float64", **options)
    numrnn.seed(3)
    cell = cell_class(INPUT, HIDDEN, dtype="float64", **options)
    x, grad_outputs = rng.standard_normal((BATCH, steps, INPUT)), rng.standard_normal((BATCH, steps, HIDDEN))
    outputs, grad_x = layer.forward(x), layer.backward(grad_outputs)
    final_states = [layer.h_n[0]] + ([layer.c_n[0]] if cell_class is LSTMCell else [])

    # the loop over time that numrnn.Recurrent(cell) runs: forward at every step, backward in reverse
    state, caches, cell_outputs = cell.initial_state(BATCH), [], []
    cell.check_step(x[:, 0], state)
    for t in range(steps):
        output, state, cache = cell.forward(x[:, t], state)
        cell_outputs.append(output)
        caches.append(cache)
    cell.zero_grad()
    grad_state, cell_grad_x = tuple(np.zeros_like(s) for s in state), np.empty_like(x)
    for t in reversed(range(steps)):
        cell_grad_x[:, t], grad_state = cell.backward(grad_outputs[:, t], grad_state, caches[t])

    np.testing.assert_allclose(np.stack(cell_outputs, axis=1), outputs, rtol=1e-10, atol=1e-12)
    for mine, theirs in zip(state, final_states):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cell_grad_x, grad_x, rtol=1e-10, atol=1e-12)
    for name, grad in cell.grads.items():
        np.testing.assert_allclose(grad, layer.grads[f"{name}_l0"], rtol=1e-10, atol=1e-12, err_msg=name)
