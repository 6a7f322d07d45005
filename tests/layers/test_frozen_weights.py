"""frozen_weights: derived weight copies are built once inside the block; kept for the next block only while the
weights they came from are bit for bit the same (the rule: numrnn.layers.layouts' docstring)."""
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


def _fresh_prediction(model, x):
    """What a model with the same weights, built from nothing, predicts (no copy kept anywhere)."""
    fresh = numrnn.Sequential([type(layer).from_config(layer.config()) for layer in model.layers],
                              loss="cross_entropy")
    fresh.load_state_dict(model.state_dict())
    return fresh.predict(x)


EDITS = {
    "an element changed in place": lambda p: p.__setitem__((0, 0), p[0, 0] + 0.25),
    "two rows swapped in place": lambda p: p.__setitem__(slice(None), p[[1, 0] + list(range(2, len(p)))]),
    "a change below a float32 ulp of the sum of all": lambda p: p.__setitem__((1, 1), np.nextafter(p[1, 1], 1)),
    "a whole weight written with copyto": lambda p: np.copyto(p, np.flipud(p)),
}


@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU, numrnn.RNN])
@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("name", ["weight_ih_l0", "weight_hh_l0"])
def test_a_weight_edited_in_place_between_predicts_is_never_served_stale(cell, edit, name, rng, monkeypatch):
    """predict keeps its derived weight copies from one call to the next; any change to the weights they came from,
    however made (one ulp too, which may not move the output), is seen and rebuilds them."""
    from numrnn.layers import layouts

    checks = []
    same_bits = layouts._same_bits
    monkeypatch.setattr(layouts, "_same_bits", lambda *args: checks.append(same_bits(*args)) or checks[-1])
    model = numrnn.Sequential([cell(3, 6), numrnn.Dense(6, 2)], loss="cross_entropy")
    x = rng.standard_normal((3, 7, 3)).astype(np.float32)
    before = model.predict(x)
    np.testing.assert_array_equal(model.predict(x), before)  # the kept copies, unchanged weights
    assert checks and all(checks)
    checks.clear()
    EDITS[edit](model.layers[0].params[name])
    after = model.predict(x)
    assert checks and not all(checks)  # the copy built from the edited weight was found out of date
    np.testing.assert_array_equal(after, _fresh_prediction(model, x))


@pytest.mark.parametrize("cell", [numrnn.LSTM, numrnn.GRU])
def test_a_bias_changed_by_load_state_dict_or_a_training_step_is_seen_by_the_next_predict(cell, rng):
    model = numrnn.Sequential([cell(3, 6), numrnn.Dense(6, 2)], loss="cross_entropy", optimizer=numrnn.Adam(0.1))
    x, y = rng.standard_normal((3, 7, 3)).astype(np.float32), rng.integers(0, 2, (3, 7))
    model.predict(x)
    state = model.state_dict()
    state["0.bias_hh_l0"] = state["0.bias_hh_l0"] + 1.0
    model.load_state_dict(state)
    np.testing.assert_array_equal(model.predict(x), _fresh_prediction(model, x))
    model.train_on_batch(x, y)
    np.testing.assert_array_equal(model.predict(x), _fresh_prediction(model, x))


def test_unchanged_weights_are_not_copied_again_by_the_next_predict(rng, monkeypatch):
    model = numrnn.Sequential([numrnn.LSTM(3, 6), numrnn.Dense(6, 2)], loss="cross_entropy")
    x = rng.standard_normal((3, 7, 3)).astype(np.float32)
    builds = []
    reorder = numrnn.LSTM._reorder
    monkeypatch.setattr(numrnn.LSTM, "_reorder", lambda self, *a, **k: builds.append(1) or reorder(self, *a, **k))
    model.predict(x)
    built = len(builds)
    assert built > 0
    model.predict(x)
    model.predict(x, chunk_size=2)
    assert len(builds) == built
    model.layers[0].params["weight_hh_l0"][2, 3] *= 2
    model.predict(x)
    assert len(builds) == 2 * built


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
