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
