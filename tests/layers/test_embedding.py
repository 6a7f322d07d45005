"""numrnn.Embedding (and OneHot): row lookup forward, scatter-add backward, integer-id checks, torch parity."""
import numpy as np
import pytest

import numrnn
from numrnn.layers import embedding as embedding_module
from numrnn.layers.embedding import Embedding, OneHot
from numrnn.layers.lstm import LSTM

IDS = np.array([[1, 3, 3, 0], [3, 2, 1, 1]])  # id 3 three times, id 1 three times, id 4 never


def test_forward_looks_up_the_rows_of_the_ids():
    layer = Embedding(5, 3, dtype="float64")
    out = layer.forward(IDS)
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out, layer.params["weight"][IDS])


def test_weight_starts_standard_normal_as_torch():
    weight = Embedding(400, 50).params["weight"]
    assert weight.dtype == np.float32
    assert abs(weight.mean()) < 0.02
    assert abs(weight.std() - 1.0) < 0.02


def test_gradcheck_on_the_weight_with_repeated_ids():
    layer = Embedding(5, 3, dtype="float64")
    errors = numrnn.gradcheck(layer, IDS)
    assert set(errors) == {"weight"}  # integer input: no input gradient to check
    assert errors["weight"] < 1e-8


def test_backward_adds_up_repeated_ids_and_returns_no_input_gradient():
    layer = Embedding(5, 3, dtype="float64")
    layer.forward(IDS)
    grad_out = np.random.default_rng(0).standard_normal((2, 4, 3))
    assert layer.backward(grad_out) is None
    expected = np.zeros((5, 3))
    np.add.at(expected, IDS.reshape(-1), grad_out.reshape(-1, 3))
    np.testing.assert_allclose(layer.grads["weight"], expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(layer.grads["weight"][4], 0)  # an id never seen gets no gradient


def test_large_vocabulary_scatter_matches_np_add_at(monkeypatch):
    monkeypatch.setattr(embedding_module, "_ONE_HOT_LIMIT", 0)  # force the sort + reduceat path
    layer = Embedding(50, 4, dtype="float64")
    ids = np.random.default_rng(1).integers(0, 50, (6, 30))
    layer.forward(ids)
    grad_out = np.random.default_rng(2).standard_normal((6, 30, 4))
    layer.backward(grad_out)
    expected = np.zeros((50, 4))
    np.add.at(expected, ids.reshape(-1), grad_out.reshape(-1, 4))
    np.testing.assert_allclose(layer.grads["weight"], expected, rtol=0, atol=1e-12)


def test_gradient_is_set_not_accumulated():
    layer = Embedding(5, 3, dtype="float64")
    grad_out = np.ones((2, 4, 3))
    for _ in range(2):
        layer.forward(IDS)
        layer.backward(grad_out)
    np.testing.assert_array_equal(layer.grads["weight"][3], 3.0)


@pytest.mark.parametrize("ids, message", [
    (np.array([[0, 5]]), r"must be in \[0, 5\)"),
    (np.array([[-1, 2]]), r"must be in \[0, 5\)"),
    (np.array([[0.5, 1.0]]), "integer"),
    (np.array([["a", "b"]]), "integer"),
])
def test_bad_ids_are_refused_clearly(ids, message):
    layer = Embedding(5, 3)
    with pytest.raises((ValueError, TypeError), match=message):
        layer.forward(ids)
    with pytest.raises((ValueError, TypeError), match=message):
        layer.check_input("X", ids)


def test_check_input_wants_batch_and_time():
    layer = Embedding(5, 3)
    assert layer.check_input("X", [[1.0, 2.0]]).dtype == np.int64  # whole floats are fine
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        layer.check_input("X", np.zeros((2, 3, 4), dtype=int))


def test_in_a_model_ids_run_time_major_and_match_a_batch_first_run():
    numrnn.seed(0)
    model = numrnn.Sequential([Embedding(6, 4, dtype="float64"), LSTM(4, 5, dtype="float64"),
                               numrnn.Dense(5, 6, dtype="float64")], loss="cross_entropy", optimizer="adam")
    ids = np.random.default_rng(3).integers(0, 6, (3, 7))
    probs = model.predict(ids)
    assert probs.shape == (3, 7, 6)
    embedded = model.layers[0].forward(ids)
    hidden = model.layers[1].forward(embedded)  # batch-first path
    logits = model.layers[2].forward(hidden)
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-12)
    model.train_on_batch(ids, np.roll(ids, -1, axis=1))  # trains end to end on ids


def test_save_and_load_keep_the_embedding(tmp_path):
    model = numrnn.Sequential([Embedding(6, 4), LSTM(4, 5), numrnn.Dense(5, 6)], loss="cross_entropy")
    model.save(tmp_path / "m.npz")
    loaded = numrnn.load(tmp_path / "m.npz")
    ids = np.array([[0, 5, 2]])
    np.testing.assert_array_equal(loaded.predict(ids), model.predict(ids))


def test_one_hot_gives_identity_rows_and_matches_one_hot_floats():
    layer = OneHot(4)
    out = layer.forward(np.array([[2, 0, 3]]))
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[[2, 0, 3]]])
    assert layer.backward(np.ones_like(out)) is None
    numrnn.seed(0)
    model = numrnn.Sequential([OneHot(4, dtype="float64"), LSTM(4, 3, dtype="float64")])
    ids = np.array([[1, 2, 3, 0]])
    np.testing.assert_allclose(model.predict(ids), model.layers[1].forward(np.eye(4)[ids]), atol=1e-14)


def test_matches_torch_forward_and_weight_gradient_with_repeated_ids():
    torch = pytest.importorskip("torch")
    reference = torch.nn.Embedding(5, 3).double()
    layer = Embedding(5, 3, dtype="float64")
    layer.load_state_dict(reference.state_dict())
    grad_out = np.random.default_rng(4).standard_normal((2, 4, 3))
    out_torch = reference(torch.tensor(IDS))
    out_torch.backward(torch.tensor(grad_out))
    out = layer.forward(IDS)
    layer.backward(grad_out)
    np.testing.assert_allclose(out, out_torch.detach().numpy(), rtol=0, atol=1e-14)
    np.testing.assert_allclose(layer.grads["weight"], reference.weight.grad.numpy(), rtol=0, atol=1e-12)
