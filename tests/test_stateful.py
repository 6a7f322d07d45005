"""Stateful recurrent layers, the truncated BPTT of char-rnn: the final state of one chunk is the next chunk's
initial state (a constant: no gradient flows into the earlier chunk), and reset_states() starts from zeros."""
import numpy as np
import pytest

import numrnn
from numrnn.gradient_check import numerical_gradient
from numrnn.layers.embedding import Embedding
from numrnn.layers.gru import GRU
from numrnn.layers.lstm import LSTM

CELLS = {"rnn": numrnn.RNN, "lstm": LSTM, "gru": GRU}


def make(cell, **kwargs):
    numrnn.seed(0)
    return CELLS[cell](3, 4, num_layers=2, dtype="float64", **kwargs)


def chunks(x, size):
    return [x[:, start:start + size] for start in range(0, x.shape[1], size)]


@pytest.mark.parametrize("cell", CELLS)
def test_carried_state_gives_the_outputs_of_the_whole_sequence_at_once(cell, rng):
    x = rng.standard_normal((2, 10, 3))
    whole = make(cell).forward(x)
    layer = make(cell)
    layer.stateful = True
    pieces = [layer.forward(piece) for piece in chunks(x, 4)]  # chunks of 4, 4 and 2 steps
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole, rtol=0, atol=1e-13)


@pytest.mark.parametrize("cell", CELLS)
def test_no_gradient_flows_into_the_previous_chunk(cell, rng):
    """The second chunk's gradients are those of a fresh layer given the carried state as a constant h0."""
    x = rng.standard_normal((2, 8, 3))
    first, second = chunks(x, 4)
    grad_out = rng.standard_normal((2, 4, 4))
    layer = make(cell)
    layer.stateful = True
    layer.forward(first)
    carried = (layer.h_n.copy(), layer.c_n.copy()) if cell == "lstm" else layer.h_n.copy()
    layer.forward(second)
    grad_second = layer.backward(grad_out)
    reference = make(cell)
    reference.forward(second, h0=carried)
    reference_grad = reference.backward(grad_out)
    np.testing.assert_allclose(grad_second, reference_grad, rtol=0, atol=1e-13)
    for name, grad in reference.grads.items():
        np.testing.assert_allclose(layer.grads[name], grad, rtol=0, atol=1e-13, err_msg=name)


def test_gradient_of_a_chunk_matches_finite_differences_with_the_state_held_fixed(rng):
    """Perturbing a weight changes the second chunk's loss only through the second chunk: the carried state is a
    value computed once, not a function of the weights that backward differentiates."""
    x = rng.standard_normal((2, 6, 3))
    first, second = chunks(x, 3)
    layer = make("lstm")
    layer.stateful = True
    layer.forward(first)
    carried = layer.carried_state
    projection = rng.standard_normal((2, 3, 4))
    layer.forward(second)
    layer.backward(projection)
    analytic = layer.grads["weight_hh_l0"].copy()

    def loss():
        layer.carried_state = carried  # the same carried state for every evaluation
        return float(np.sum(layer.forward(second) * projection))

    numeric = numerical_gradient(loss, layer.params["weight_hh_l0"])
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell", CELLS)
def test_reset_states_restarts_from_zeros(cell, rng):
    x = rng.standard_normal((2, 5, 3))
    fresh = make(cell).forward(x)
    layer = make(cell)
    layer.stateful = True
    layer.forward(x)
    assert not np.allclose(layer.forward(x), fresh)  # second call starts from the carried state
    layer.reset_states()
    np.testing.assert_allclose(layer.forward(x), fresh, rtol=0, atol=1e-14)


def test_a_stateless_layer_always_starts_from_zeros(rng):
    x = rng.standard_normal((2, 5, 3))
    layer = make("lstm")
    np.testing.assert_array_equal(layer.forward(x), layer.forward(x))


def test_batch_size_mismatch_raises_clearly(rng):
    layer = make("lstm")
    layer.stateful = True
    layer.forward(rng.standard_normal((2, 5, 3)))
    with pytest.raises(ValueError, match=r"carries the state of 2 sequences, got a batch of 3.*reset_states"):
        layer.forward(rng.standard_normal((3, 5, 3)))
    layer.reset_states()
    assert layer.forward(rng.standard_normal((3, 5, 3))).shape == (3, 5, 4)


def test_model_trains_on_consecutive_chunks_and_resets(rng):
    """Sequential.train_on_batch over consecutive chunks with a stateful layer, model.reset_states() between
    passes: the chunks' outputs join up into the whole sequence's, and the state is cut at every chunk."""
    numrnn.seed(0)
    layers = [Embedding(5, 3, dtype="float64"), LSTM(3, 4, dtype="float64"), numrnn.Dense(4, 5, dtype="float64")]
    model = numrnn.Sequential(layers, loss="cross_entropy", optimizer=numrnn.SGD(lr=1e-300))  # weights stay put
    model.layers[1].stateful = True
    ids = rng.integers(0, 5, (2, 12))
    targets = np.roll(ids, -1, axis=1)
    whole = model.predict(ids)
    model.reset_states()
    for start in range(0, 12, 4):
        loss = model.train_on_batch(ids[:, start:start + 4], targets[:, start:start + 4])["loss"]
        picked = np.take_along_axis(whole[:, start:start + 4], targets[:, start:start + 4, None], axis=-1)
        assert loss == pytest.approx(-np.log(picked).mean(), abs=1e-12)  # each chunk went on from the last
    model.reset_states()
    pieces = []
    model.eval()
    for start in range(0, 12, 4):
        pieces.append(model.loss.predict(model.forward(ids[:, start:start + 4])).swapaxes(0, 1))  # time-major out
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), whole, rtol=0, atol=1e-13)
