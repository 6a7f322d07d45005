"""numrnn.onnx.load: a graph of ONNX RNN/LSTM/GRU operators back into a Sequential whose predict equals
onnxruntime's output on the same file (1e-5 relative in float32): numrnn's own exports, and torch.onnx.export's
files of nn.Embedding / nn.RNN / nn.LSTM / nn.GRU(batch_first=True) / nn.Linear models, from both of torch's
exporters. Everything else is refused with a ValueError that says what, and no size read from the file is trusted
for an allocation."""
import contextlib
import io
import logging
import os
import warnings

import numpy as np
import pytest

import numrnn

from ._models import gru_forms, random_input, random_model, relative_difference

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from numrnn.onnx import export, load  # noqa: E402


def run(path, feed):
    return ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"]).run(None, feed)[0]


@pytest.mark.parametrize("seed", range(30))
def test_numrnn_export_loads_back_to_the_same_predictions(tmp_path, seed):
    rng = np.random.default_rng(1000 + seed)
    model, vocabulary, features = random_model(rng)
    path = tmp_path / "m.onnx"
    export(model, path)
    loaded = load(path)
    for _ in range(2):
        x, lengths = random_input(rng, model, vocabulary, features)
        expected = run(path, {"x": x, "lengths": lengths})
        assert relative_difference(loaded.predict(x, lengths=lengths), expected) < 1e-5, (seed, model)


@pytest.mark.parametrize("seed", range(20))
def test_gru_reset_before_loads_back_as_reset_after_false(tmp_path, seed):
    rng = np.random.default_rng(6000 + seed)
    model, vocabulary, features = random_model(rng, kinds=("GRU",), reset_after=(False, True))
    path = tmp_path / "m.onnx"
    export(model, path)
    loaded = load(path)
    forms = [layer.reset_after for layer in loaded.layers if isinstance(layer, numrnn.GRU)] + \
        [layer.forward_layer.reset_after for layer in loaded.layers if isinstance(layer, numrnn.Bidirectional)]
    assert sorted(forms) == sorted(g.reset_after for g in gru_forms(model))
    for _ in range(2):
        x, lengths = random_input(rng, model, vocabulary, features)
        expected = run(path, {"x": x, "lengths": lengths})
        assert relative_difference(loaded.predict(x, lengths=lengths), expected) < 1e-5, (seed, model)


def test_round_trip_of_fast_layers_gives_the_architecture_weights_and_loss_back(tmp_path):
    model = numrnn.Sequential([numrnn.Embedding(7, 3), numrnn.LSTM(3, 4, num_layers=2, bidirectional=True),
                               numrnn.GRU(8, 2, return_sequences=False), numrnn.Dense(2, 3)],
                              loss=numrnn.CrossEntropy(reduction="sum"))
    export(model, tmp_path / "m.onnx")
    loaded = load(tmp_path / "m.onnx")
    assert loaded.config()["layers"] == model.config()["layers"]
    assert loaded.loss.config() == model.loss.config()
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)  # reordered twice: the same bits


def test_external_data_beside_the_model_is_read(tmp_path):
    model = numrnn.Sequential([numrnn.GRU(3, 8), numrnn.Dense(8, 2)], loss="mse")
    proto = export(model, tmp_path / "plain.onnx")
    # the weights go to m.data; the small shape tensors stay inside, where onnxruntime wants them
    onnx.save_model(proto, tmp_path / "m.onnx", save_as_external_data=True, location="m.data", size_threshold=64)
    assert os.path.getsize(tmp_path / "m.data") > 0
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype(np.float32)
    lengths = np.array([4, 2])
    expected = run(tmp_path / "m.onnx", {"x": x, "lengths": lengths})
    assert relative_difference(load(tmp_path / "m.onnx").predict(x, lengths=lengths), expected) < 1e-5


# -- torch.onnx.export's files ----------------------------------------------------------------------------------------
TORCH_CASES = [  # (kind, bidirectional, num_layers, embedding, head, bias): head None (every step), "step", "h"
    ("RNN", False, 1, True, None, True), ("RNN", True, 2, False, None, False), ("RNN", False, 2, False, "step", True),
    ("LSTM", False, 1, True, None, True), ("LSTM", True, 2, True, None, False), ("LSTM", False, 2, False, "h", True),
    ("GRU", False, 1, True, "step", True), ("GRU", True, 1, False, None, True), ("GRU", False, 2, True, None, False),
]


def torch_model(torch, kind, bidirectional, num_layers, embedding, head, bias):
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(7, 5) if embedding else None
            self.rnn = getattr(nn, kind)(5, 6, num_layers=num_layers, batch_first=True, bidirectional=bidirectional,
                                         bias=bias)
            self.linear = nn.Linear(6 * (2 if bidirectional else 1), 3)

        def forward(self, x):
            x = x if self.embedding is None else self.embedding(x)
            y, state = self.rnn(x)
            if head == "step":
                y = y[:, -1]
            elif head == "h":
                y = (state[0] if kind == "LSTM" else state)[-1]
            return self.linear(y)

    torch.manual_seed(0)
    return Model().eval()


def torch_export(torch, model, path, example, dynamo):
    names = {"input_names": ["x"], "output_names": ["y"]}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            if dynamo:  # needs onnxscript; Dim.AUTO keeps batch and time dynamic
                auto = torch.export.Dim.AUTO
                torch.onnx.export(model, (example,), path, dynamo=True, dynamic_shapes={"x": {0: auto, 1: auto}},
                                  **names)
            else:  # the TorchScript exporter, still there in torch 2.13 behind dynamo=False
                torch.onnx.export(model, (example,), path, dynamo=False, dynamic_axes={"x": {0: "b", 1: "t"}},
                                  **names)
        finally:
            logging.disable(logging.NOTSET)


def torch_inputs(torch, embedding, batch, steps):
    return torch.randint(0, 7, (batch, steps)) if embedding else torch.randn(batch, steps, 5)


@pytest.mark.parametrize("case", TORCH_CASES, ids=lambda case: "-".join(map(str, case)))
def test_torch_script_exporter_files_load(tmp_path, case):
    torch = pytest.importorskip("torch")
    model = torch_model(torch, *case)
    torch_export(torch, model, tmp_path / "t.onnx", torch_inputs(torch, case[3], 2, 4), dynamo=False)
    loaded = load(tmp_path / "t.onnx")
    x = torch_inputs(torch, case[3], 3, 6).numpy()
    expected = run(tmp_path / "t.onnx", {"x": x})
    assert relative_difference(loaded.predict(x), expected) < 1e-5
    with torch.no_grad():
        assert relative_difference(loaded.predict(x), model(torch.from_numpy(x)).numpy()) < 1e-5


@pytest.mark.parametrize("case", [TORCH_CASES[4], TORCH_CASES[6]],  # a few: each dynamo export takes seconds
                         ids=lambda case: "-".join(map(str, case)))
def test_torch_dynamo_exporter_files_load(tmp_path, case):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    model = torch_model(torch, *case)
    torch_export(torch, model, tmp_path / "t.onnx", torch_inputs(torch, case[3], 2, 4), dynamo=True)
    loaded = load(tmp_path / "t.onnx")
    x = torch_inputs(torch, case[3], 3, 6).numpy()
    assert relative_difference(loaded.predict(x), run(tmp_path / "t.onnx", {"x": x})) < 1e-5


def test_torch_dynamo_exporter_unrolls_rnn_which_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")
    model = torch_model(torch, "RNN", False, 1, True, None, True)
    torch_export(torch, model, tmp_path / "t.onnx", torch_inputs(torch, True, 2, 4), dynamo=True)
    with pytest.raises(ValueError, match="operators numrnn does not read: .*SplitToSequence"):
        load(tmp_path / "t.onnx")


# -- refusals ---------------------------------------------------------------------------------------------------------
def make_model(nodes, initializers, tmp_path, inputs=None, output_shape=("b", "t", 2)):
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 2])]
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                                                                 list(output_shape))], initializers)
    path = tmp_path / "g.onnx"
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def rnn_graph(tmp_path, extra_inputs=(), **attrs):
    weights = [numpy_helper.from_array(np.ones((1, 2, 2), np.float32), n) for n in ("W", "R")]
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("RNN", ["xt", "W", "R", *extra_inputs], ["Y"], hidden_size=2, **attrs),
             helper.make_node("Squeeze", ["Y", "one"], ["ys"]),
             helper.make_node("Transpose", ["ys"], ["y"], perm=[1, 0, 2])]
    return nodes, weights + [numpy_helper.from_array(np.array([1], np.int64), "one")]


def test_unsupported_operators_are_listed(tmp_path):
    path = make_model([helper.make_node("Sin", ["x"], ["s"]), helper.make_node("Cos", ["s"], ["y"])], [], tmp_path)
    with pytest.raises(ValueError, match="operators numrnn does not read: Cos, Sin"):
        load(path)


def test_a_non_zero_initial_state_is_refused(tmp_path):
    nodes, weights = rnn_graph(tmp_path, ["", "", "h0"])
    weights.append(numpy_helper.from_array(np.ones((1, 1, 2), np.float32), "h0"))
    with pytest.raises(ValueError, match="non-zero initial_h"):
        load(make_model(nodes, weights, tmp_path))


def gru_graph(tmp_path, seed, **attrs):
    """x (b, t, 2) -> one forward GRU of hidden size 3 with random W, R, B -> y (b, t, 3)."""
    rng = np.random.default_rng(seed)
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("GRU", ["xt", "W", "R", "B"], ["Y"], hidden_size=3, **attrs),
             helper.make_node("Squeeze", ["Y", "one"], ["ys"]), helper.make_node("Transpose", ["ys"], ["y"],
                                                                                 perm=[1, 0, 2])]
    weights = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
               for name, shape in (("W", (1, 9, 2)), ("R", (1, 9, 3)), ("B", (1, 18)))]
    return make_model(nodes, weights + [numpy_helper.from_array(np.array([1], np.int64), "one")], tmp_path,
                      output_shape=("b", "t", 3))


@pytest.mark.parametrize("attrs", [{"linear_before_reset": 0}, {}, {"linear_before_reset": 1}],
                         ids=["linear_before_reset=0", "default", "linear_before_reset=1"])
def test_gru_loads_with_the_reset_gate_where_the_file_puts_it(tmp_path, attrs):
    """linear_before_reset=0 (ONNX's default, the reset gate before the recurrent product) is numrnn's
    GRU(reset_after=False); 1 is reset_after=True."""
    path = gru_graph(tmp_path, 7, **attrs)
    loaded = load(path)
    assert loaded.layers[0].reset_after is bool(attrs.get("linear_before_reset", 0))
    x = np.random.default_rng(8).standard_normal((3, 5, 2)).astype(np.float32)
    assert relative_difference(loaded.predict(x), run(path, {"x": x})) < 1e-5


def test_a_linear_before_reset_onnx_does_not_define_is_refused(tmp_path):
    with pytest.raises(ValueError, match="linear_before_reset=2"):
        load(gru_graph(tmp_path, 7, linear_before_reset=2))


def test_the_mask_graph_of_an_embedding_with_mask_zero_is_not_read_back(tmp_path):
    model = numrnn.Sequential([numrnn.Embedding(5, 3, mask_zero=True), numrnn.GRU(3, 2)])
    export(model, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="operators numrnn does not read: .*CumSum.*ScatterElements"):
        load(tmp_path / "m.onnx")


def test_an_rnn_activation_numrnn_lacks_is_refused(tmp_path):
    nodes, weights = rnn_graph(tmp_path, activations=["Softsign"])
    with pytest.raises(ValueError, match="activations"):
        load(make_model(nodes, weights, tmp_path))


def test_a_tensor_whose_dims_claim_more_than_its_bytes_is_refused(tmp_path):
    nodes, weights = rnn_graph(tmp_path)
    lying = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[1, 2, 1 << 40])
    lying.raw_data = np.ones(4, np.float32).tobytes()
    weights[0] = lying
    path = tmp_path / "g.onnx"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", "t", 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "t", 2])], weights)
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(ValueError, match="claims dims"):
        load(path)


def test_external_data_outside_the_model_folder_is_refused(tmp_path):
    model = numrnn.Sequential([numrnn.RNN(2, 2), numrnn.Dense(2, 2)])
    proto = export(model, tmp_path / "plain.onnx")
    (tmp_path / "inner").mkdir()
    onnx.save_model(proto, tmp_path / "inner" / "m.onnx", save_as_external_data=True, location="m.data",
                    size_threshold=0)
    proto = onnx.load(tmp_path / "inner" / "m.onnx", load_external_data=False)
    for tensor in proto.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../plain.onnx"
    (tmp_path / "inner" / "m.onnx").write_bytes(proto.SerializeToString())
    with pytest.raises(ValueError, match="not a file in the model's folder"):
        load(tmp_path / "inner" / "m.onnx")


def test_a_huge_constant_is_never_allocated(tmp_path):
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"], value=numpy_helper.from_array(
        np.ones(1, np.float32))), helper.make_node("Add", ["x", "big"], ["y"])]
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "shape")
    with pytest.raises(ValueError, match="larger than this file can hold"):
        load(make_model(nodes, [shape], tmp_path))


def test_a_time_major_output_is_refused(tmp_path):
    nodes, weights = rnn_graph(tmp_path)
    nodes[-1] = helper.make_node("Identity", ["ys"], ["y"])
    with pytest.raises(ValueError, match="batch-first"):
        load(make_model(nodes, weights, tmp_path))
