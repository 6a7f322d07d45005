"""numrnn.torch: to_torch's module computes model.forward (batch-first, raw outputs, lengths through packed
sequences or the masked loop) on random models of every layer and option, and from_torch brings it back exactly:
weights bit-identical in float64, the same config, the same predictions."""
import os
import subprocess
import sys

import numpy as np
import pytest

import numrnn

from ._models import padded_ids, random_input, random_mask, random_model, relative_difference

torch = pytest.importorskip("torch")
from numrnn.torch import from_torch, to_torch  # noqa: E402


def batch_first(output):
    return np.swapaxes(output, 0, 1) if output.ndim == 3 else output


def numrnn_forward(model, x, lengths=None, mask=None):
    model.eval()
    with model.inference():
        return batch_first(model.forward(x, lengths, mask=mask))


def torch_forward(module, x, lengths=None, mask=None):
    module.eval()
    with torch.no_grad():
        return module(torch.from_numpy(np.asarray(x)), None if lengths is None else torch.from_numpy(lengths),
                      None if mask is None else torch.from_numpy(mask)).numpy()


@pytest.mark.parametrize("seed", range(30))
def test_to_torch_computes_forward_in_float64(seed):
    rng = np.random.default_rng(2000 + seed)
    model, vocabulary, features = random_model(rng, dtype="float64")
    module = to_torch(model)
    for use_lengths in (False, True):
        x, lengths = random_input(rng, model, vocabulary, features)
        lengths = lengths if use_lengths else None
        np.testing.assert_allclose(torch_forward(module, x, lengths), numrnn_forward(model, x, lengths),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_to_torch_gives_empty_sequences_zero_outputs_and_states(seed):
    """A length of 0: numrnn's zero outputs and zero final state; torch packs no empty sequence, so its own layers
    run it one step and the module zeroes it (the loop freezes it from the start)."""
    rng = np.random.default_rng(2500 + seed)
    model, vocabulary, features = random_model(rng, dtype="float64")
    module = to_torch(model)
    for everything_empty in (False, True):
        x, lengths = random_input(rng, model, vocabulary, features, empty=True)
        if everything_empty:
            lengths[:] = 0
        np.testing.assert_allclose(torch_forward(module, x, lengths), numrnn_forward(model, x, lengths),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_to_torch_takes_masks_with_padding_anywhere(seed):
    """mask=: front and trailing padding, gaps, empty sequences, through torch's own layers (real steps packed to
    the front) and the loop (the state frozen at masked steps); float64, 1e-12."""
    rng = np.random.default_rng(2600 + seed)
    model, vocabulary, features = random_model(rng, dtype="float64")
    module = to_torch(model)
    for _ in range(2):
        x, _ = random_input(rng, model, vocabulary, features)
        mask = random_mask(rng, *x.shape[:2])
        np.testing.assert_allclose(torch_forward(module, x, mask=mask), numrnn_forward(model, x, mask=mask),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_an_embedding_with_mask_zero_masks_the_torch_module_as_numrnn(seed):
    """Embedding(mask_zero=True): the module masks id 0 wherever it stands, joined with lengths when given, and the
    option comes back with from_torch."""
    rng = np.random.default_rng(2700 + seed)
    model, vocabulary, _ = random_model(rng, dtype="float64", mask_zero=True)
    module = to_torch(model)
    x, lengths = random_input(rng, model, vocabulary, None)
    ids = padded_ids(rng, random_mask(rng, *x.shape), vocabulary)
    for given in (None, lengths):
        np.testing.assert_allclose(torch_forward(module, ids, given), numrnn_forward(model, ids, given),
                                   rtol=0, atol=1e-12)
    back = from_torch(module)
    assert back.config() == model.config() and back.layers[0].mask_zero
    assert np.array_equal(back.predict(ids), model.predict(ids))


def test_lengths_and_mask_together_are_refused():
    module = to_torch(numrnn.Sequential([numrnn.GRU(2, 3)]))
    with pytest.raises(ValueError, match="lengths or mask"):
        module(torch.zeros(1, 2, 2), torch.tensor([1]), torch.ones(1, 2, dtype=torch.bool))


def test_a_gru_with_the_reset_gate_before_the_product_runs_as_a_loop_and_comes_back():
    """torch's GRU resets after the recurrent product only: GRU(reset_after=False) (fast, stacked, bidirectional)
    and Recurrent(GRUCell(reset_after=False)) become the Loop of numrnn's step, and from_torch brings the form back."""
    layers = [numrnn.GRU(3, 4, num_layers=2, bidirectional=True, reset_after=False, dtype="float64"),
              numrnn.Recurrent(numrnn.cells.GRUCell(8, 3, reset_after=False, dtype="float64")),
              numrnn.Bidirectional(numrnn.GRU(3, 2, reset_after=False, bias=False, dtype="float64")),
              numrnn.Dense(4, 2, dtype="float64")]
    model = numrnn.Sequential(layers)
    module = to_torch(model)
    assert [type(m).__name__ for m in module.children()][:3] == ["Loop"] * 3
    rng = np.random.default_rng(5)
    x, lengths = rng.standard_normal((4, 6, 3)), np.array([6, 3, 0, 1])
    for given in (None, lengths):
        np.testing.assert_allclose(torch_forward(module, x, given), numrnn_forward(model, x, given), rtol=0,
                                   atol=1e-12)
    back = from_torch(module)
    assert back.config() == model.config() and back.layers[1].cell.reset_after is False
    assert np.array_equal(back.predict(x, lengths=lengths), model.predict(x, lengths=lengths))


@pytest.mark.parametrize("seed", range(10))
def test_to_torch_computes_forward_in_float32(seed):
    rng = np.random.default_rng(3000 + seed)
    model, vocabulary, features = random_model(rng)
    module = to_torch(model)
    assert next(module.parameters()).dtype == torch.float32
    x, lengths = random_input(rng, model, vocabulary, features)
    assert relative_difference(torch_forward(module, x, lengths), numrnn_forward(model, x, lengths)) < 1e-5


@pytest.mark.parametrize("seed", range(10))
def test_round_trip_is_exact(seed):
    rng = np.random.default_rng(4000 + seed)
    model, vocabulary, features = random_model(rng, dtype="float64")
    back = from_torch(to_torch(model))
    assert back.config() == model.config()
    for name, value in model.state_dict().items():
        assert np.array_equal(back.state_dict()[name], value), name  # the same bits
    x, lengths = random_input(rng, model, vocabulary, features)
    assert np.array_equal(back.predict(x, lengths=lengths), model.predict(x, lengths=lengths))


def test_module_state_dict_names_are_numrnn_names():
    model = numrnn.Sequential([numrnn.Embedding(5, 3), numrnn.LSTM(3, 4, num_layers=2, bidirectional=True),
                               numrnn.Bidirectional(numrnn.Recurrent(numrnn.cells.GRUCell(8, 2))),
                               numrnn.Dense(4, 2)])
    assert sorted(to_torch(model).state_dict()) == sorted(model.state_dict())


def test_training_in_torch_comes_back_to_numrnn():
    model = numrnn.Sequential([numrnn.GRU(2, 4), numrnn.Dense(4, 3)], loss="cross_entropy", optimizer="adam")
    module = to_torch(model)
    x = torch.randn(4, 5, 2)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    loss = torch.nn.functional.cross_entropy(module(x).reshape(-1, 3), torch.randint(0, 3, (20,)))
    loss.backward()
    optimizer.step()
    back = from_torch(module)
    assert not np.array_equal(back.state_dict()["0.weight_hh_l0"], model.state_dict()["0.weight_hh_l0"])
    assert back.loss.name == "cross_entropy" and back.optimizer is not None
    for name, value in module.state_dict().items():
        assert np.array_equal(back.state_dict()[name], value.numpy())


def test_a_state_dict_of_distributed_data_parallel_loads_with_the_config():
    model = numrnn.Sequential([numrnn.LSTM(2, 3), numrnn.Dense(3, 1)], loss="mse")
    state = {f"module.{name}": value for name, value in to_torch(model).state_dict().items()}
    for config in (model.config(), model):
        back = from_torch(state, config=config)
        assert all(np.array_equal(back.state_dict()[n], v) for n, v in model.state_dict().items())
    with pytest.raises(ValueError, match="config"):
        from_torch(state)


def test_data_parallel_is_unwrapped():
    model = numrnn.Sequential([numrnn.RNN(2, 3), numrnn.Dense(3, 1)])
    back = from_torch(torch.nn.DataParallel(to_torch(model)))
    assert back.config()["layers"] == model.config()["layers"]


def test_torch_own_layers_come_in_as_numrnn_layers():
    torch.manual_seed(0)
    embedding, lstm = torch.nn.Embedding(6, 3).double(), torch.nn.LSTM(3, 4, 2, batch_first=True).double()
    linear = torch.nn.Linear(4, 2).double()
    model = from_torch([embedding, lstm, torch.nn.Dropout(0.1), linear, torch.nn.Softmax(dim=-1)])
    assert [type(layer).__name__ for layer in model.layers] == ["Embedding", "LSTM", "Dropout", "Dense", "Activation"]
    ids = torch.randint(0, 6, (3, 5))
    with torch.no_grad():
        expected = torch.softmax(linear(lstm(embedding(ids))[0]), dim=-1).numpy()
    np.testing.assert_allclose(model.predict(ids.numpy()), expected, rtol=0, atol=1e-12)


def test_what_torch_cannot_run_is_refused_naming_the_layer():
    @numrnn.cells.register(name="TorchTestLeakyCell")
    class LeakyCell(numrnn.cells.Cell):
        def config(self):
            return {"input_size": self.input_size, "hidden_size": self.hidden_size, "dtype": "float32"}

    with pytest.raises(ValueError, match=r"layer 1 \(Recurrent\).*LeakyCell"):
        to_torch(numrnn.Sequential([numrnn.LSTM(2, 2), numrnn.Recurrent(LeakyCell(2, 2))]))
    with pytest.raises(ValueError, match=r"layer 0 \(LSTM\).*batch_first"):
        from_torch([torch.nn.LSTM(2, 2)])
    with pytest.raises(ValueError, match=r"layer 0 \(Conv1d\)"):
        from_torch(torch.nn.Conv1d(2, 2, 1))


def test_numrnn_torch_is_the_real_torch_and_loads_on_use_only():
    assert isinstance(to_torch(numrnn.Sequential([numrnn.Dense(2, 1)])), torch.nn.Module)
    code = ("import sys, numrnn, numrnn.torch, numrnn.onnx, numrnn.keras\n"
            "assert numrnn.torch.__name__ == 'numrnn.torch'\n"
            "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime', 'keras') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=os.path.dirname(__file__),
                            check=True)
    assert result.stdout.strip() == "[]"
