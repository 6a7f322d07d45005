"""numrnn.Recurrent(cell) and numrnn.Bidirectional: exact gradients for every cell and option, truncated BPTT
against its brute-force reference, state carried between chunks, files, clones, a user's own cell, and errors."""
import numpy as np
import pytest

import numrnn
from numrnn.cells import GRUCell, LSTMCell, RNNCell
from numrnn.gradient_check import gradcheck, truncated_gradcheck

INPUT, HIDDEN = 3, 4
CELLS = [pytest.param(lambda: RNNCell(INPUT, HIDDEN, dtype="float64"), id="RNNCell"),
         pytest.param(lambda: RNNCell(INPUT, HIDDEN, nonlinearity="sigmoid", bias=False, dtype="float64"),
                      id="RNNCell-sigmoid-nobias"),
         pytest.param(lambda: LSTMCell(INPUT, HIDDEN, dtype="float64"), id="LSTMCell"),
         pytest.param(lambda: GRUCell(INPUT, HIDDEN, dtype="float64"), id="GRUCell")]


def initial_state(cell, batch, rng):
    return tuple(rng.standard_normal((batch, width)) for width in cell.state_size)


@pytest.mark.parametrize("make_cell", CELLS)
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_gradients_match_central_differences(make_cell, return_sequences, with_lengths, rng):
    layer = numrnn.Recurrent(make_cell(), return_sequences=return_sequences)
    kwargs = {"h0": initial_state(layer.cell, 3, rng)}
    if with_lengths:
        kwargs["lengths"] = np.array([5, 2, 4])
    errors = gradcheck(layer, rng.standard_normal((3, 5, INPUT)), forward_kwargs=kwargs)
    assert set(errors) == set(layer.params) | {"input"}
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("make_cell", CELLS)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_bidirectional_gradients_match_central_differences(make_cell, return_sequences, rng):
    layer = numrnn.Bidirectional(numrnn.Recurrent(make_cell(), return_sequences=return_sequences))
    errors = gradcheck(layer, rng.standard_normal((3, 5, INPUT)), forward_kwargs={"lengths": np.array([5, 2, 4])})
    assert {"weight_ih", "weight_ih_reverse"} <= set(errors)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("make_cell", CELLS)
@pytest.mark.parametrize("truncate", [1, 2])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_truncated_gradients_match_the_brute_force_reference(make_cell, truncate, return_sequences, rng):
    layer = numrnn.Recurrent(make_cell(), bptt_truncate=truncate, return_sequences=return_sequences)
    errors = truncated_gradcheck(layer, rng.standard_normal((2, 6, INPUT)))
    assert max(errors.values()) < 1e-6, errors


def test_truncation_changes_the_gradient(rng):
    """The brute-force reference is not the full gradient: a check that cannot tell them apart proves nothing."""
    x = rng.standard_normal((2, 6, INPUT))
    full = numrnn.Recurrent(LSTMCell(INPUT, HIDDEN, dtype="float64"))
    truncated = numrnn.Recurrent(full.cell.clone(), bptt_truncate=1)
    grads = []
    for layer in (full, truncated):
        layer.forward(x)
        layer.backward(np.ones((2, 6, HIDDEN)))
        grads.append(layer.grads["weight_hh"].copy())
    assert np.abs(grads[0] - grads[1]).max() > 1e-3


@pytest.mark.parametrize("make_cell", CELLS)
def test_padding_changes_nothing_valid(make_cell, rng):
    layer = numrnn.Recurrent(make_cell())
    x, lengths = rng.standard_normal((2, 5, INPUT)), np.array([5, 3])
    out = layer.forward(x, lengths=lengths)
    grad_x = layer.backward(np.ones_like(out))
    garbage = x.copy()
    garbage[1, 3:] = np.nan
    out_garbage = layer.forward(garbage, lengths=lengths)
    assert np.array_equal(out, out_garbage) and not out[1, 3:].any()
    np.testing.assert_array_equal(layer.backward(np.ones_like(out)), grad_x)
    assert layer.h_n[0][1].tolist() == out[1, 2].tolist()  # the state froze at the last real step


@pytest.mark.parametrize("make_cell", CELLS)
def test_stateful_chunks_equal_one_pass(make_cell, rng):
    cell = make_cell()
    whole = numrnn.Recurrent(cell)
    chunked = numrnn.Recurrent(cell.clone(), stateful=True)
    x = rng.standard_normal((2, 6, INPUT))
    expected = whole.forward(x)
    parts = [chunked.forward(x[:, :4]), chunked.forward(x[:, 4:])]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), expected, rtol=1e-13, atol=1e-15)
    chunked.reset_states()
    np.testing.assert_allclose(chunked.forward(x[:, :4]), expected[:, :4], rtol=1e-13, atol=1e-15)


def test_stateful_batch_mismatch_and_bad_h0_are_refused(rng):
    layer = numrnn.Recurrent(LSTMCell(INPUT, HIDDEN), stateful=True)
    layer.forward(rng.standard_normal((2, 3, INPUT)))
    with pytest.raises(ValueError, match="carries the state of 2 sequences, got a batch of 3"):
        layer.forward(rng.standard_normal((3, 3, INPUT)))
    with pytest.raises(ValueError, match=r"h0 must be a tuple of 2 arrays"):
        layer.forward(rng.standard_normal((2, 3, INPUT)), h0=(np.zeros((2, HIDDEN)),))
    with pytest.raises(ValueError, match=r"x.shape\[-1\] must be equal to input_size. Expected 3, got 5"):
        layer.forward(rng.standard_normal((2, 3, 5)))
    with pytest.raises(TypeError, match="cell must be a numrnn.cells.Cell"):
        numrnn.Recurrent(numrnn.LSTM(INPUT, HIDDEN))


def test_backward_after_inference_and_bad_gradients_are_refused(rng):
    layer = numrnn.Recurrent(GRUCell(INPUT, HIDDEN))
    with layer.inference():
        layer.forward(rng.standard_normal((2, 3, INPUT)))
    with pytest.raises(RuntimeError, match="inside inference"):
        layer.backward(np.zeros((2, 3, HIDDEN)))
    layer.forward(rng.standard_normal((2, 3, INPUT)))
    with pytest.raises(ValueError, match=r"grad_out must have the shape of the last output \(2, 3, 4\)"):
        layer.backward(np.zeros((2, 3, 5)))


@numrnn.cells.register
class MinimalGRUCell(numrnn.cells.Cell):
    """A user's cell for the tests: h' = (1 - z) h + z tanh(W x + U h), z = sigmoid(w_z x + u_z h + b_z)."""

    def __init__(self, input_size, hidden_size, *, dtype="float32"):
        super().__init__(input_size, hidden_size, dtype=dtype)
        self.add_gate_params(2, bias=True)

    def config(self):
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "dtype": np.dtype(self.dtype).name}

    def forward(self, x, state):
        (hidden,) = state
        W_ih, W_hh, b_ih, b_hh = self.gate_params()
        a_z, a_n = np.split(x @ W_ih.T + b_ih + hidden @ W_hh.T + b_hh, 2, axis=1)
        z, n = numrnn.functional.sigmoid(a_z), np.tanh(a_n)
        new_hidden = (1 - z) * hidden + z * n
        return new_hidden, (new_hidden,), (x, hidden, z, n)

    def backward(self, grad_output, grad_new_state, cache):
        x, hidden, z, n = cache
        W_ih, W_hh, _, _ = self.gate_params()
        grad_h = grad_output + grad_new_state[0]
        grad_a_z = grad_h * (n - hidden) * z * (1 - z)
        grad_a_n = grad_h * z * (1 - n * n)
        grad_gates = np.concatenate([grad_a_z, grad_a_n], axis=1)
        self.add_gate_grads(x, hidden, grad_gates, grad_gates)
        return grad_gates @ W_ih, (grad_gates @ W_hh + grad_h * (1 - z),)


def test_a_users_cell_trains_checks_saves_and_loads(tmp_path, rng):
    cell = MinimalGRUCell(INPUT, HIDDEN, dtype="float64")
    errors = gradcheck(numrnn.Bidirectional(numrnn.Recurrent(cell)), rng.standard_normal((2, 4, INPUT)))
    assert max(errors.values()) < 1e-6, errors
    X, y = np.eye(3)[rng.integers(0, 3, (16, 5))], rng.integers(0, 3, (16, 5))
    model = numrnn.Sequential([numrnn.Recurrent(MinimalGRUCell(3, 8)), numrnn.Dense(8, 3)],
                              loss="cross_entropy", optimizer=numrnn.Adam(lr=0.05))
    history = model.fit(X, y, epochs=5, batch_size=8, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "user.npz")
    loaded = numrnn.load(tmp_path / "user.npz")
    assert isinstance(loaded.layers[0].cell, MinimalGRUCell)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_recurrent_and_bidirectional_round_trip_through_a_file_and_clone(tmp_path, rng):
    X = rng.standard_normal((4, 6, INPUT)).astype(np.float32)
    model = numrnn.Sequential([numrnn.Bidirectional(numrnn.Recurrent(LSTMCell(INPUT, HIDDEN))),
                               numrnn.Dropout(0.3),
                               numrnn.Recurrent(GRUCell(2 * HIDDEN, HIDDEN), return_sequences=False,
                                                bptt_truncate=3),
                               numrnn.Dense(HIDDEN, 1)], loss="mse", optimizer="adam")
    model.save(tmp_path / "m.npz")
    loaded = numrnn.load(tmp_path / "m.npz")
    assert loaded.config() == model.config()
    assert "0.weight_hh_reverse" in loaded.params
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(model.clone().predict(X), model.predict(X))


def test_a_missing_cell_class_is_named_when_loading(tmp_path):
    model = numrnn.Sequential([numrnn.Recurrent(RNNCell(2, 3)), numrnn.Dense(3, 1)], loss="mse")
    config = model.config()
    config["layers"][0]["config"]["cell"]["class"] = "NoSuchCell"
    with pytest.raises(ValueError, match="unknown cell 'NoSuchCell'"):
        numrnn.Recurrent.from_config(config["layers"][0]["config"])


def test_dropout_layer_masks_in_training_only(rng):
    layer = numrnn.Dropout(0.5, dtype="float64")
    x = rng.standard_normal((50, 40)) + 3
    out = layer.forward(x)
    dropped = out == 0
    assert 0.4 < dropped.mean() < 0.6
    np.testing.assert_allclose(out[~dropped], 2 * x[~dropped])
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.where(dropped, 0, 2.0))
    layer.eval()
    assert layer.forward(x) is not None and np.array_equal(layer.forward(x), x)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        numrnn.Dropout(1.0)


def test_dropout_gradient_matches_central_differences(rng):
    from ._dropout import FixedDropout
    stack = numrnn.Sequential([numrnn.Recurrent(GRUCell(INPUT, HIDDEN, dtype="float64")),
                               numrnn.Dropout(0.4, dtype="float64"), numrnn.Dense(HIDDEN, 2, dtype="float64")])

    class Stack:
        """The three layers as one, its forward batch-first through each."""
        dtype = np.float64
        params = {f"{i}.{n}": p for i, layer in enumerate(stack.layers) for n, p in layer.params.items()}
        grads = {f"{i}.{n}": g for i, layer in enumerate(stack.layers) for n, g in layer.grads.items()}

        def forward(self, x):
            for layer in stack.layers:
                x = layer.forward(x)
            return x

        def backward(self, grad):
            for layer in reversed(stack.layers):
                grad = layer.backward(grad)
            return grad

    errors = gradcheck(FixedDropout(Stack()), rng.standard_normal((3, 4, INPUT)))
    assert max(errors.values()) < 1e-6, errors
