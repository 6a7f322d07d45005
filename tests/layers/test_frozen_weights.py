"""frozen_weights: derived weight copies are built once inside the block and rebuilt after it."""
import numpy as np
import pytest

import numrnn


@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU])
def test_frozen_weights_give_the_same_outputs_and_forget_the_cache_after(cell, rng):
    layer = cell(3, 5, dtype="float64")
    x = rng.standard_normal((2, 4, 3))
    expected = layer.forward(x)
    with layer.frozen_weights():
        np.testing.assert_array_equal(layer.forward(x), expected)
        np.testing.assert_array_equal(layer.forward(x), expected)
    layer.params["weight_hh_l0"] *= 2.0  # a change after the block must be seen
    changed = layer.forward(x)
    assert np.abs(changed - expected).max() > 1e-3
    fresh = cell(3, 5, dtype="float64")
    fresh.load_state_dict(layer.state_dict())
    np.testing.assert_array_equal(fresh.forward(x), changed)


def test_predict_uses_frozen_weights_without_changing_results(rng):
    model = numrnn.Sequential([numrnn.LSTM(3, 6, dtype="float64"), numrnn.Dense(6, 2, dtype="float64")],
                              loss="cross_entropy")
    x = rng.standard_normal((3, 7, 3))
    first = model.predict(x)
    model.layers[0].params["weight_ih_l0"] += 0.5
    second = model.predict(x)
    assert np.abs(first - second).max() > 1e-4
    np.testing.assert_array_equal(model.predict(x, chunk_size=2), second)


# -- inference(): forward only, nothing kept for backward ---------------------------------------------------------------

@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU, numrnn.RNN])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_inference_gives_the_same_outputs_and_final_states(cell, bidirectional, rng):
    layer = cell(3, 5, num_layers=2, bidirectional=bidirectional, dtype="float64")
    x = rng.standard_normal((4, 6, 3))
    lengths = np.array([6, 2, 5, 1])
    states = 2 * (2 if bidirectional else 1)
    h0 = rng.standard_normal((states, 4, 5))
    h0 = (h0, rng.standard_normal((states, 4, 5))) if cell is numrnn.LSTM else h0
    expected = layer.forward(x, h0=h0, lengths=lengths)
    finals = [layer.h_n.copy()] + ([layer.c_n.copy()] if cell is numrnn.LSTM else [])
    with layer.inference():
        np.testing.assert_array_equal(layer.forward(x, h0=h0, lengths=lengths), expected)
        np.testing.assert_array_equal(layer.h_n, finals[0])
        if cell is numrnn.LSTM:
            np.testing.assert_array_equal(layer.c_n, finals[1])


@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU])
def test_backward_after_an_inference_forward_raises_and_works_again_after(cell, rng):
    layer = cell(3, 5, dtype="float64")
    x = rng.standard_normal((2, 4, 3))
    with layer.inference():
        out = layer.forward(x)
    with pytest.raises(RuntimeError, match="inference"):
        layer.backward(np.ones_like(out))
    out = layer.forward(x)
    assert layer.backward(np.ones_like(out)).shape == x.shape


@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU])
def test_inference_keeps_one_step_of_gates_not_every_step(cell, rng):
    """Peak memory of a long forward: a training forward keeps every step's gates (T x G*H x B floats), an
    inference forward one step's, so its peak is several times lower."""
    import tracemalloc
    layer = cell(8, 64)
    x = rng.standard_normal((4, 500, 8)).astype(np.float32)

    def peak(run):
        layer._workspace.clear()
        tracemalloc.start()
        run()
        result = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return result

    training = peak(lambda: layer.forward(x))

    def forward_in_inference():
        with layer.inference():
            layer.forward(x)

    inference = peak(forward_in_inference)
    gates_bytes = 500 * layer.gates * 64 * 4 * 4
    assert training - inference > 0.9 * gates_bytes, (training, inference)
